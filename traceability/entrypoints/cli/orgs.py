"""``sunledger orgs ...``: organisations, their premises and API keys."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer

from traceability.entrypoints.cli.console import fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.errors import SunledgerError
from traceability.orgs import repository as org_repository
from traceability.orgs.registry import PREMISES_KINDS, ROLES, Directory, RegistryFields
from traceability.platform import open_platform
from traceability.rules.schemes import DEFAULT_SCHEME, SCHEMES
from traceability.storage.db import transaction

orgs_app = typer.Typer(
    help="Organisations (restaurant, regulator, auditor, admin), premises and API keys.",
    no_args_is_help=True,
)


@orgs_app.command("create")
def create(
    org_id: Annotated[str, typer.Argument(help="e.g. rest-jade-garden")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[str, typer.Option(help=f"One of: {', '.join(ROLES)}.")],
    district: Annotated[
        list[str] | None, typer.Option(help="A district a regulator covers (repeat).")
    ] = None,
    key_label: Annotated[
        str | None, typer.Option(help="Also issue an API key with this label.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Create an organisation (and, with --key-label, its first API key, shown once)."""

    settings = load_settings(data_dir)
    directory = Directory()
    now = datetime.now(UTC)
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            directory.create_organisation(
                session, org_id=org_id, name=name, role=role, districts=district or [], now=now
            )
            issued = (
                None
                if key_label is None
                else directory.issue_key(session, org_id, label=key_label, now=now)
            )
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(f"organisation {org_id} ({role}) created", highlight=False)
    if issued is not None:
        out.print(f"API key {issued.key_id} (shown once, keep it): {issued.token}", highlight=False)


@orgs_app.command("list")
def list_(data_dir: DataDir = None) -> None:
    """Organisations, with their roles, districts and premises."""

    settings = load_settings(data_dir)
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with sessions() as session:
            for org in org_repository.organisations(session):
                premises = org_repository.premises_ids_of(session, org.org_id)
                districts = json.loads(org.districts)
                out.print(
                    f"{org.org_id}\t{org.role}\t{org.status}\t{org.name}"
                    + (f"\tdistricts: {', '.join(districts)}" if districts else "")
                    + (f"\tpremises: {', '.join(premises)}" if premises else ""),
                    highlight=False,
                )
    except SunledgerError as exc:
        raise fail(exc.detail) from None


def _registry_fields(
    external_id: list[str],
    values: dict[str, str | float | None],
    scheme: str,
    inspection_only: bool,
) -> RegistryFields:
    """The registry options as ``RegistryFields``, each checked as the admin API checks it;
    a bad one fails naming its option."""
    pairs: list[tuple[str, str]] = []
    for given in external_id:
        source, sep, value = given.partition("=")
        if not sep:
            raise fail(f"--external-id {given!r}: expected SOURCE=ID, e.g. fhrs=254719")
        pairs.append((source.strip(), value.strip()))
    checks: list[tuple[str, dict[str, object]]] = [
        ("--external-id", {"external_ids": tuple(pairs)}),
        ("--scheme", {"scheme": scheme}),
    ]
    checks += [
        (f"--{name.replace('_', '-')}", {name: value})
        for name, value in values.items()
        if value is not None
    ]
    for option, one in checks:
        try:
            RegistryFields(**one).check()  # type: ignore[arg-type]
        except SunledgerError as exc:
            raise fail(f"{option}: {exc.detail}") from None
    return RegistryFields(
        external_ids=tuple(sorted(pairs)),
        scheme=scheme,
        inspection_only=inspection_only,
        **values,  # type: ignore[arg-type]
    )


@orgs_app.command("add-premises")
def add_premises(
    premises_id: Annotated[str, typer.Argument(help="e.g. p-jade-garden-1")],
    org: Annotated[str, typer.Option(help="The restaurant organisation that runs it.")],
    name: Annotated[str, typer.Option()],
    district: Annotated[str, typer.Option()],
    address: Annotated[str, typer.Option()],
    licence: Annotated[
        str | None,
        typer.Option(help="Food business licence number (optional where the source has none)."),
    ] = None,
    issued: Annotated[str | None, typer.Option(help="Licence issue date, YYYY-MM-DD.")] = None,
    kind: Annotated[str, typer.Option(help=f"One of: {', '.join(PREMISES_KINDS)}.")] = (
        "restaurant"
    ),
    expires: Annotated[str | None, typer.Option(help="Licence expiry, YYYY-MM-DD.")] = None,
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Asia/Shanghai",
    first_shift: Annotated[str, typer.Option(help="Local HH:MM the first shift starts.")] = (
        "07:00"
    ),
    external_id: Annotated[
        list[str] | None,
        typer.Option(
            help="The premises' id in an outside registry, SOURCE=ID (repeat).", metavar="SOURCE=ID"
        ),
    ] = None,
    city: Annotated[str | None, typer.Option(help="1-100 characters.")] = None,
    region: Annotated[str | None, typer.Option(help="State, province or county.")] = None,
    postal_code: Annotated[str | None, typer.Option(help="1-20 characters.")] = None,
    latitude: Annotated[float | None, typer.Option(help="Degrees, -90 to 90.")] = None,
    longitude: Annotated[float | None, typer.Option(help="Degrees, -180 to 180.")] = None,
    phone: Annotated[str | None, typer.Option(help="1-40 characters.")] = None,
    business_type: Annotated[
        str | None, typer.Option(help="As the registry names it, e.g. 'Restaurant/Cafe/Canteen'.")
    ] = None,
    scheme: Annotated[
        str, typer.Option(help=f"Inspection scheme, one of: {', '.join(SCHEMES)}.")
    ] = DEFAULT_SCHEME,
    inspection_only: Annotated[
        bool,
        typer.Option(
            "--inspection-only",
            help="Known from inspections only: no probes, no daily records, no record alerts.",
        ),
    ] = False,
    data_dir: DataDir = None,
) -> None:
    """Register premises with their district and address, and what outside registries carry
    (licence, external ids, address parts, coordinates, phone, business type, scheme)."""

    registry = _registry_fields(
        external_id or [],
        {
            "city": city,
            "region": region,
            "postal_code": postal_code,
            "latitude": latitude,
            "longitude": longitude,
            "phone": phone,
            "business_type": business_type,
        },
        scheme,
        inspection_only,
    )
    settings = load_settings(data_dir)
    try:
        issued_on = None if issued is None else date.fromisoformat(issued)
        expires_on = None if expires is None else date.fromisoformat(expires)
    except ValueError as exc:
        raise fail(f"a licence date is not YYYY-MM-DD: {exc}") from None
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            Directory().add_premises(
                session,
                premises_id=premises_id,
                org_id=org,
                name=name,
                kind=kind,
                licence_number=licence,
                licence_issued_on=issued_on,
                licence_expires_on=expires_on,
                district=district,
                address=address,
                timezone=timezone,
                first_shift=first_shift,
                registry=registry,
                now=datetime.now(UTC),
            )
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(
        f"premises {premises_id} of {org} registered in district {district}"
        + (f" (scheme {scheme})" if scheme != DEFAULT_SCHEME else "")
        + (", inspection only" if inspection_only else ""),
        highlight=False,
    )


@orgs_app.command("issue-key")
def issue_key(
    org_id: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="What the key is for, e.g. 'front desk tablet'.")],
    valid_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Expire after this many days.")
    ] = None,
    data_dir: DataDir = None,
) -> None:
    """Issue an API key. It is printed once; only its hash is stored."""

    settings = load_settings(data_dir)
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            issued = Directory().issue_key(
                session,
                org_id,
                label=label,
                now=datetime.now(UTC),
                valid_for=None if valid_days is None else timedelta(days=valid_days),
            )
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    until = "" if issued.expires_at is None else f", expires {issued.expires_at:%Y-%m-%d}"
    out.print(f"API key {issued.key_id} for {org_id}{until} (shown once, keep it):")
    out.print(issued.token, highlight=False)


@orgs_app.command("revoke-key")
def revoke_key(key_id: Annotated[str, typer.Argument()], data_dir: DataDir = None) -> None:
    """Revoke an API key at once."""

    settings = load_settings(data_dir)
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            row = Directory().revoke_key(session, key_id, datetime.now(UTC))
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(f"API key {key_id} of {row.org_id} revoked", highlight=False)


@orgs_app.command("set-webhook")
def set_webhook(
    org_id: Annotated[str, typer.Argument()],
    url: Annotated[str | None, typer.Option(help="http(s) URL; omit to turn webhooks off.")] = None,
    data_dir: DataDir = None,
) -> None:
    """Send this organisation's alert notifications to a URL, signed with HMAC-SHA256."""

    settings = load_settings(data_dir)
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        with transaction(sessions) as session:
            secret = Directory().set_webhook(session, org_id, url)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    if secret is None:
        out.print(f"webhooks of {org_id} are off", highlight=False)
    else:
        out.print(
            f"webhook of {org_id}: {url}; HMAC secret (shown once): {secret}", highlight=False
        )
