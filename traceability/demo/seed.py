"""Seeding the demo city: a week of history, ending now, through the platform's own services.

Nothing is written behind the services' backs. Organisations, premises and
keys go through the directory; probes and gateways through the device
registry with real Ed25519 keys; readings are generated from the simulator's
curves and signed by each premises' gateway, then verified and judged by
``ProbeIntake`` (so the failing fridge's class 1 alert comes from the rules,
not from the demo); records go through the record book (names only as
commitments); alerts move through the alert desk; inspections and grades
through the inspections service; the pest event is found by the vision
checker in a generated night clip; anchoring is the worker's tick on the
embedded chain. The checker and the tick are handed in by the entry point
(``traceability.entrypoints.demo_city``): this package imports neither.

The week is replayed in time order on a simulated clock that ends at the real
"now": every service is handed the simulated instant as its ``now``, so the
log, the alerts and the pages look like a week that really happened. Readings
are uploaded hourly per premises. Story steps that answer an alert (the
restaurant acknowledging, submitting evidence, the regulator closing) are
scheduled when the alert is opened.

A finished seeding writes ``demo-city.json``; a second run finds it and seeds
nothing. A seeding that stopped half-way is detected and refused (``--reset``).

The parts, each its own module: ``city`` (who is who), ``inspections``,
``readings``, ``records``, ``vision`` (the pest night, with the checker the
entry point hands in), ``alerts`` (the story's answers); they share a
``seeding.Seeding`` and its ``timeline.Timeline``. This module runs them in order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from traceability.alerts.escalation import escalate_overdue
from traceability.demo import clips
from traceability.demo import repository as demo_repo
from traceability.demo.alerts import AlertStory
from traceability.demo.city import CityRegistration
from traceability.demo.data_dir import SeedSummary, clip_path, write_marker
from traceability.demo.inspections import InspectionStory
from traceability.demo.readings import ProbeWeek
from traceability.demo.records import RecordWeek
from traceability.demo.scenario import Scenario
from traceability.demo.seeding import Seeding
from traceability.demo.vision import DemoVision, PestNight, VisionMissing
from traceability.errors import Invalid
from traceability.platform import Platform
from traceability.storage.db import transaction

log = logging.getLogger(__name__)

AnchorTick = Callable[[], Mapping[str, Any]]
"""Anchor the log's current checkpoint now (the worker's tick, forced); its report
names ``errors`` if any. The entry point hands it in (``entrypoints.demo_city``)."""


class CitySeeder:
    """Replays the scenario's week into the platform (see the module docstring)."""

    def __init__(
        self,
        platform: Platform,
        scenario: Scenario,
        *,
        vision: DemoVision | VisionMissing,
        anchor_tick: AnchorTick,
        now: datetime | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.seeding = Seeding(platform, scenario, now)
        self.vision = vision
        self.anchor_tick = anchor_tick
        self.on_progress = on_progress

    def run(self) -> SeedSummary:
        s = self.seeding
        began = datetime.now(UTC)
        for kind in clips.CLIPS:
            clips.write_clip(clip_path(s.data_dir, kind), kind)
        with s.sessions() as session:
            before = s.log.size(session)
        alerts = AlertStory(s)
        fleet = CityRegistration(s, self.vision).run()
        inspections = InspectionStory(s, alerts)
        inspections.last_year()
        ProbeWeek(s, fleet, alerts).plan()
        RecordWeek(s, alerts).plan()
        inspections.plan()
        PestNight(s, self.vision, alerts).plan()
        self._plan_anchors()
        total = s.timeline.replay(self.on_progress, extra=2)
        with transaction(s.sessions) as session:
            escalated = escalate_overdue(session, s.log, s.timeline.now)
        s.summary.alerts["escalated"] = len(escalated)
        self._anchor(s.timeline.now)
        with transaction(s.sessions) as session:
            s.log.checkpoint(session, s.signer)
            after = s.log.size(session)
            s.summary.alerts.update(demo_repo.alert_counts(session))
        if self.on_progress is not None:
            self.on_progress(total, total)
        s.summary.events = after - before
        s.summary.seconds = round((datetime.now(UTC) - began).total_seconds(), 1)
        if s.unexpected:
            log.warning("probe alerts outside the story: %s", ", ".join(s.unexpected))
        write_marker(s.data_dir, s.summary)
        return s.summary

    # -- anchoring --------------------------------------------------------------

    def _plan_anchors(self) -> None:
        timeline = self.seeding.timeline
        for day in range(-6, 1):
            timeline.schedule(timeline.at(day, "00:00"), "anchor the day", self._anchor)

    def _anchor(self, _when: datetime) -> None:
        report = self.anchor_tick()
        if report.get("errors"):
            raise Invalid(f"anchoring failed: {report['errors']}")


def seed_city(
    platform: Platform,
    scenario: Scenario,
    *,
    vision: DemoVision | VisionMissing,
    anchor_tick: AnchorTick,
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SeedSummary:
    """Seed the scenario's week through ``platform`` into its data directory (see the
    module docstring); the entry point hands in the platform, the vision checker (or why
    there is none) and the anchoring tick."""
    return CitySeeder(
        platform,
        scenario,
        vision=vision,
        anchor_tick=anchor_tick,
        now=now,
        on_progress=on_progress,
    ).run()
