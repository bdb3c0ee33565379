"""Organisations, premises and API keys; who may see and change what.

Roles (DESIGN.md, "Roles and auth"): a ``restaurant`` reads and writes only its
own premises, a ``regulator`` only the premises of its districts, an
``auditor`` reads everything a regulator could (read-only), and ``admin``
runs the platform. API keys are ``slk_<key id>_<secret>``; only the SHA-256 of
the secret is stored, so a key is shown once, when it is issued.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.orm import Session

from traceability.errors import Conflict, Forbidden, Invalid, NotFound, Unauthenticated
from traceability.messages import message
from traceability.orgs import repository as repo
from traceability.rules.schemes import load_scheme
from traceability.storage.models import (
    ApiKeyRow,
    OrganisationRow,
    PremisesExternalIdRow,
    PremisesRow,
)
from traceability.storage.premises_search import search_text
from traceability.transparency.events import as_utc

ROLES = ("restaurant", "regulator", "auditor", "admin")
PREMISES_KINDS = (
    "restaurant",
    "canteen",
    "school_canteen",
    "central_kitchen",
    "bakery",
    "food_producer",
    "street_stall",
)
LICENCE_STATUSES = ("valid", "suspended", "revoked", "expired")
KEY_PREFIX = "slk_"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_DISTRICT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SOURCE = re.compile(r"^[a-z0-9][a-z0-9._:-]{0,39}$")
_SHIFT = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_KEY = re.compile(r"^slk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: the organisation behind an API key, with its role and reach."""

    org_id: str
    role: str
    key_id: str
    districts: frozenset[str] = frozenset()

    @property
    def actor(self) -> str:
        """How the log names this caller in a transition: ``org/key``."""
        return f"{self.org_id}/{self.key_id}"

    def require(self, *roles: str) -> None:
        if self.role not in roles:
            raise Forbidden(
                message(
                    "auth.role_required",
                    text=f"this needs the role {' or '.join(roles)}; key {self.key_id} of "
                    f"{self.org_id} is {self.role}",
                    roles=list(roles),
                    key_id=self.key_id,
                    org_id=self.org_id,
                    role=self.role,
                )
            )


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    token: str
    """The whole key; it is not stored and cannot be shown again."""
    org_id: str
    expires_at: datetime | None


@dataclass(frozen=True)
class RegistryFields:
    """What outside registries carry about a premises (all optional): ids per source,
    address parts, coordinates, phone, business type; the inspection scheme it follows;
    whether it is known from inspections only (no probes, no daily records here)."""

    external_ids: tuple[tuple[str, str], ...] = ()
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    business_type: str | None = None
    scheme: str = "cn"
    inspection_only: bool = False

    def check(self) -> None:
        load_scheme(self.scheme)
        for source, external_id in self.external_ids:
            if not _SOURCE.match(source) or not 1 <= len(external_id) <= 100:
                raise Invalid(
                    f"external id {source}:{external_id} needs a source of 1-40 of a-z, 0-9, "
                    "'.', '_', ':', '-' and an id of 1-100 characters"
                )
        if len({s for s, _ in self.external_ids}) != len(self.external_ids):
            raise Invalid("one external id per source")
        if self.latitude is not None and not -90 <= self.latitude <= 90:
            raise Invalid(f"latitude {self.latitude} is outside ±90")
        if self.longitude is not None and not -180 <= self.longitude <= 180:
            raise Invalid(f"longitude {self.longitude} is outside ±180")
        for what, value, limit in (
            ("city", self.city, 100),
            ("region", self.region, 100),
            ("postal_code", self.postal_code, 20),
            ("phone", self.phone, 40),
            ("business_type", self.business_type, 100),
        ):
            if value is not None and not 1 <= len(value) <= limit:
                raise Invalid(f"{what} must be 1-{limit} characters")


def _check_id(what: str, value: str) -> None:
    if not _ID.match(value):
        raise Invalid(f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-'")


def secret_digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def can_read(principal: Principal, premises: PremisesRow) -> bool:
    if principal.role in ("admin", "auditor"):
        return True
    if principal.role == "regulator":
        return premises.district in principal.districts
    return premises.org_id == principal.org_id


def can_write(principal: Principal, premises: PremisesRow) -> bool:
    """Restaurant data (records, rectification) is written by the restaurant itself."""
    return principal.role == "restaurant" and premises.org_id == principal.org_id


def can_supervise(principal: Principal, premises: PremisesRow) -> bool:
    """Regulator acts (inspections, grades, closing alerts): its own districts only."""
    return principal.role == "regulator" and premises.district in principal.districts


class Directory:
    """Registers organisations, premises and keys; authenticates keys; answers access.

    Services flush; callers commit.
    """

    def create_organisation(
        self,
        session: Session,
        *,
        org_id: str,
        name: str,
        role: str,
        districts: Sequence[str] = (),
        now: datetime,
    ) -> OrganisationRow:
        _check_id("org_id", org_id)
        if role not in ROLES:
            raise Invalid(f"role {role!r} is not one of {', '.join(ROLES)}")
        if not name.strip() or len(name) > 200:
            raise Invalid("name must be 1-200 characters")
        for district in districts:
            if not _DISTRICT.match(district):
                raise Invalid(f"district {district!r} is not a valid district code")
        if role == "regulator" and not districts:
            raise Invalid("a regulator needs at least one district")
        if role != "regulator" and districts:
            raise Invalid("only a regulator has districts")
        if repo.organisation(session, org_id) is not None:
            raise Conflict(f"organisation {org_id} already exists")
        row = OrganisationRow(
            org_id=org_id,
            name=name.strip(),
            role=role,
            districts=json.dumps(sorted(set(districts))),
            status="active",
            created_at=now,
        )
        repo.add(session, row)
        return row

    def organisation(self, session: Session, org_id: str) -> OrganisationRow:
        row = repo.organisation(session, org_id)
        if row is None:
            raise NotFound(f"no organisation {org_id}")
        return row

    def set_webhook(self, session: Session, org_id: str, url: str | None) -> str | None:
        """Point the organisation's alert webhook at ``url`` (None: off); return the new
        HMAC secret, shown once."""
        row = self.organisation(session, org_id)
        if url is None:
            row.webhook_url = None
            row.webhook_secret = None
            session.flush()
            return None
        if not re.match(r"^https?://[^\s]{1,490}$", url):
            raise Invalid(f"webhook url {url!r} must be an http(s) URL")
        row.webhook_url = url
        row.webhook_secret = secrets.token_urlsafe(32)
        session.flush()
        return row.webhook_secret

    def add_premises(
        self,
        session: Session,
        *,
        premises_id: str,
        org_id: str,
        name: str,
        kind: str,
        licence_number: str | None,
        licence_issued_on: date | None,
        district: str,
        address: str,
        licence_expires_on: date | None = None,
        licence_status: str = "valid",
        timezone: str = "Asia/Shanghai",
        first_shift: str = "07:00",
        registry: RegistryFields | None = None,
        now: datetime,
    ) -> PremisesRow:
        _check_id("premises_id", premises_id)
        owner = self.organisation(session, org_id)
        if owner.role != "restaurant":
            raise Invalid(
                f"premises belong to a restaurant organisation; {org_id} is a {owner.role}"
            )
        if kind not in PREMISES_KINDS:
            raise Invalid(f"kind {kind!r} is not one of {', '.join(PREMISES_KINDS)}")
        if licence_status not in LICENCE_STATUSES:
            raise Invalid(f"licence status {licence_status!r} is not one of {LICENCE_STATUSES}")
        if licence_number is not None and not re.match(
            r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$", licence_number
        ):
            raise Invalid(f"licence number {licence_number!r} is not valid")
        fields = registry or RegistryFields()
        fields.check()
        if not _DISTRICT.match(district):
            raise Invalid(f"district {district!r} is not a valid district code")
        if not name.strip() or len(name) > 200 or not address.strip() or len(address) > 300:
            raise Invalid("name (1-200) and address (1-300 characters) are required")
        if not _SHIFT.match(first_shift):
            raise Invalid(f"first_shift {first_shift!r} must be HH:MM")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(f"timezone {timezone!r} is not an IANA time zone") from None
        if (
            licence_expires_on is not None
            and licence_issued_on is not None
            and licence_expires_on < licence_issued_on
        ):
            raise Invalid("the licence expires before it was issued")
        if repo.premises(session, premises_id) is not None:
            raise Conflict(f"premises {premises_id} already exists")
        if (
            licence_number is not None
            and repo.premises_by_licence(session, licence_number) is not None
        ):
            raise Conflict(f"licence {licence_number} is already registered to other premises")
        for source, external_id in fields.external_ids:
            holder = repo.premises_by_external_id(session, source, external_id)
            if holder is not None:
                raise Conflict(f"{source} id {external_id} already names premises {holder}")
        row = PremisesRow(
            premises_id=premises_id,
            org_id=org_id,
            name=name.strip(),
            kind=kind,
            licence_number=licence_number,
            licence_status=licence_status,
            licence_issued_on=licence_issued_on,
            licence_expires_on=licence_expires_on,
            district=district,
            address=address.strip(),
            timezone=timezone,
            first_shift=first_shift,
            created_at=now,
            city=fields.city,
            region=fields.region,
            postal_code=fields.postal_code,
            latitude=fields.latitude,
            longitude=fields.longitude,
            phone=fields.phone,
            business_type=fields.business_type,
            scheme=fields.scheme,
            inspection_only=fields.inspection_only,
        )
        repo.add(session, row)
        for source, external_id in fields.external_ids:
            repo.add(
                session,
                PremisesExternalIdRow(
                    source=source, external_id=external_id, premises_id=premises_id
                ),
            )
        return row

    def issue_key(
        self,
        session: Session,
        org_id: str,
        *,
        label: str,
        now: datetime,
        valid_for: timedelta | None = None,
    ) -> IssuedKey:
        org = self.organisation(session, org_id)
        if org.status != "active":
            raise Conflict(f"organisation {org_id} is {org.status}")
        if not label.strip() or len(label) > 100:
            raise Invalid("label must be 1-100 characters")
        key_id = secrets.token_hex(8)
        secret = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        expires = None if valid_for is None else now + valid_for
        repo.add(
            session,
            ApiKeyRow(
                key_id=key_id,
                org_id=org_id,
                secret_sha256=secret_digest(secret),
                label=label.strip(),
                created_at=now,
                expires_at=expires,
            ),
        )
        return IssuedKey(key_id, f"{KEY_PREFIX}{key_id}_{secret}", org_id, expires)

    def revoke_key(self, session: Session, key_id: str, now: datetime) -> ApiKeyRow:
        row = repo.api_key(session, key_id)
        if row is None:
            raise NotFound(f"no API key {key_id}")
        if row.revoked_at is None:
            row.revoked_at = now
            session.flush()
        return row

    def authenticate(self, session: Session, token: str, now: datetime) -> Principal:
        """The principal behind a presented key. Raises ``Unauthenticated`` saying why."""
        match = _KEY.match(token)
        if match is None:
            raise Unauthenticated(message("auth.key_malformed"))
        key_id, secret = match.groups()
        row = repo.api_key(session, key_id)
        if row is None or not hmac.compare_digest(bytes(row.secret_sha256), secret_digest(secret)):
            raise Unauthenticated(message("auth.key_unknown", key_id=key_id))
        if row.revoked_at is not None:
            raise Unauthenticated(message("auth.key_revoked", key_id=key_id))
        if row.expires_at is not None and as_utc(row.expires_at) <= as_utc(now):
            raise Unauthenticated(message("auth.key_expired", key_id=key_id))
        org = repo.organisation(session, row.org_id)
        if org is None or org.status != "active":
            raise Unauthenticated(message("auth.org_inactive", key_id=key_id))
        return Principal(
            org_id=org.org_id,
            role=org.role,
            key_id=key_id,
            districts=frozenset(json.loads(org.districts)),
        )

    def premises(self, session: Session, premises_id: str) -> PremisesRow:
        row = repo.premises(session, premises_id)
        if row is None:
            raise NotFound(message("premises.not_found", premises_id=premises_id))
        return row

    def readable_premises(
        self, session: Session, principal: Principal, premises_id: str
    ) -> PremisesRow:
        row = self.premises(session, premises_id)
        if not can_read(principal, row):
            raise Forbidden(
                message("premises.read_forbidden", org_id=principal.org_id, premises_id=premises_id)
            )
        return row

    def writable_premises(
        self, session: Session, principal: Principal, premises_id: str
    ) -> PremisesRow:
        row = self.premises(session, premises_id)
        if not can_write(principal, row):
            raise Forbidden(
                message(
                    "premises.write_forbidden", org_id=principal.org_id, premises_id=premises_id
                )
            )
        return row

    def supervised_premises(
        self, session: Session, principal: Principal, premises_id: str
    ) -> PremisesRow:
        row = self.premises(session, premises_id)
        if not can_supervise(principal, row):
            raise Forbidden(
                message(
                    "premises.supervise_forbidden", org_id=principal.org_id, premises_id=premises_id
                )
            )
        return row

    def premises_named(
        self,
        session: Session,
        principal: Principal,
        *,
        offset: int,
        limit: int,
        text: str | None = None,
    ) -> Sequence[PremisesRow]:
        """A page of the premises a principal may read, by id (regulators: their districts';
        restaurants: their own; admins and auditors: all); with ``text``, those whose name,
        address or district holds it, by name (the console's and the kitchen's pickers)."""
        text = search_text(text)
        if principal.role in ("admin", "auditor"):
            return repo.premises_list(session, text=text, offset=offset, limit=limit)
        if principal.role == "regulator":
            return repo.premises_list(
                session,
                districts=sorted(principal.districts),
                text=text,
                offset=offset,
                limit=limit,
            )
        return repo.premises_list(
            session, org_id=principal.org_id, text=text, offset=offset, limit=limit
        )

    def premises_reachable(self, session: Session, principal: Principal) -> int:
        """How many premises a principal may read (admins and auditors: every one), counted
        in the database: a sign-in says how many, the pickers search them."""
        if principal.role in ("admin", "auditor"):
            return repo.premises_count(session)
        if principal.role == "regulator":
            return repo.premises_count(session, districts=sorted(principal.districts))
        return repo.premises_count(session, org_id=principal.org_id)

    def premises_scope(self, session: Session, principal: Principal) -> list[str] | None:
        """The premises ids a principal may list (None: all of them)."""
        if principal.role in ("admin", "auditor"):
            return None
        if principal.role == "regulator":
            return [
                p.premises_id
                for p in repo.premises_list(
                    session, districts=sorted(principal.districts), limit=1_000_000
                )
            ]
        return repo.premises_ids_of(session, principal.org_id)
