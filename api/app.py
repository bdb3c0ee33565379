"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.limits import install_size_limit
from api.routers import (
    admin,
    alerts,
    auditor,
    cameras,
    chain,
    exports,
    health,
    inspection_imports,
    listing,
    me,
    open_data_formats,
    pages,
    probes,
    public,
    regulator,
    restaurants,
    tiles,
    trust,
)
from traceability.platform import Platform
from traceability.settings import Settings


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app on the given settings (default: from the environment), with the one
    platform every request of this process shares."""
    platform = Platform.open(settings or Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        chain.close_gate(app)  # queued chain calls are dropped, its reader process stopped

    app = FastAPI(
        title="Sunshine Ledger",
        version="0.1.0",
        description="Food-safety transparency: a verifiable log of kitchen events.",
        lifespan=lifespan,
    )
    app.state.platform = platform
    app.state.engine = platform.engine
    install_error_handlers(app)
    install_size_limit(app)
    app.include_router(public.record_router)  # first: the most requested path
    app.include_router(health.router)
    app.include_router(tiles.router)
    app.include_router(auditor.router)
    app.include_router(auditor.proofs_router)
    app.include_router(chain.router)
    app.include_router(trust.router)
    app.include_router(probes.router)
    app.include_router(admin.router)
    app.include_router(me.router)
    app.include_router(restaurants.router)
    app.include_router(alerts.router)
    app.include_router(regulator.router)
    app.include_router(pages.router)  # before public: its lot page answers HTML requests
    app.include_router(public.router)
    app.include_router(listing.router)
    app.include_router(exports.router)
    app.include_router(cameras.router)
    app.include_router(inspection_imports.router)
    app.include_router(open_data_formats.router)
    return app
