"""What the demo needs from the vision checker, and the night the pest is seen.

This package never depends on the checker (``kitchen_vision``): the process entry
point builds a :class:`DemoVision` from it (``traceability.entrypoints.vision_checker``)
and hands it in, or a :class:`VisionMissing` saying why it cannot. The pest step
runs the checker over the generated night clip and logs its batch through the
camera ledger, so the alert, its blurred evidence and the observations come from
the checker, not from the demo.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from traceability.cameras.observations import CameraBatch, ObservationSink, StoveReadings
from traceability.cameras.registry import CameraRegistry
from traceability.cameras.vision_ledger import VisionLedger
from traceability.demo import clips
from traceability.demo.alerts import AlertStory
from traceability.demo.data_dir import clip_path
from traceability.demo.seeding import Seeding
from traceability.storage.db import transaction


@dataclass(frozen=True)
class AnalysedClip:
    """A clip run through a camera's checker: its one batch, not yet logged."""

    frames: int
    rules: list[str]
    """The rules that raised violations, sorted, each once."""
    batch: CameraBatch


class DemoVision(Protocol):
    """The vision checker as the demo uses it; configurations are the registry's JSON."""

    def camera_config(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The checked configuration, as the registry stores it."""
        ...

    def analyse_clip(self, config: dict[str, Any], clip: Path, start: datetime) -> AnalysedClip:
        """Every frame of ``clip`` (taken from ``start`` on) through the camera's checker,
        as an uploaded clip's batch."""
        ...

    def is_open(self, config: dict[str, Any], at: datetime) -> bool:
        """Whether the camera's kitchen is open at ``at``."""
        ...

    def watch_clip(
        self,
        config: dict[str, Any],
        clip: Path,
        start: datetime,
        sink: ObservationSink,
        stove_probe: StoveReadings,
        stop: threading.Event,
    ) -> None:
        """Watch ``clip`` as the camera's live source (taken from ``start`` on), its
        batches handed to ``sink``, until the clip ends or ``stop`` is set."""
        ...


@dataclass(frozen=True)
class VisionMissing:
    """The checker cannot run here (its imports failed): why."""

    reason: str


class PestNight:
    """The night-time pest event: found by the checker in a generated night clip."""

    def __init__(
        self, seeding: Seeding, vision: DemoVision | VisionMissing, alerts: AlertStory
    ) -> None:
        self.seeding = seeding
        self.vision = vision
        self.alerts = alerts

    def plan(self) -> None:
        pest = self.seeding.scenario.story.pest
        timeline = self.seeding.timeline
        timeline.schedule(timeline.at(pest.day, pest.at), f"night clip of {pest.camera}", self.run)

    def run(self, start: datetime) -> None:
        s = self.seeding
        if isinstance(self.vision, VisionMissing):
            s.summary.vision = f"skipped: {self.vision.reason}"
            return
        camera_id = s.scenario.story.pest.camera
        premises = s.scenario.camera(camera_id)[0]
        with s.sessions() as session:
            row = CameraRegistry().get(session, camera_id)
            config = {**json.loads(row.config), "start_time": start.isoformat()}
        path = clip_path(s.data_dir, "pest")
        analysed = self.vision.analyse_clip(config, path, start)
        now = start + timedelta(seconds=clips.seconds("pest") + 2)
        with transaction(s.sessions) as session:
            logged = VisionLedger(s.log).record(session, analysed.batch, now)
        s.summary.vision = (
            f"{camera_id}: {analysed.frames} frames analysed, "
            f"violations {', '.join(analysed.rules) or 'none'}, "
            f"{len(logged.evidence_sha256)} evidence images (faces blurred)"
        )
        for alert_id in logged.alerts_opened:
            s.story_alerts["pest"] = alert_id
            self.alerts.answer(
                alert_id,
                premises,
                now,
                acknowledge_after=timedelta(hours=6, minutes=30),
                evidence=(
                    "Pest control service report",
                    [
                        "Contractor: Riverside Pest Control",
                        "Inspection of kitchen, store and drains",
                        "Entry point sealed behind the prep counter",
                        "Bait stations: 6 placed, map attached",
                        "Follow-up visit in 14 days",
                    ],
                ),
                submit_after=timedelta(hours=30),
            )
