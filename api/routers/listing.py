"""The public list of premises, searched by name, address and district (the landing page)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.deps import SessionDep
from traceability.public_record.listing import MAX_PER_PAGE, MAX_QUERY, premises_list

router = APIRouter(tags=["public"])


@router.get("/v1/public/premises")
def list_premises(
    session: SessionDep,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY, description="Text in the name, address or district."),
    ] = None,
    district: Annotated[
        str | None, Query(min_length=1, max_length=64, description="Only this district.")
    ] = None,
    page: Annotated[int, Query(ge=1, le=100_000, description="Page number, from 1.")] = 1,
    per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = 20,
) -> dict[str, Any]:
    """Premises by name, each with its current grade and its open problems (alerts not
    closed: how many, of class 1, overdue, with a yellow or red card), and the total count.
    The registry's and the platform's view: each premises' page verifies its items."""
    now = datetime.now(UTC).replace(microsecond=0)
    return premises_list(session, text=q, district=district, page=page, per_page=per_page, now=now)
