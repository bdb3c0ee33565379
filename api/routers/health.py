"""Liveness, readiness and metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse
from sqlalchemy import text

from api.deps import PlatformDep, SessionDep
from traceability.entrypoints.operations import metric_samples, prometheus_text, readiness, utc_now

router = APIRouter(tags=["operations"])


@router.get("/healthz")
def healthz(platform: PlatformDep, session: SessionDep) -> dict[str, Any]:
    """The process is up and its database answers."""
    session.execute(text("SELECT 1"))
    return {"status": "ok", "log_size": platform.log.size(session), "origin": platform.log.origin}


@router.get("/readyz")
def readyz(platform: PlatformDep, session: SessionDep) -> JSONResponse:
    """Ready to serve: the database, the broker (if any) and the chain all answer.
    503 names each one that does not."""
    checks = readiness(session, platform.settings)
    ready = all(check.ok for check in checks)
    return JSONResponse(
        status_code=200 if ready else 503,
        content={
            "ready": ready,
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        },
    )


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(platform: PlatformDep, session: SessionDep) -> PlainTextResponse:
    """Prometheus metrics: ingest rate, anchor lag in events and seconds, outbox and task
    queue depths, alert counts by class and status."""
    return PlainTextResponse(
        prometheus_text(metric_samples(session, platform.settings, utc_now())),
        media_type="text/plain; version=0.0.4; charset=utf-8",
    )
