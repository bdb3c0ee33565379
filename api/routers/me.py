"""Who the presented API key belongs to, and what it may reach (the console's sign-in)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from api.auth import PrincipalDep, directory
from api.deps import SessionDep
from api.pagination import PageDep, paged
from traceability.storage.premises_search import MAX_QUERY

router = APIRouter(prefix="/v1", tags=["account"])


@router.get("/me")
def me(principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """Who the key is, its districts and how many premises it reaches. Not the premises
    themselves: a regulator may reach thousands, and every sign-in asks this; the pickers
    search them with ``GET /v1/me/premises?q=``."""
    org = directory.organisation(session, principal.org_id)
    return {
        "org_id": principal.org_id,
        "name": org.name,
        "role": principal.role,
        "key_id": principal.key_id,
        "districts": sorted(principal.districts),
        "premises_count": directory.premises_reachable(session, principal),
    }


@router.get("/me/premises")
def my_premises(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    q: Annotated[
        str | None,
        Query(max_length=MAX_QUERY, description="Text in the name, address or district."),
    ] = None,
) -> dict[str, Any]:
    """The premises the key may reach, with their names and districts (the console and the
    kitchen show names, not ids), by id; with ``q``, those whose name, address or district
    holds it in any case, by name (the premises pickers search as one types)."""
    rows = directory.premises_named(
        session, principal, offset=page.offset, limit=page.fetch, text=q
    )
    return paged(
        [
            {
                "premises_id": p.premises_id,
                "name": p.name,
                "district": p.district,
                "address": p.address,
                "licence_issued_on": (
                    None if p.licence_issued_on is None else p.licence_issued_on.isoformat()
                ),
                "timezone": p.timezone,
            }
            for p in rows
        ],
        page,
    )
