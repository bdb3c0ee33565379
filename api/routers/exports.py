"""Exports: EPCIS 2.0 documents, FSMA 204 lot spreadsheets, and the open inspection data.

Access: an EPCIS document names one premises, so it needs read access to it (403
otherwise). A lot spreadsheet is a search by lot code across premises, so it is filtered to
what the caller may read (another district's lot gives a header-only CSV, not a 403).
The open-data inspection dataset is public.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session

from api.auth import PrincipalDep, directory
from api.deps import SessionDep
from api.pagination import Page, paged
from traceability.exports import epcis, fsma204, open_data
from traceability.exports.period import period

router = APIRouter(tags=["exports"])

OPEN_DATA_MAX_LIMIT = 5_000
ANY_LENGTH = 1_000_000
_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"

From = Annotated[date, Query(alias="from", description="First day (inclusive), YYYY-MM-DD")]
To = Annotated[date, Query(alias="to", description="Last day (inclusive), YYYY-MM-DD")]


def proof_base(request: Request) -> str:
    """Where proof bundles are served, as the caller reached us: ``.../v1/proofs/``."""
    return str(request.base_url).rstrip("/") + "/v1/proofs/"


@router.get(
    "/v1/exports/epcis",
    response_class=JSONResponse,
    responses={200: {"content": {"application/ld+json": {}}}},
)
def epcis_document(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    premises_id: Annotated[str, Query(pattern=_ID, max_length=64)],
    first: From,
    last: To,
) -> JSONResponse:
    """An EPCIS 2.0 JSON-LD ``EPCISDocument`` of one premises over at most 31 of its local
    days: receipts (bizStep receiving), probe readings (sensor_reporting, with a
    sensorElementList) and inspections (inspecting), each with its proof link. More than
    10,000 events: 422, ask for a shorter range. Restaurants: own premises; regulators:
    their districts; auditors and admins: all."""
    days = period(first, last, max_days=epcis.MAX_DAYS)
    premises = directory.readable_premises(session, principal, premises_id)
    doc = epcis.export_premises(
        session, premises, days, proof_base=proof_base(request), now=datetime.now(UTC)
    )
    name = f"epcis-{premises_id}-{days.first.isoformat()}-{days.last.isoformat()}.jsonld"
    return JSONResponse(
        doc,
        media_type="application/ld+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/v1/exports/fsma204.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def fsma204_spreadsheet(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    lot_code: Annotated[str, Query(min_length=1, max_length=80)],
    first: From,
    last: To,
    gtin: Annotated[str | None, Query(pattern=r"^[0-9]{8,14}$")] = None,
) -> Response:
    """FSMA 204 style sortable spreadsheet of every traceability event of a lot code
    received between from and to (at most 366 days, 10,000 rows), with each row's proof
    link. Rows are limited to the premises the caller may read: restaurants their own,
    regulators their districts, auditors and admins all."""
    days = period(first, last, max_days=fsma204.MAX_DAYS)
    scope = directory.premises_scope(session, principal)
    text = fsma204.lot_spreadsheet(
        session,
        lot_code=lot_code,
        gtin=gtin,
        days=days,
        premises_ids=scope,
        proof_base=proof_base(request),
    )
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="fsma204.csv"'},
    )


def open_data_page(
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=OPEN_DATA_MAX_LIMIT)] = 1_000,
) -> Page:
    """Like ``PageDep``, with larger pages: datasets are downloaded whole."""
    return Page(offset, limit)


OpenDataPage = Annotated[Page, Depends(open_data_page)]


def _records(
    request: Request,
    session: Session,
    page: Page,
    district: str | None,
    premises_id: str | None,
    first: date | None,
    last: date | None,
) -> list[dict[str, Any]]:
    if first is not None and last is not None:
        period(first, last, max_days=ANY_LENGTH)  # only checks the order of the two days
    return open_data.inspection_records(
        session,
        offset=page.offset,
        limit=page.fetch,
        proof_base=proof_base(request),
        district=district,
        premises_id=premises_id,
        first=first,
        last=last,
    )


District = Annotated[str | None, Query(pattern=_ID, max_length=64)]
PremisesFilter = Annotated[str | None, Query(pattern=_ID, max_length=64)]
OptionalFrom = Annotated[date | None, Query(alias="from")]
OptionalTo = Annotated[date | None, Query(alias="to")]


@router.get(
    "/v1/public/open-data/inspections.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
    tags=["public"],
)
def open_inspections_csv(
    request: Request,
    session: SessionDep,
    page: OpenDataPage,
    district: District = None,
    premises_id: PremisesFilter = None,
    first: OptionalFrom = None,
    last: OptionalTo = None,
) -> Response:
    """One row per official inspection (oldest first) with the premises' current grade
    and the inspection's proof link. Pages of up to 5,000 rows: when more follow, the
    ``Link`` header (rel="next") and ``X-Next-Offset`` say where."""
    records = _records(request, session, page, district, premises_id, first, last)
    body = paged(records, page)
    headers = {"Content-Disposition": 'attachment; filename="inspections.csv"'}
    if body["next_offset"] is not None:
        following = request.url.include_query_params(offset=body["next_offset"], limit=page.limit)
        headers["Link"] = f'<{following}>; rel="next"'
        headers["X-Next-Offset"] = str(body["next_offset"])
    return Response(
        open_data.records_csv(body["items"]),
        media_type="text/csv; charset=utf-8",
        headers=headers,
    )


@router.get("/v1/public/open-data/inspections.json", tags=["public"])
def open_inspections_json(
    request: Request,
    session: SessionDep,
    page: OpenDataPage,
    district: District = None,
    premises_id: PremisesFilter = None,
    first: OptionalFrom = None,
    last: OptionalTo = None,
) -> dict[str, Any]:
    """The same dataset as JSON: ``{"items", "offset", "limit", "next_offset"}``."""
    records = _records(request, session, page, district, premises_id, first, last)
    return paged(records, page)
