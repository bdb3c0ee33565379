"""Importing inspection history over HTTP: the admin (any district) and a regulator (its
own districts) post a file as the body; the answer is the per-file report. One file,
one transaction: a file refused as a whole (422) stores nothing. Files over the API's
body limit go through ``sunledger import inspections``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from api.auth import RegulatorDep, get_admin
from api.deps import PlatformDep, SessionDep, follow_up_after_commit
from api.routers.restaurants import body_limited_to
from traceability.errors import Forbidden
from traceability.inspections.history import HistoryImport, ImportOptions
from traceability.inspections.importers.reading import DEFAULT_SCHEMES, read_bytes
from traceability.orgs.registry import Principal

MAX_IMPORT_BYTES = 16 * 1024 * 1024
router = APIRouter(tags=["imports"])

Format = Annotated[str, Query(pattern="^(lives|fhrs|nyc|csv)$")]
Body = Annotated[bytes, Depends(body_limited_to(MAX_IMPORT_BYTES))]


def _run(
    platform: PlatformDep,
    session: SessionDep,
    body: bytes,
    *,
    format: str,
    district: str,
    scheme: str | None,
    encoding: str,
    source: str | None,
    org: str | None,
    authority: str | None,
    timezone: str | None,
    name: str,
    fallback_authority: str | None = None,
) -> dict[str, Any]:
    src = source or format
    parsed = read_bytes(format, name, body, encoding)
    options = ImportOptions(
        scheme=scheme or DEFAULT_SCHEMES[format],
        source=src,
        district=district,
        org_id=org or f"imported-{src.replace(':', '-')}"[:64],
        authority=authority or parsed.authority or fallback_authority,
        timezone=timezone,
        alert_window_days=platform.settings.inspection_alert_window_days,
    )
    report = HistoryImport(platform.log).run(session, name, parsed, options, datetime.now(UTC))
    return report.as_dict()


@router.post("/v1/admin/imports/inspections", status_code=200)
def admin_import(
    format: Format,
    district: Annotated[str, Query(max_length=64)],
    body: Body,
    platform: PlatformDep,
    session: SessionDep,
    _admin: Annotated[Principal, Depends(get_admin)],
    scheme: Annotated[str | None, Query(max_length=32)] = None,
    encoding: Annotated[str, Query(max_length=40)] = "utf-8",
    source: Annotated[str | None, Query(max_length=40)] = None,
    org: Annotated[str | None, Query(max_length=64)] = None,
    authority: Annotated[str | None, Query(max_length=64)] = None,
    timezone: Annotated[str | None, Query(max_length=40)] = None,
    name: Annotated[str, Query(max_length=200)] = "upload",
) -> dict[str, Any]:
    """Import a file of inspection history (LIVES zip or flat CSV, FHRS JSON, NYC CSV, CSV)
    into ``district``. Idempotent: posting the same file again loads nothing new."""
    report = _run(
        platform, session, body, format=format, district=district, scheme=scheme,
        encoding=encoding, source=source, org=org, authority=authority, timezone=timezone,
        name=name,
    )  # fmt: skip
    follow_up_after_commit(platform, session, alerts=bool(report["alerts_opened"]))
    return report


@router.post("/v1/regulator/imports/inspections", status_code=200)
def regulator_import(
    format: Format,
    district: Annotated[str, Query(max_length=64)],
    body: Body,
    principal: RegulatorDep,
    platform: PlatformDep,
    session: SessionDep,
    scheme: Annotated[str | None, Query(max_length=32)] = None,
    encoding: Annotated[str, Query(max_length=40)] = "utf-8",
    source: Annotated[str | None, Query(max_length=40)] = None,
    timezone: Annotated[str | None, Query(max_length=40)] = None,
    name: Annotated[str, Query(max_length=200)] = "upload",
) -> dict[str, Any]:
    """The same, by a regulator, into one of its own districts; the inspections name the
    regulator's organisation unless the file names its authority. The premises go to the
    import's own organisation (``imported-<source>``), never to an existing restaurant's."""
    if district not in principal.districts:
        raise Forbidden(f"{principal.org_id} does not supervise district {district}")
    report = _run(
        platform, session, body, format=format, district=district, scheme=scheme,
        encoding=encoding, source=source, org=None, authority=None, timezone=timezone,
        name=name, fallback_authority=principal.org_id,
    )  # fmt: skip
    follow_up_after_commit(platform, session, alerts=bool(report["alerts_opened"]))
    return report
