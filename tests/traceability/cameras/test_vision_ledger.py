"""The ledger path on both databases: a violation becomes an alert, its blurred evidence
is stored by SHA-256 and named in the logged event; notable observations are logged once
per episode; the camera counts as online; a stove probe's reading is read from the log."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import yaml
from seeded_city import City
from sqlalchemy import select
from sqlalchemy.orm import Session

from kitchen_vision.config import parse_config
from kitchen_vision.faces import privacy_detector
from kitchen_vision.handover import CameraReport
from kitchen_vision.pipeline import FrameResult, Pipeline
from kitchen_vision.sources import SampledFrame
from tests.kitchen_vision import scenes
from traceability.cameras.registry import CameraRegistry, camera_json
from traceability.cameras.vision_ledger import LedgerSink, VisionLedger
from traceability.errors import Invalid, NotFound
from traceability.public_record.stove_readings import LoggedStoveProbe
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, AttachmentRow, EventRow
from traceability.transparency.events import EventKind, prepared, rfc3339
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

CONFIG = parse_config(
    yaml.safe_load(scenes.kitchen_yaml('opening_hours: ["10:00-14:00"]\ntimezone: UTC\n'))
)


def night_results(start: datetime) -> list[FrameResult]:
    base = scenes.night()
    frames = [scenes.with_sensor_noise(base, i) for i in range(8)]
    frames += [
        scenes.blob(scenes.with_sensor_noise(base, 20 + i), 60 + 25 * i, 300) for i in range(6)
    ]
    pipeline = Pipeline(CONFIG, face_detector=privacy_detector()[0])
    return [
        pipeline.process(SampledFrame(i, float(i), f, start + timedelta(seconds=i)))
        for i, f in enumerate(frames)
    ]


def events_of(city: City, kind: EventKind) -> list[dict[str, Any]]:
    with city.app.state.platform.sessions() as session:
        rows = session.execute(
            select(EventRow).where(EventRow.kind == kind.value).order_by(EventRow.leaf_index)
        ).scalars()
        return [json.loads(bytes(r.body)) for r in rows]


def test_a_violation_is_an_alert_with_its_evidence_in_the_log(city: City) -> None:
    platform = city.app.state.platform
    now = datetime.now(UTC).replace(microsecond=0)
    # Three in the morning (UTC) on the day before: the kitchen is closed.
    start = (now - timedelta(days=1)).replace(hour=3, minute=0, second=0)
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session, camera_id="cam-1", premises_id="p-1", name="Kitchen", config={}, now=now
        )
    results = night_results(start)
    assert [v.rule for r in results for v in r.violations] == ["pest_suspected"]
    ledger, report = VisionLedger(platform.log), CameraReport(CONFIG)
    with transaction(platform.sessions) as session:
        batch = ledger.record(session, report.batch(results), now)
    assert len(batch.alerts_opened) == 1 and len(batch.evidence_sha256) == 2

    with platform.sessions() as session:
        alert = session.get(AlertRow, batch.alerts_opened[0])
        assert alert is not None
        assert (alert.source, alert.rule, alert.alert_class) == ("vision", "pest_suspected", 1)
        assert alert.subject == "camera:cam-1" and alert.premises_id == "p-1"
        stored = session.execute(select(AttachmentRow)).scalars().all()
        assert {bytes(a.sha256).hex() for a in stored} == set(batch.evidence_sha256)
        assert {a.uploaded_by for a in stored} == {"vision:cam-1"}
        assert {a.media_type for a in stored} == {"image/jpeg"}

    violation = events_of(city, EventKind.VIOLATION)
    assert len(violation) == 1
    payload = violation[0]["payload"]
    assert payload["evidence_sha256"] == batch.evidence_sha256
    assert payload["source"] == "vision" and payload["alert_id"] == alert.alert_id
    assert "0 face(s) blurred by centerface" in payload["description"]
    assert payload["started_at"] == rfc3339(start + timedelta(seconds=8))

    observations = [e["payload"] for e in events_of(city, EventKind.VISION_OBSERVATION)]
    kinds = [(o["observation"], o["zone"]) for o in observations]
    # Motion on six frames at night: one episode, logged once; plus the evidence note.
    assert kinds.count(("motion", "prep-1")) == 1
    evidence = [o for o in observations if o["observation"] == "evidence_snapshot"]
    assert evidence == [
        {
            "camera_id": "cam-1",
            "detector": "centerface",
            "observation": "evidence_snapshot",
            "zone": "prep-1",
            "confidence": None,
            "evidence_sha256": batch.evidence_sha256[0],
        }
    ]
    # The same violation again while the alert is open: no second alert.
    with transaction(platform.sessions) as session:
        again = VisionLedger(platform.log).record(
            session, CameraReport(CONFIG).batch(night_results(start)), now
        )
    assert again.alerts_opened == [] and again.already_open == ["pest_suspected"]

    # Frames from yesterday do not make the camera online; a recent one does.
    record = city.client.get("/v1/public/restaurants/p-1").json()
    assert record["live"]["cameras"] == {"registered": 1, "online": 0}
    recent = night_results(now - timedelta(seconds=20))[:2]
    with transaction(platform.sessions) as session:
        VisionLedger(platform.log).record(session, CameraReport(CONFIG).batch(recent), now)
    record = city.client.get("/v1/public/restaurants/p-1").json()
    assert record["live"]["cameras"] == {"registered": 1, "online": 1}

    # The public evidence endpoint serves exactly the stored, blurred bytes.
    for sha in batch.evidence_sha256:
        answer = city.client.get(f"/v1/public/evidence/{sha}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
        assert hashlib.sha256(answer.content).hexdigest() == sha


def test_a_stove_probe_reading_is_read_from_the_log(city: City) -> None:
    platform = city.app.state.platform
    now = datetime.now(UTC)
    probe = LoggedStoveProbe(platform.sessions)
    assert probe.latest("st-9") is None
    events = []
    for minutes, celsius in ((10, 40.0), (2, 185.5)):
        measured = now - timedelta(minutes=minutes)
        events.append(
            prepared(
                event_id=str(uuid.uuid4()),
                kind=EventKind.PROBE_READING,
                subject="device:st-9",
                occurred_at=measured,
                occurred_text=rfc3339(measured),
                recorded_at=now,
                recorded_text=rfc3339(now),
                payload={
                    "device_id": "st-9",
                    "seq": minutes,
                    "measured_at": rfc3339(measured),
                    "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
                },
            )
        )
    with transaction(platform.sessions) as session:
        Ingest(platform.log).append(session, events)
    latest = probe.latest("st-9")
    assert latest is not None
    at, celsius = latest
    assert celsius == 185.5 and abs((at - (now - timedelta(minutes=2))).total_seconds()) < 0.001


def test_without_a_face_detector_no_evidence_image_is_kept(city: City, tmp_path: Any) -> None:
    """Fail closed: a camera whose face model file is missing (a real misconfiguration)
    still raises its alert, but stores and publishes no picture, and the log says why."""
    platform = city.app.state.platform
    now = datetime.now(UTC).replace(microsecond=0)
    start = (now - timedelta(days=1)).replace(hour=3, minute=0, second=0)
    missing = tmp_path / "models" / "centerface.onnx"
    config = parse_config(
        yaml.safe_load(
            scenes.kitchen_yaml('opening_hours: ["10:00-14:00"]\ntimezone: UTC\n')
            + "face_model: models/centerface.onnx\n"
        ),
        base_dir=tmp_path,
    )
    assert config.face_model == str(missing)
    pipeline = Pipeline(config)  # detectors found as in production
    assert pipeline.face_detector is None
    base = scenes.night()
    frames = [scenes.with_sensor_noise(base, i) for i in range(8)]
    frames += [
        scenes.blob(scenes.with_sensor_noise(base, 20 + i), 60 + 25 * i, 300) for i in range(6)
    ]
    results = [
        pipeline.process(SampledFrame(i, float(i), f, start + timedelta(seconds=i)))
        for i, f in enumerate(frames)
    ]
    (violation,) = [v for r in results for v in r.violations]
    assert violation.snapshot is None and violation.clip is None
    why = f"the CenterFace face detector is unavailable: model file {missing} does not exist"
    assert violation.evidence_withheld == why
    assert violation.to_observation().detail["evidence_withheld"] == why
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session, camera_id="cam-1", premises_id="p-1", name="Kitchen", config={}, now=now
        )
        batch = VisionLedger(platform.log).record(session, CameraReport(config).batch(results), now)
    assert len(batch.alerts_opened) == 1 and batch.evidence_sha256 == []
    with platform.sessions() as session:
        assert session.execute(select(AttachmentRow)).scalars().all() == []
    (logged,) = events_of(city, EventKind.VIOLATION)
    assert logged["payload"]["evidence_sha256"] == []
    assert f"No evidence image was kept: {why}." in logged["payload"]["description"]
    observations = [e["payload"] for e in events_of(city, EventKind.VISION_OBSERVATION)]
    withheld = [o for o in observations if o["observation"] == "evidence_withheld"]
    assert [(o["detector"], o["evidence_sha256"]) for o in withheld] == [("none", None)]
    assert not [o for o in observations if o["observation"] == "evidence_snapshot"]


def test_evidence_an_older_version_stored_unblurred_is_not_published(city: City) -> None:
    """Before issue 15 a missing detector left the snapshot unblurred and said so in the
    alert; such stored evidence is refused by the public endpoint (404 with the reason)."""
    import cv2

    from kitchen_vision.rules import Evidence, VisionViolation

    platform = city.app.state.platform
    now = datetime.now(UTC).replace(microsecond=0)
    ok, jpeg = cv2.imencode(".jpg", scenes.night())
    assert ok
    data = jpeg.tobytes()
    sha = hashlib.sha256(data).hexdigest()
    legacy = VisionViolation(
        rule="pest_suspected",
        alert_class=1,
        camera_id="cam-1",
        premises_id="p-1",
        zone=None,
        started_at=now - timedelta(minutes=2),
        detected_at=now - timedelta(minutes=1),
        frame=1,
        time=1.0,
        description="Pest suspected. Evidence snapshot: no face detector was available, "
        "faces are NOT blurred.",
        snapshot=Evidence(jpeg=data, sha256=sha, metadata={"face_detector": "none"}),
    )
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session, camera_id="cam-1", premises_id="p-1", name="Kitchen", config={}, now=now
        )
        VisionLedger(platform.log).record(
            session, CameraReport(CONFIG).batch([], offline=[legacy]), now
        )
    answer = city.client.get(f"/v1/public/evidence/{sha}")
    assert answer.status_code == 404
    assert "stored when no face detector could blur it" in answer.json()["detail"]


def test_the_registry_and_metrics_count_frames_alerts_and_detectors(city: City) -> None:
    platform = city.app.state.platform
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    start = datetime(2026, 11, 25, 3, tzinfo=UTC)  # the kitchen is closed
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session, camera_id="cam-1", premises_id="p-1", name="Kitchen", config={}, now=now
        )
    results = night_results(start)
    ledger, report = VisionLedger(platform.log), CameraReport(CONFIG)
    with transaction(platform.sessions) as session:
        ledger.record(session, report.batch(results[:7]), now)
    with transaction(platform.sessions) as session:
        ledger.record(session, report.batch(results[7:]), now)
    with platform.sessions() as session:
        row = CameraRegistry().get(session, "cam-1")
        shown = camera_json(row, now)
    assert shown["frames_analysed"] == len(results) == 14
    assert shown["alerts_by_kind"] == {"pest_suspected": 1}
    assert shown["detectors"] == ["tamper", "mog2", "centerface", "blur:centerface"]
    assert shown["last_frame_at"] == rfc3339(start + timedelta(seconds=13))
    text = city.client.get("/metrics").text
    assert 'sunledger_camera_frames_analysed{camera="cam-1"} 14' in text
    assert 'sunledger_camera_alerts{camera="cam-1",kind="pest_suspected"} 1' in text
    assert 'sunledger_camera_detector{camera="cam-1",detector="blur:centerface"} 1' in text
    stamp = (start + timedelta(seconds=13)).timestamp()
    assert f'sunledger_camera_last_frame_timestamp_seconds{{camera="cam-1"}} {int(stamp)}' in text


class CountersFail(CameraRegistry):
    """A registry whose counters fail: the last write of a batch, after its alert and
    evidence were flushed."""

    def analysed(self, session: Session, camera_id: str, **counts: Any) -> None:
        raise Invalid(f"camera {camera_id}: the counters could not be written")


def test_the_sink_commits_a_batch_whole_or_nothing_of_it(city: City) -> None:
    """``LedgerSink`` (what the processes hand batches to): a batch that fails half-way
    leaves no alert, evidence or event; a good one is committed; an unknown premises is
    refused by name."""
    platform = city.app.state.platform
    now = datetime.now(UTC).replace(microsecond=0)
    start = (now - timedelta(days=1)).replace(hour=3, minute=0, second=0)
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session, camera_id="cam-1", premises_id="p-1", name="Kitchen", config={}, now=now
        )
    results = night_results(start)
    failing = LedgerSink(platform.sessions, VisionLedger(platform.log, registry=CountersFail()))
    with pytest.raises(Invalid, match="counters could not be written"):
        failing.record(CameraReport(CONFIG).batch(results), now)
    with platform.sessions() as session:
        assert session.execute(select(AlertRow)).first() is None
        assert session.execute(select(AttachmentRow)).first() is None
    assert events_of(city, EventKind.VIOLATION) == []

    sink = LedgerSink(platform.sessions, VisionLedger(platform.log))
    elsewhere = parse_config(
        yaml.safe_load(scenes.kitchen_yaml("timezone: UTC\n", premises_id="p-nowhere"))
    )
    with pytest.raises(NotFound, match="no premises p-nowhere"):
        sink.record(CameraReport(elsewhere).batch(results), now)

    logged = sink.record(CameraReport(CONFIG).batch(results), now)
    assert len(logged.alerts_opened) == 1 and len(logged.evidence_sha256) == 2
    with platform.sessions() as session:  # a new session sees it: committed
        assert session.get(AlertRow, logged.alerts_opened[0]) is not None
    assert len(events_of(city, EventKind.VIOLATION)) == 1
