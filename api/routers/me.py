"""Who the presented API key belongs to, and what it may reach (the console's sign-in)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import PrincipalDep, directory
from api.deps import SessionDep
from api.pagination import PageDep, paged

router = APIRouter(prefix="/v1", tags=["account"])


@router.get("/me")
def me(principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    org = directory.organisation(session, principal.org_id)
    return {
        "org_id": principal.org_id,
        "name": org.name,
        "role": principal.role,
        "key_id": principal.key_id,
        "districts": sorted(principal.districts),
        "premises": directory.premises_scope(session, principal),
    }


@router.get("/me/premises")
def my_premises(principal: PrincipalDep, session: SessionDep, page: PageDep) -> dict[str, Any]:
    """The premises the key may reach, with their names and districts (the console and the
    kitchen show names, not ids), by id."""
    rows = directory.premises_named(session, principal, offset=page.offset, limit=page.fetch)
    return paged(
        [
            {
                "premises_id": p.premises_id,
                "name": p.name,
                "district": p.district,
                "address": p.address,
                "licence_issued_on": p.licence_issued_on.isoformat(),
                "timezone": p.timezone,
            }
            for p in rows
        ],
        page,
    )
