"""Handing the checker's results to the log and the alert queue, one transaction per batch.

What is logged (the policy):

- every violation: its evidence (the blurred snapshot, and a pest event's
  blurred contact sheet) is stored content-addressed, an alert is opened with
  source ``vision`` and the evidence hashes, and the ``violation`` event is
  appended; beside it a ``vision_observation`` of type ``evidence_snapshot``
  names the face detector that blurred the snapshot. Without a working face
  detector no image is stored: the violation's description says why and a
  ``vision_observation`` of type ``evidence_withheld`` (detector ``none``) is logged.
  A rule whose alert for the same camera is still not closed opens no second one.
- the first observation of each *episode* of a type in a zone (the type unseen
  there for ``episode_gap_seconds`` before), as a ``vision_observation`` event;
  not every frame. Faces and people are never logged as observations (they say
  nothing a violation does not, and are about persons); motion only while the
  kitchen is closed.
- the camera's ``last_frame_at`` in the registry (what "online" is judged by), and
  its counters: frames analysed, alerts opened by rule, the detectors that ran.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from kitchen_vision.config import CameraConfig
from kitchen_vision.observations import Observation
from kitchen_vision.pipeline import FrameResult
from kitchen_vision.rules import VisionViolation
from kitchen_vision.snapshots import PUBLISHED as SNAPSHOT_PUBLISHED
from kitchen_vision.snapshots import WITHHELD as SNAPSHOT_WITHHELD
from kitchen_vision.snapshots import KitchenSnapshot, SnapshotWithheld
from traceability.alerts import repository as alerts_repo
from traceability.alerts.raising import open_alert
from traceability.attachments import AttachmentStore
from traceability.cameras import repository as camera_repository
from traceability.cameras.registry import VISION_UPLOADER_PREFIX, CameraRegistry
from traceability.errors import NotFound
from traceability.orgs import repository as org_repository
from traceability.public_record import repository as public_repo
from traceability.storage.models import KitchenSnapshotRow
from traceability.transparency.events import (
    EventKind,
    PreparedEvent,
    VisionObservation,
    as_utc,
    prepared,
    rfc3339,
)
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

NEVER_LOGGED = frozenset({"face", "person"})


def uploader(camera_id: str) -> str:
    """How vision evidence is marked in the attachment store (the public endpoint checks it)."""
    return f"{VISION_UPLOADER_PREFIX}{camera_id}"[:64]


class ObservationDigest:
    """Decides which observations are notable enough to log (see the module doc)."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.gap = timedelta(seconds=config.thresholds.episode_gap_seconds)
        self._last: dict[tuple[str, str | None], datetime] = {}

    def notable(self, obs: Observation, at: datetime) -> bool:
        if obs.type in NEVER_LOGGED:
            return False
        if obs.type == "motion":
            local = at.astimezone(self.config.zone_info)
            if self.config.opening_hours.is_open(local):
                return False
        key = (obs.type, obs.zone)
        previous = self._last.get(key)
        self._last[key] = at
        return previous is None or at - previous > self.gap


@dataclass
class LoggedBatch:
    events: int = 0
    observations_logged: int = 0
    alerts_opened: list[str] = field(default_factory=list)
    alert_rules: list[str] = field(default_factory=list)
    snapshots_published: list[str] = field(default_factory=list)
    snapshots_withheld: list[str] = field(default_factory=list)
    """The rule of each alert opened, in the same order."""
    already_open: list[str] = field(default_factory=list)
    evidence_sha256: list[str] = field(default_factory=list)


def _observation_event(
    camera_id: str,
    *,
    detector: str,
    observation: str,
    zone: str | None,
    confidence: float | None,
    at: datetime,
    now: datetime,
    evidence_sha256: str | None = None,
) -> PreparedEvent:
    payload = VisionObservation(
        camera_id=camera_id,
        detector=detector[:64],
        observation=observation[:64],
        zone=zone,
        confidence=None if confidence is None else round(min(1.0, max(0.0, confidence)), 4),
        evidence_sha256=evidence_sha256,
    ).model_dump(mode="json")
    return prepared(
        event_id=str(uuid.uuid4()),
        kind=EventKind.VISION_OBSERVATION,
        subject=f"camera:{camera_id}",
        occurred_at=as_utc(at),
        occurred_text=rfc3339(at),
        recorded_at=now,
        recorded_text=rfc3339(now),
        payload=payload,
    )


def _evidence_note(metadata: dict[str, object]) -> str:
    detector = metadata.get("face_detector")
    return f"Evidence snapshot: {metadata.get('faces_blurred', 0)} face(s) blurred by {detector}."


class VisionLedger:
    """Logs a camera's results. Services flush; the caller commits (one batch = one commit)."""

    def __init__(
        self,
        log: TransparencyLog,
        config: CameraConfig,
        *,
        attachments: AttachmentStore | None = None,
        registry: CameraRegistry | None = None,
        live: bool = True,
    ) -> None:
        self.live = live
        """Frames from a live source count as the camera being online; an uploaded clip's not."""
        self.log = log
        self.config = config
        self.attachments = attachments or AttachmentStore()
        self.registry = registry or CameraRegistry()
        self.digest = ObservationDigest(config)

    def record(
        self,
        session: Session,
        results: Sequence[FrameResult],
        now: datetime,
        *,
        offline: Sequence[VisionViolation] = (),
    ) -> LoggedBatch:
        camera_id = self.config.camera_id
        if org_repository.premises(session, self.config.premises_id) is None:
            raise NotFound(f"camera {camera_id}: no premises {self.config.premises_id}")
        self.log.lock(session)  # decide on open alerts and append in one serialised step
        batch = LoggedBatch()
        events: list[PreparedEvent] = []
        for result in results:
            for obs in result.observations:
                if self.digest.notable(obs, result.wall_clock):
                    events.append(
                        _observation_event(
                            camera_id,
                            detector=obs.detector,
                            observation=obs.type,
                            zone=obs.zone,
                            confidence=obs.confidence,
                            at=result.wall_clock,
                            now=now,
                        )
                    )
                    batch.observations_logged += 1
            for violation in result.violations:
                events += self._violation(session, violation, now, batch)
        for violation in offline:
            events += self._violation(session, violation, now, batch)
        if self.live:
            for result in results:
                if result.snapshot is not None:
                    events.append(self._snapshot(session, result.snapshot, now, batch))
        if results and self.live:
            newest = max(r.wall_clock for r in results)
            self.registry.frame_seen(session, camera_id, min(newest, now))
        if results or batch.alerts_opened:
            self.registry.analysed(
                session,
                camera_id,
                frames=len(results),
                alerts=Counter(batch.alert_rules),
                detectors=results[-1].detectors if results else (),
            )
        if events:
            Ingest(self.log).append(session, events)
        batch.events = len(events)
        return batch

    def _snapshot(
        self,
        session: Session,
        snapshot: KitchenSnapshot | SnapshotWithheld,
        now: datetime,
        batch: LoggedBatch,
    ) -> PreparedEvent:
        """A published snapshot: its bytes kept by hash, its hash logged; older images of
        the camera past retention deleted (their events stay). A withheld one: why."""
        camera_id = self.config.camera_id
        if isinstance(snapshot, SnapshotWithheld):
            batch.snapshots_withheld.append(snapshot.reason)
            return _observation_event(
                camera_id,
                detector=snapshot.detector,
                observation=f"{SNAPSHOT_WITHHELD}:{snapshot.reason}",
                zone=None,
                confidence=None,
                at=snapshot.taken_at,
                now=now,
            )
        event = _observation_event(
            camera_id,
            detector=snapshot.face_detector,
            observation=SNAPSHOT_PUBLISHED,
            zone=None,
            confidence=None,
            at=snapshot.taken_at,
            now=now,
            evidence_sha256=snapshot.sha256,
        )
        camera_repository.add_snapshot(
            session,
            KitchenSnapshotRow(
                sha256=snapshot.sha256,
                camera_id=camera_id,
                premises_id=self.config.premises_id,
                taken_at=as_utc(snapshot.taken_at),
                event_id=event.event_id,
                media_type="image/jpeg",
                size=len(snapshot.jpeg),
                data=snapshot.jpeg,
            ),
        )
        keep = self.config.snapshot.keep_hours if self.config.snapshot is not None else 48.0
        camera_repository.delete_snapshots_before(session, camera_id, now - timedelta(hours=keep))
        batch.snapshots_published.append(snapshot.sha256)
        return event

    def _violation(
        self, session: Session, v: VisionViolation, now: datetime, batch: LoggedBatch
    ) -> list[PreparedEvent]:
        subject = f"camera:{v.camera_id}"
        if alerts_repo.unclosed_alert(session, subject, v.rule) is not None:
            batch.already_open.append(v.rule)
            return []
        hashes: list[str] = []
        description = v.description
        events: list[PreparedEvent] = []
        for evidence in (v.snapshot, v.clip):
            if evidence is None:
                continue
            stored = self.attachments.store(
                session,
                premises_id=v.premises_id,
                data=evidence.jpeg,
                declared_type="image/jpeg",
                uploaded_by=uploader(v.camera_id),
                now=now,
            )
            hashes.append(stored.sha256)
        if v.snapshot is not None:
            description += " " + _evidence_note(v.snapshot.metadata)
            events.append(
                _observation_event(
                    v.camera_id,
                    detector=str(v.snapshot.metadata["face_detector"]),
                    observation="evidence_snapshot",
                    zone=v.zone,
                    confidence=None,
                    at=v.detected_at,
                    now=now,
                    evidence_sha256=v.snapshot.sha256,
                )
            )
        if v.clip is not None:
            description += f" Event clip (contact sheet) sha256 {v.clip.sha256}."
        if v.evidence_withheld is not None:
            description += f" No evidence image was kept: {v.evidence_withheld}."
            events.append(
                _observation_event(
                    v.camera_id,
                    detector="none",
                    observation="evidence_withheld",
                    zone=v.zone,
                    confidence=None,
                    at=v.detected_at,
                    now=now,
                )
            )
        opened = open_alert(
            session,
            premises_id=v.premises_id,
            subject=subject,
            source="vision",
            rule=v.rule,
            alert_class=v.alert_class,
            detail=description[:2000],
            started_at=as_utc(v.started_at),
            now=now,
            evidence_sha256=hashes,
            measurements=v.measurements,
        )
        batch.alerts_opened.append(opened.alert.alert_id)
        batch.alert_rules.append(v.rule)
        batch.evidence_sha256 += hashes
        return [opened.event, *events]


class LoggedStoveProbe:
    """A stove probe's latest logged reading, read from the log (``StoveProbe``)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def latest(self, device_id: str) -> tuple[datetime, float] | None:
        with self.sessions() as session:
            row = public_repo.last_reading(session, device_id)
            if row is None:
                return None
            body: dict[str, Any] = json.loads(bytes(row.body))
        payload = body["payload"]
        for value in payload.get("values", []):
            if value.get("type") == "Temperature" and value.get("uom") == "CEL":
                return datetime.fromisoformat(payload["measured_at"]), float(value["value"])
        return None
