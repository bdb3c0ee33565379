"""The vision checker (``kitchen_vision``) wired to the platform: the only place outside
the CLI's ``vision`` commands where ``traceability`` imports it.

The checker hands its batches to a ``LedgerSink`` (``traceability.cameras.registry``) and reads
stove probes through ``LoggedStoveProbe``; the demo gets the checker as a
``DemoVision``; the worker's uploaded-clip task reads the camera's registered
configuration here. ``kitchen_vision`` is imported inside the functions, so the
processes that never run it do not load OpenCV.
"""

from __future__ import annotations

import importlib
import json
import threading
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from traceability.cameras.observations import ObservationSink, StoveReadings
from traceability.cameras.registry import CameraRegistry
from traceability.cameras.vision_ledger import LedgerSink, VisionLedger
from traceability.demo.vision import AnalysedClip, DemoVision, VisionMissing
from traceability.public_record.stove_readings import LoggedStoveProbe
from traceability.transparency.log import TransparencyLog


class KitchenVisionDemo:
    """``DemoVision`` by the vision checker."""

    def camera_config(self, raw: dict[str, Any]) -> dict[str, Any]:
        from kitchen_vision.config import parse_config

        return parse_config(raw).to_json()

    def analyse_clip(self, config: dict[str, Any], clip: Path, start: datetime) -> AnalysedClip:
        from kitchen_vision.config import parse_config
        from kitchen_vision.handover import CameraReport
        from kitchen_vision.pipeline import Pipeline
        from kitchen_vision.sources import VideoFileSource

        camera = parse_config(config)
        source = VideoFileSource(
            clip, sample_fps=camera.sample_fps, frame_width=camera.frame_width, start=start
        )
        results = list(Pipeline(camera).run(source.frames()))
        rules = sorted({v.rule for r in results for v in r.violations})
        batch = CameraReport(camera, live=False).batch(results)
        return AnalysedClip(frames=len(results), rules=rules, batch=batch)

    def is_open(self, config: dict[str, Any], at: datetime) -> bool:
        from kitchen_vision.config import parse_config

        camera = parse_config(config)
        return camera.opening_hours.is_open(at.astimezone(camera.zone_info))

    def watch_clip(
        self,
        config: dict[str, Any],
        clip: Path,
        start: datetime,
        sink: ObservationSink,
        stove_probe: StoveReadings,
        stop: threading.Event,
    ) -> None:
        from kitchen_vision.config import parse_config
        from kitchen_vision.watch import CameraWatch

        camera = replace(parse_config(config), source=str(clip), start_time=start)
        CameraWatch(camera, sink, stop, stove_probe=stove_probe).run()


def demo_vision() -> DemoVision | VisionMissing:
    """The checker for the demo, or why it cannot run here (its imports failed)."""
    try:
        for module in ("config", "handover", "pipeline", "sources", "watch"):
            importlib.import_module(f"kitchen_vision.{module}")
    except ImportError as exc:
        return VisionMissing(str(exc))
    return KitchenVisionDemo()


def analyze_uploaded_clip(
    sessions: sessionmaker[Session],
    transparency_log: TransparencyLog,
    camera_id: str,
    path: Path,
    start: datetime | None = None,
) -> dict[str, Any]:
    """Run a registered camera's checker over a clip file and log the results (the Celery
    task for uploaded clips). The clip's first frame is taken at ``start`` (default: the
    configuration's start time, else now)."""
    from kitchen_vision.config import parse_config
    from kitchen_vision.watch import analyze_clip

    with sessions() as session:
        row = CameraRegistry().get(session, camera_id)
        config = parse_config(json.loads(row.config))
    if start is not None:
        config = replace(config, start_time=start)
    sink = LedgerSink(sessions, VisionLedger(transparency_log))
    analysed = analyze_clip(config, path, sink, stove_probe=LoggedStoveProbe(sessions))
    return {"camera_id": camera_id, **analysed}
