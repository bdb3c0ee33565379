"""The checker's side of the one interface (``traceability.cameras.observations``): a
watched camera and an uploaded clip hand their results to an ``ObservationSink`` as
plain batches: the notable observations once per episode, each violation with its
blurred evidence, every frame counted; an uploaded clip's batches are not live."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime
from pathlib import Path

import pytest
import scenes
import yaml

from kitchen_vision.config import CameraConfig, parse_config
from kitchen_vision.watch import CameraWatch, analyze_clip
from traceability.cameras.observations import (
    CameraBatch,
    LoggedBatch,
    SeenObservation,
    VisionAlert,
)

START = "2026-11-25T02:00:00+08:00"  # the kitchen is closed: motion is notable, pests too


class RecordingSink:
    """An ``ObservationSink`` that keeps the batches it is handed (no log behind it)."""

    def __init__(self) -> None:
        self.batches: list[tuple[CameraBatch, datetime]] = []

    def record(self, batch: CameraBatch, now: datetime) -> LoggedBatch:
        self.batches.append((batch, now))
        alerts = [f for f in batch.findings if isinstance(f, VisionAlert)]
        return LoggedBatch(
            events=len(batch.findings),
            observations_logged=len(batch.findings) - len(alerts),
            alerts_opened=[f"alert-{a.rule}" for a in alerts],
            alert_rules=[a.rule for a in alerts],
        )


@pytest.fixture(scope="module")
def night_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = scenes.night()
    frames = [scenes.with_sensor_noise(base, i) for i in range(16)]
    frames += [
        scenes.blob(scenes.with_sensor_noise(base, 50 + i), 60 + 12 * i, 300) for i in range(20)
    ]
    path = tmp_path_factory.mktemp("clip") / "night.avi"
    return scenes.write_video(path, frames, fps=4)  # 36 frames, 18 sampled at 2/s


def camera(clip: Path) -> CameraConfig:
    return parse_config(
        yaml.safe_load(
            scenes.kitchen_yaml(
                f'sample_fps: 2\nstart_time: "{START}"\nopening_hours: ["10:00-22:00"]\n'
                f"rules: [tamper, motion, pest]\nsource: {clip}\n"
            )
        )
    )


def findings(sink: RecordingSink) -> list[SeenObservation | VisionAlert]:
    return [f for batch, _now in sink.batches for f in batch.findings]


def test_an_uploaded_clip_hands_in_its_violation_with_evidence_not_live(
    night_clip: Path,
) -> None:
    sink = RecordingSink()
    outcome = analyze_clip(camera(night_clip), night_clip, sink)

    assert outcome["frames"] == 18 == sum(b.frames for b, _ in sink.batches)
    assert outcome["alerts_opened"] == ["alert-pest_suspected"]
    assert all(not b.live for b, _ in sink.batches)
    assert {(b.camera_id, b.premises_id) for b, _ in sink.batches} == {("cam-1", "p-1")}
    alerts = [f for f in findings(sink) if isinstance(f, VisionAlert)]
    assert [a.rule for a in alerts] == ["pest_suspected"]
    (pest,) = alerts
    assert pest.snapshot is not None and pest.clip is not None
    for image in (pest.snapshot, pest.clip):
        assert hashlib.sha256(image.jpeg).hexdigest() == image.sha256
        assert image.face_detector == pest.snapshot.face_detector != ""
    seen = [f for f in findings(sink) if isinstance(f, SeenObservation)]
    # The animal moves on twenty frames at night: one motion episode, handed in once.
    assert [(o.type, o.zone) for o in seen if o.type == "motion"] == [("motion", "prep-1")]
    assert not [o for o in seen if o.type in ("face", "person")]
    # The batch holding the violation was handed in at once: it ends with that frame.
    (with_alert,) = [b for b, _ in sink.batches if any(f is pest for f in b.findings)]
    assert with_alert.newest_frame_at == pest.detected_at


def test_a_watched_camera_hands_in_live_batches_counting_every_frame(night_clip: Path) -> None:
    sink = RecordingSink()
    watch = CameraWatch(camera(night_clip), sink, threading.Event())
    totals = watch.run()

    assert watch.frames == 18 == sum(b.frames for b, _ in sink.batches)
    assert all(b.live for b, _ in sink.batches)
    assert totals.alerts_opened == ["alert-pest_suspected"]
    last, _now = sink.batches[-1]
    assert last.detectors and last.detectors[-1].startswith("blur:")
    newest = [b.newest_frame_at for b, _ in sink.batches]
    assert None not in newest and newest == sorted(newest)
    assert [f.rule for f in findings(sink) if isinstance(f, VisionAlert)] == ["pest_suspected"]
