"""可视: public kitchen snapshots. Off by default; only while open and every N minutes;
faces blurred by CenterFace or nothing published (no detector, or only the Haar fallback:
withheld, and the log says why); within the byte budget; the hash logged, the image served
by that hash until retention deletes it (the event stays)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import footage
import numpy as np
import pytest
import scenes
import yaml
from seeded_city import City
from sqlalchemy import select

from kitchen_vision.config import ConfigError, parse_config
from kitchen_vision.evidence import load_blurring_detector
from kitchen_vision.faces import FaceDetector
from kitchen_vision.handover import CameraReport
from kitchen_vision.observations import FrameContext
from kitchen_vision.pipeline import Pipeline
from kitchen_vision.snapshots import SnapshotPublisher, SnapshotWithheld
from kitchen_vision.sources import SampledFrame
from traceability.cameras.registry import CameraRegistry, latest_snapshots
from traceability.cameras.vision_ledger import VisionLedger
from traceability.storage.db import transaction
from traceability.storage.models import EventRow, KitchenSnapshotRow

SNAPSHOT = 'opening_hours: ["10:00-14:00"]\ntimezone: UTC\nsnapshot: {every_minutes: 15}\n'
OPEN = datetime(2026, 11, 25, 10, 30, tzinfo=UTC)


def config(extra: str = SNAPSHOT) -> Any:
    return parse_config(yaml.safe_load(scenes.kitchen_yaml(extra)))


def kitchen_with_a_face() -> np.ndarray:
    """The drawn kitchen with a real face (the carphone clip's) at the counter."""
    frame = scenes.kitchen()
    face = cv2.resize(footage.clip("carphone")[0], (264, 216))
    frame[60:276, 40:304] = face
    return frame


def snapshot_events(city: City) -> list[dict[str, Any]]:
    with city.app.state.platform.sessions() as session:
        rows = session.execute(select(EventRow).order_by(EventRow.leaf_index)).scalars()
        bodies = [json.loads(bytes(r.body)) for r in rows]
    return [b for b in bodies if b.get("payload", {}).get("observation") == "kitchen_snapshot"]


@pytest.fixture(scope="module")
def centerface() -> FaceDetector:
    detector, why_not = load_blurring_detector()
    assert isinstance(detector, FaceDetector) and detector.name == "centerface", (
        f"CenterFace (shipped in kitchen_vision/data) is needed for public snapshots: {why_not}"
    )
    return detector


def test_off_by_default() -> None:
    plain = config("")
    assert plain.snapshot is None
    assert Pipeline(plain, face_detector=None).snapshots is None


def test_bad_snapshot_settings_name_the_key() -> None:
    for extra, key in (
        ("snapshot: {}", "snapshot.every_minutes"),
        ("snapshot: {every_minutes: 0}", "snapshot.every_minutes"),
        ("snapshot: {every_minutes: 5, max_bytes: 10}", "snapshot.max_bytes"),
        ("snapshot: {every_minutes: 5, colour: red}", "snapshot"),
    ):
        with pytest.raises(ConfigError, match=key):
            config(extra + "\n")


def test_due_only_while_open_and_every_interval(centerface: FaceDetector) -> None:
    publisher = SnapshotPublisher(config(), centerface)
    assert not publisher.due(OPEN.replace(hour=9))  # closed
    assert publisher.due(OPEN)
    publisher.take(scenes.kitchen(), FrameContext("cam-1", 0, 0.0, OPEN))
    assert not publisher.due(OPEN + timedelta(minutes=14))
    assert publisher.due(OPEN + timedelta(minutes=15))
    assert not publisher.due(OPEN.replace(hour=15))


def test_fails_closed_without_centerface() -> None:
    context = FrameContext("cam-1", 0, 0.0, OPEN)
    none = SnapshotPublisher(config(), None).take(kitchen_with_a_face(), context)
    assert none == SnapshotWithheld(OPEN, "no_face_detector")
    haar = FaceDetector(model_path=Path("/nonexistent/centerface.onnx"))
    fallback = SnapshotPublisher(config(), haar).take(kitchen_with_a_face(), context)
    assert isinstance(fallback, SnapshotWithheld)
    assert (fallback.reason, fallback.detector) == ("fallback_face_detector", haar.name)


def test_faces_are_blurred_and_the_budget_kept(centerface: FaceDetector) -> None:
    small = config('opening_hours: ["10:00-14:00"]\nsnapshot: {every_minutes: 5, max_bytes: 12000}')
    frame = kitchen_with_a_face()
    snap = SnapshotPublisher(small, centerface).take(frame, FrameContext("c", 0, 0.0, OPEN))
    assert not isinstance(snap, SnapshotWithheld)
    assert len(snap.jpeg) <= 12000 and snap.sha256 == hashlib.sha256(snap.jpeg).hexdigest()
    assert snap.faces_blurred >= 1 and snap.face_detector == "centerface"
    decoded = cv2.imdecode(np.frombuffer(snap.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded.shape[1] == snap.width <= 640
    # Nothing of the face is left: the detector finds none in the published picture.
    assert centerface.detect(decoded) == []


def test_published_logged_served_and_deleted_after_retention(
    city: City, centerface: FaceDetector
) -> None:
    platform = city.app.state.platform
    cfg = config(
        'opening_hours: ["10:00-14:00"]\ntimezone: UTC\n'
        "snapshot: {every_minutes: 15, keep_hours: 1}\n"
    )
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session,
            camera_id="cam-1",
            premises_id="p-1",
            name="Kitchen",
            config=cfg.to_json(),
            now=OPEN,
        )
    pipeline = Pipeline(cfg, face_detector=centerface)
    frame = kitchen_with_a_face()
    first = [
        pipeline.process(SampledFrame(i, float(i), frame, OPEN + timedelta(seconds=i)))
        for i in range(3)
    ]
    assert [r.snapshot is not None for r in first] == [True, False, False]
    ledger, report = VisionLedger(platform.log), CameraReport(cfg)
    with transaction(platform.sessions) as session:
        batch = ledger.record(session, report.batch(first), OPEN + timedelta(seconds=5))
    [sha] = batch.snapshots_published

    image = city.client.get(f"/v1/public/snapshots/{sha}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/jpeg"
    assert hashlib.sha256(image.content).hexdigest() == sha
    assert city.client.get(f"/v1/public/snapshots/{'0' * 64}").status_code == 404
    assert city.client.get("/v1/public/snapshots/nothex").status_code == 422

    logged = snapshot_events(city)
    assert [b["payload"]["evidence_sha256"] for b in logged] == [sha]
    assert logged[0]["payload"]["detector"] == "centerface"

    with platform.sessions() as session:
        [shown] = latest_snapshots(session, "p-1", OPEN + timedelta(minutes=20))
        assert shown["recent"] and shown["latest"]["sha256"] == sha
        [stale] = latest_snapshots(session, "p-1", OPEN + timedelta(minutes=31))
        assert not stale["recent"]  # nothing for two intervals: the page says so
    record = city.client.get("/v1/public/restaurants/p-1").json()
    [camera] = record["snapshots"]["cameras"]
    assert camera["latest"]["sha256"] == sha and camera["latest"]["url"].endswith(sha)
    assert camera["latest"]["event"]["event_id"] == logged[0]["id"]

    # Two hours later, the next snapshot: the first image is past retention and deleted.
    later = OPEN + timedelta(hours=2)
    second = pipeline.process(SampledFrame(9, 9.0, scenes.kitchen(), later))
    with transaction(platform.sessions) as session:
        batch2 = ledger.record(session, report.batch([second]), later)
    assert len(batch2.snapshots_published) == 1 and batch2.snapshots_published[0] != sha
    assert city.client.get(f"/v1/public/snapshots/{sha}").status_code == 404
    # The event that logged the deleted image's hash is still in the log.
    assert [b["payload"]["evidence_sha256"] for b in snapshot_events(city)] == [
        sha,
        batch2.snapshots_published[0],
    ]


def test_a_withheld_snapshot_is_logged_with_its_reason_and_stores_nothing(city: City) -> None:
    platform = city.app.state.platform
    cfg = config()
    pipeline = Pipeline(cfg, face_detector=None)
    result = pipeline.process(SampledFrame(0, 0.0, kitchen_with_a_face(), OPEN))
    assert result.snapshot == SnapshotWithheld(OPEN, "no_face_detector")
    with transaction(platform.sessions) as session:
        batch = VisionLedger(platform.log).record(session, CameraReport(cfg).batch([result]), OPEN)
    assert batch.snapshots_withheld == ["no_face_detector"] and batch.snapshots_published == []
    with platform.sessions() as session:
        rows = session.execute(select(EventRow).order_by(EventRow.leaf_index)).scalars()
        observed = [json.loads(bytes(r.body))["payload"].get("observation") for r in rows]
        assert session.execute(select(KitchenSnapshotRow)).first() is None
    assert "kitchen_snapshot_withheld:no_face_detector" in observed
    assert "kitchen_snapshot" not in observed
