"""The demo city wired to the processes: its seeding and its live data get the vision
checker (``vision_checker.demo_vision``) and the worker's anchoring tick here, so the
demo package imports neither the checker nor an entry point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from traceability.demo.data_dir import SeedSummary
from traceability.demo.live import LiveStats, serve_city
from traceability.demo.scenario import Scenario
from traceability.demo.seed import seed_city
from traceability.entrypoints.vision_checker import demo_vision
from traceability.entrypoints.worker import run_anchor_tick
from traceability.platform import Platform
from traceability.settings import Settings


def seed_demo_city(
    platform: Platform,
    scenario: Scenario,
    *,
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SeedSummary:
    """Seed the scenario's week into the platform's data directory (``demo.seed``); its
    anchoring ticks run on the same platform."""
    return seed_city(
        platform,
        scenario,
        vision=demo_vision(),
        anchor_tick=lambda: run_anchor_tick(platform, force=True),
        now=now,
        on_progress=on_progress,
    )


def serve_demo_city(
    settings: Settings,
    platform: Platform,
    scenario: Scenario,
    host: str,
    port: int,
    *,
    seconds: float | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> tuple[int, LiveStats]:
    """Serve the site with live probes and cameras (``demo.live``), the cameras' results
    written through ``platform``."""
    return serve_city(
        settings,
        platform,
        scenario,
        host,
        port,
        vision=demo_vision(),
        seconds=seconds,
        on_ready=on_ready,
    )
