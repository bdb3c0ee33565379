"""Watching live cameras (``sunledger vision run``), and analysing an uploaded clip.

One thread per camera reads its source, runs the pipeline and hands a batch to
the sink (``traceability.cameras.observations``) every ``batch_seconds`` (at once
when a violation is raised). While a stream is down the source retries with
backoff and the camera's ``OfflineTracker`` raises ``camera_offline`` after
``offline_minutes``. Setting ``stop`` ends
every thread after its current frame or wait (reads time out after 5 s).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from kitchen_vision.config import CameraConfig
from kitchen_vision.handover import CameraLogger, CameraReport
from kitchen_vision.pipeline import FrameResult, Pipeline
from kitchen_vision.rules import offline_violation
from kitchen_vision.sources import (
    Clock,
    OfflineTracker,
    StreamSource,
    VideoFileSource,
    open_source,
    utc_now,
)
from traceability.cameras.observations import LoggedBatch, ObservationSink, StoveReadings

log = logging.getLogger(__name__)


class CameraWatch:
    def __init__(
        self,
        config: CameraConfig,
        sink: ObservationSink,
        stop: threading.Event,
        *,
        stove_probe: StoveReadings | None = None,
        batch_seconds: float = 5.0,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self.stove_probe = stove_probe
        self.stop = stop
        self.batch = timedelta(seconds=batch_seconds)
        self.clock = clock
        self.ledger = CameraLogger(CameraReport(config), sink)
        self.tracker = OfflineTracker(timedelta(minutes=config.thresholds.offline_minutes), clock())
        self.totals = LoggedBatch()
        self.frames = 0

    def _flush(self, results: Sequence[FrameResult], now: datetime, offline: bool = False) -> None:
        violations = []
        if offline:
            since = self.tracker.last_frame_at
            violations.append(offline_violation(self.config, since, now))
        logged = self.ledger.record(results, now, offline=violations)
        self.totals.events += logged.events
        self.totals.observations_logged += logged.observations_logged
        self.totals.alerts_opened += logged.alerts_opened
        self.totals.already_open += logged.already_open

    def _outage(self, now: datetime) -> None:
        if self.config.enabled("offline") and self.tracker.check(now) is not None:
            log.warning(
                "camera %s offline since %s", self.config.camera_id, self.tracker.last_frame_at
            )
            self._flush([], now, offline=True)

    def run(self) -> LoggedBatch:
        if self.config.source is None:
            raise ValueError(f"camera {self.config.camera_id} has no source")
        source = open_source(
            self.config.source,
            sample_fps=self.config.sample_fps,
            frame_width=self.config.frame_width,
            start=self.config.start_time,
        )
        if isinstance(source, StreamSource):
            source.stop = self.stop
            source.sleep = self.stop.wait
            source.clock = self.clock
            source.on_outage = self._outage
        pipeline = Pipeline(self.config, stove_probe=self.stove_probe)
        pending: list[FrameResult] = []
        last_flush = self.clock()
        for result in pipeline.run(source.frames()):
            now = self.clock()
            self.frames += 1
            self.tracker.frame(now)
            pending.append(result)
            if result.violations or now - last_flush >= self.batch:
                self._flush(pending, now)
                pending, last_flush = [], now
            if self.stop.is_set():
                break
        if pending:
            self._flush(pending, self.clock())
        return self.totals


def watch_cameras(
    configs: Sequence[CameraConfig],
    sink: ObservationSink,
    stop: threading.Event,
    *,
    stove_probe: StoveReadings | None = None,
) -> dict[str, dict[str, Any]]:
    """Watch every camera until ``stop`` is set (file sources end on their own)."""
    outcome: dict[str, dict[str, Any]] = {}

    def one(config: CameraConfig) -> None:
        watch = CameraWatch(config, sink, stop, stove_probe=stove_probe)
        try:
            totals = watch.run()
            outcome[config.camera_id] = {"frames": watch.frames, **asdict(totals)}
        except Exception as exc:
            log.exception("camera %s stopped", config.camera_id)
            outcome[config.camera_id] = {"frames": watch.frames, "error": str(exc)}

    threads = [
        threading.Thread(target=one, args=(c,), name=f"camera-{c.camera_id}", daemon=True)
        for c in configs
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        while thread.is_alive():
            thread.join(timeout=0.5)
    return outcome


def analyze_clip(
    config: CameraConfig,
    path: Path,
    sink: ObservationSink,
    *,
    stove_probe: StoveReadings | None = None,
) -> dict[str, Any]:
    """Run a camera's checker over a clip file and hand the results to ``sink`` (the
    Celery task for uploaded clips). The clip's first frame is taken at the config's
    ``start_time``; the clip does not count as the camera being online."""
    source = VideoFileSource(
        path, sample_fps=config.sample_fps, frame_width=config.frame_width, start=config.start_time
    )
    pipeline = Pipeline(config, stove_probe=stove_probe)
    ledger = CameraLogger(CameraReport(config, live=False), sink)
    totals = LoggedBatch()
    frames = 0
    pending: list[FrameResult] = []

    def flush() -> None:
        logged = ledger.record(pending, utc_now())
        totals.events += logged.events
        totals.observations_logged += logged.observations_logged
        totals.alerts_opened += logged.alerts_opened
        totals.already_open += logged.already_open
        pending.clear()

    for result in pipeline.run(source.frames()):
        frames += 1
        pending.append(result)
        if len(pending) >= 100 or result.violations:
            flush()
    if pending:
        flush()
    return {"frames": frames, **asdict(totals)}
