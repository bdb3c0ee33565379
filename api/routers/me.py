"""Who the presented API key belongs to, and what it may reach (the console's sign-in)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.auth import PrincipalDep, directory
from api.deps import SessionDep

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
