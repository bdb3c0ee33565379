"""Open data in the formats its consumers already read: a LIVES bundle and FHRS-shaped
establishments. Public, like the open-data CSV/JSON; every row names its event and
proof link."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.deps import SessionDep
from api.routers.exports import proof_base
from traceability.exports import fhrs, lives

router = APIRouter(tags=["public"])
_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
District = Annotated[str | None, Query(pattern=_ID, max_length=64)]
Source = Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9._:-]{0,39}$")]


@router.get(
    "/v1/public/open-data/lives.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}},
)
def lives_bundle(
    request: Request,
    session: SessionDep,
    district: District = None,
    scheme: Annotated[str, Query(max_length=32)] = "us-lives",
    source: Source = "lives",
    municipality: Annotated[str, Query(max_length=100)] = "Sunshine Ledger",
) -> Response:
    """A LIVES 1.0 zip (businesses, inspections, violations, legend, feed_info) of the
    inspections under ``scheme``; businesses named by their ``source`` ids."""
    now = datetime.now(UTC)
    tables = lives.lives_tables(
        session,
        scheme=scheme,
        source=source,
        district=district,
        proof_base=proof_base(request),
        municipality=municipality,
        feed_date=now.date(),
    )
    return Response(
        lives.lives_zip(tables),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="lives.zip"'},
    )


@router.get("/v1/public/open-data/fhrs/establishments")
def fhrs_establishments(
    request: Request,
    session: SessionDep,
    district: District = None,
    source: Source = "fhrs",
    page_number: Annotated[int, Query(alias="pageNumber", ge=1, le=1_000_000)] = 1,
    page_size: Annotated[int, Query(alias="pageSize", ge=1, le=fhrs.MAX_PAGE_SIZE)] = 1000,
) -> dict[str, Any]:
    """Establishments as the FHRS API gives them, with ``meta.totalCount`` and
    ``meta.totalPages`` for paging."""
    return fhrs.establishments(
        session,
        page_number=page_number,
        page_size=page_size,
        district=district,
        source=source,
        proof_base=proof_base(request),
        now=datetime.now(UTC),
    )
