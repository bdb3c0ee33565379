"""The probes' week: each probe's readings from its simulator curve (the story's faults
included), signed by the premises' gateway and uploaded hourly through ``ProbeIntake``,
so the rules, not the demo, open the probe alerts; the story answers those it planned."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from traceability.alerts import repository as alert_repo
from traceability.demo.alerts import AlertStory
from traceability.demo.seeding import Seeding
from traceability.devices.intake import ProbeIntake, parse_submission
from traceability.public_record.day_summaries import DaySummaries
from traceability.simulator.curves import (
    COOLING_STALL,
    FAILING_FRIDGE,
    HOT_HOLDING_DROP,
    Curve,
    Fault,
    curve_for,
)
from traceability.simulator.fleet import Fleet, SimDevice
from traceability.simulator.run import rfc3339_ms
from traceability.storage.db import transaction

UPLOAD_EVERY = timedelta(hours=1)

# Seconds between readings, by device kind. Cycle probes (dishwasher rinse, core probe)
# are read often while active (above the threshold) and every BASE_GAP otherwise: the
# rules prove "85 °C held 40 s" or "core 70 °C reached" only from readings.
STEP: dict[str, float] = {
    "fridge": 300,
    "sample_fridge": 300,
    "freezer": 600,
    "hot_holding": 600,
    "room": 600,
}
ACTIVE: dict[str, tuple[float, float]] = {
    # kind: (step while active, active above °C)
    "dishwasher": (15, 58.0),
    "core_probe": (30, 30.0),
    "disinfection_cabinet": (60, 45.0),
}
BASE_GAP = 300.0


class ProbeFeed:
    """One probe's readings over simulated time, from its curve."""

    def __init__(self, device: SimDevice, curve: Curve, start: float) -> None:
        self.device = device
        self.curve = curve
        if device.kind in ACTIVE:
            self.step, self.active_above = ACTIVE[device.kind]
        else:
            self.step, self.active_above = STEP.get(device.kind, 600.0), math.inf
        offset = device.curve_seed % int(self.step)
        self.t = math.ceil((start - offset) / self.step) * self.step + offset
        self.last = -math.inf
        self.between_cycles = False

    def until(self, end: float) -> Iterator[dict[str, Any]]:
        """Unsigned readings (gateway batch form) measured before ``end``."""
        while self.t < end:
            t = self.t
            self.t += self.step
            if self.curve.silent(t):
                continue
            values = self.curve.values(t)
            if self.active_above != math.inf:
                idle = values[0].value <= self.active_above
                # Switched on between two cycles: a cycle the week starts in the middle of
                # would be judged on its tail alone.
                self.between_cycles = self.between_cycles or idle
                if not self.between_cycles or (idle and t - self.last < BASE_GAP):
                    continue
            self.last = t
            yield self.device.reading(round(t * 1_000_000), rfc3339_ms(t), values)


class ProbeWeek:
    """Plans the hourly uploads of every premises' readings, and answers probe alerts."""

    def __init__(self, seeding: Seeding, fleet: Fleet, alerts: AlertStory) -> None:
        self.seeding = seeding
        self.fleet = fleet
        self.alerts = alerts
        self.intake = ProbeIntake(seeding.log, seeding.signer)
        self.day_summaries = DaySummaries(seeding.log)
        self._feeds: dict[str, list[ProbeFeed]] = {}

    def plan(self) -> None:
        s = self.seeding
        story = s.scenario.story
        faults = {
            story.failing_fridge.device: Fault(
                FAILING_FRIDGE,
                s.timeline.at(story.failing_fridge.day, story.failing_fridge.at).timestamp(),
            ),
            story.hot_holding_drop.device: Fault(
                HOT_HOLDING_DROP,
                s.timeline.at(story.hot_holding_drop.day, story.hot_holding_drop.at).timestamp(),
            ),
            story.cooling_stall.device: Fault(
                COOLING_STALL,
                s.timeline.at(story.cooling_stall.day, story.cooling_stall.at).timestamp(),
            ),
        }
        start = s.timeline.start.timestamp()
        for restaurant in self.fleet.restaurants:
            self._feeds[restaurant.premises_id] = [
                ProbeFeed(
                    device,
                    curve_for(
                        device.kind,
                        device.curve_seed,
                        device.profile,
                        [faults[device.device_id]] if device.device_id in faults else [],
                    ),
                    start,
                )
                for device in restaurant.devices
            ]
        upload = s.timeline.start + UPLOAD_EVERY
        while upload < s.timeline.now:
            s.timeline.schedule(upload, "hourly probe uploads", self._upload)
            upload += UPLOAD_EVERY
        s.timeline.schedule(s.timeline.now, "last probe uploads", self._upload)

    def _upload(self, when: datetime) -> None:
        s = self.seeding
        end = when.timestamp()
        opened: list[str] = []
        with transaction(s.sessions) as session:
            for restaurant in self.fleet.restaurants:
                readings = [
                    r for feed in self._feeds[restaurant.premises_id] for r in feed.until(end)
                ]
                for offset in range(0, len(readings), 1000):
                    chunk = readings[offset : offset + 1000]
                    seq = round(end * 1_000_000) + offset
                    batch = restaurant.gateway.batch(seq, chunk)
                    result = self.intake.accept(session, parse_submission(batch), when)
                    s.summary.readings += result.accepted
                    opened += result.alerts_opened
        with transaction(s.sessions) as session:
            # What the worker's beat does: close ended days, refresh today's running summary.
            self.day_summaries.tick(session, when)
        for alert_id in opened:
            self._answer_probe_alert(alert_id, when)

    def _answer_probe_alert(self, alert_id: str, opened_at: datetime) -> None:
        """Schedule the story's answers to an alert the rules just opened."""
        s = self.seeding
        story = s.scenario.story
        with s.sessions() as session:
            alert = alert_repo.alert(session, alert_id)
            assert alert is not None
            device = alert.subject.removeprefix("device:")
            rule = alert.rule
        if device == story.failing_fridge.device and rule == "cold_holding":
            s.story_alerts["failing_fridge"] = alert_id
            premises = s.scenario.device(device)[0]
            self.alerts.answer(
                alert_id,
                premises,
                opened_at,
                acknowledge_after=timedelta(minutes=35),
                evidence=(
                    "Refrigeration repair report",
                    [
                        f"Unit: {device}",
                        "Fault: compressor start relay failed",
                        "Action: relay and door gasket replaced",
                        "Stock above 8 C for over 2 h discarded (11.5 kg)",
                        "Pull-down test: 3.1 C after 40 min",
                    ],
                ),
                submit_after=timedelta(hours=20),
                close_after=timedelta(hours=44),
            )
        elif device == story.hot_holding_drop.device and rule == "hot_holding":
            s.story_alerts["hot_holding_drop"] = alert_id
            premises = s.scenario.device(device)[0]
            self.alerts.answer(
                alert_id, premises, opened_at, acknowledge_after=timedelta(minutes=25)
            )
        elif device == story.hot_holding_drop.device and rule == "danger_zone":
            s.story_alerts["danger_zone"] = alert_id
        elif device == story.cooling_stall.device and rule == "cooling":
            s.story_alerts["cooling_stall"] = alert_id  # nobody answers: overdue
        else:
            s.unexpected.append(f"{device}:{rule}")
