"""Liveness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlalchemy import text

from api.deps import PlatformDep, SessionDep

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(platform: PlatformDep, session: SessionDep) -> dict[str, Any]:
    """The process is up and its database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok", "log_size": platform.log.size(session), "origin": platform.log.origin}
