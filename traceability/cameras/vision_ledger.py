"""Writing the vision checker's batches into the log, the evidence store and the alert
queue, one transaction per batch (the implementation of ``cameras.observations``).

What is logged (the policy; which observations are notable is the checker's
decision, ``kitchen_vision.handover``):

- every violation: its evidence (the blurred snapshot, and a pest event's
  blurred contact sheet) is stored content-addressed, an alert is opened with
  source ``vision`` and the evidence hashes, and the ``violation`` event is
  appended; beside it a ``vision_observation`` of type ``evidence_snapshot``
  names the face detector that blurred the snapshot. Without a working face
  detector no image is stored: the violation's description says why and a
  ``vision_observation`` of type ``evidence_withheld`` (detector ``none``) is logged.
  A rule whose alert for the same camera is still not closed opens no second one.
- each notable observation the checker hands in, as a ``vision_observation`` event.
- a live camera's snapshots: published ones kept by hash (older images past
  retention deleted), withheld ones as the reason.
- the camera's ``last_frame_at`` in the registry (what "online" is judged by), and
  its counters: frames analysed, alerts opened by rule, the detectors that ran.
"""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from traceability.alerts import repository as alerts_repo
from traceability.alerts.raising import open_alert
from traceability.attachments import AttachmentStore
from traceability.cameras import repository as camera_repository
from traceability.cameras.observations import (
    CameraBatch,
    EvidenceImage,
    LoggedBatch,
    PublishedSnapshot,
    SeenObservation,
    VisionAlert,
    WithheldSnapshot,
)
from traceability.cameras.registry import VISION_UPLOADER_PREFIX, CameraRegistry
from traceability.errors import NotFound
from traceability.orgs import repository as org_repository
from traceability.storage.db import transaction
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

SNAPSHOT_PUBLISHED = "kitchen_snapshot"
SNAPSHOT_WITHHELD = "kitchen_snapshot_withheld"
"""The observations a published and a withheld kitchen snapshot are logged as."""


def uploader(camera_id: str) -> str:
    """How vision evidence is marked in the attachment store (the public endpoint checks it)."""
    return f"{VISION_UPLOADER_PREFIX}{camera_id}"[:64]


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


def _evidence_note(snapshot: EvidenceImage) -> str:
    return (
        f"Evidence snapshot: {snapshot.faces_blurred} face(s) blurred by {snapshot.face_detector}."
    )


class VisionLedger:
    """Logs a camera's batches. Services flush; the caller commits (one batch = one commit)."""

    def __init__(
        self,
        log: TransparencyLog,
        *,
        attachments: AttachmentStore | None = None,
        registry: CameraRegistry | None = None,
    ) -> None:
        self.log = log
        self.attachments = attachments or AttachmentStore()
        self.registry = registry or CameraRegistry()

    def record(self, session: Session, batch: CameraBatch, now: datetime) -> LoggedBatch:
        camera_id = batch.camera_id
        if org_repository.premises(session, batch.premises_id) is None:
            raise NotFound(f"camera {camera_id}: no premises {batch.premises_id}")
        self.log.lock(session)  # decide on open alerts and append in one serialised step
        logged = LoggedBatch()
        events: list[PreparedEvent] = []
        for finding in batch.findings:
            if isinstance(finding, SeenObservation):
                events.append(
                    _observation_event(
                        camera_id,
                        detector=finding.detector,
                        observation=finding.type,
                        zone=finding.zone,
                        confidence=finding.confidence,
                        at=finding.at,
                        now=now,
                    )
                )
                logged.observations_logged += 1
            else:
                events += self._violation(session, finding, now, logged)
        if batch.live:
            for snapshot in batch.snapshots:
                events.append(self._snapshot(session, batch, snapshot, now, logged))
        if batch.frames and batch.live and batch.newest_frame_at is not None:
            self.registry.frame_seen(session, camera_id, min(batch.newest_frame_at, now))
        if batch.frames or logged.alerts_opened:
            self.registry.analysed(
                session,
                camera_id,
                frames=batch.frames,
                alerts=Counter(logged.alert_rules),
                detectors=batch.detectors,
            )
        if events:
            Ingest(self.log).append(session, events)
        logged.events = len(events)
        return logged

    def _snapshot(
        self,
        session: Session,
        batch: CameraBatch,
        snapshot: PublishedSnapshot | WithheldSnapshot,
        now: datetime,
        logged: LoggedBatch,
    ) -> PreparedEvent:
        """A published snapshot: its bytes kept by hash, its hash logged; older images of
        the camera past retention deleted (their events stay). A withheld one: why."""
        camera_id = batch.camera_id
        if isinstance(snapshot, WithheldSnapshot):
            logged.snapshots_withheld.append(snapshot.reason)
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
                premises_id=batch.premises_id,
                taken_at=as_utc(snapshot.taken_at),
                event_id=event.event_id,
                media_type="image/jpeg",
                size=len(snapshot.jpeg),
                data=snapshot.jpeg,
            ),
        )
        keep = batch.snapshot_keep_hours
        camera_repository.delete_snapshots_before(session, camera_id, now - timedelta(hours=keep))
        logged.snapshots_published.append(snapshot.sha256)
        return event

    def _violation(
        self, session: Session, v: VisionAlert, now: datetime, logged: LoggedBatch
    ) -> list[PreparedEvent]:
        subject = f"camera:{v.camera_id}"
        if alerts_repo.unclosed_alert(session, subject, v.rule) is not None:
            logged.already_open.append(v.rule)
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
            description += " " + _evidence_note(v.snapshot)
            events.append(
                _observation_event(
                    v.camera_id,
                    detector=v.snapshot.face_detector,
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
        logged.alerts_opened.append(opened.alert.alert_id)
        logged.alert_rules.append(v.rule)
        logged.evidence_sha256 += hashes
        return [opened.event, *events]


class LedgerSink:
    """The ``ObservationSink`` the processes use: each batch logged in its own transaction
    (committed when it is logged, rolled back whole when it fails)."""

    def __init__(self, sessions: sessionmaker[Session], ledger: VisionLedger) -> None:
        self.sessions = sessions
        self.ledger = ledger

    def record(self, batch: CameraBatch, now: datetime) -> LoggedBatch:
        with transaction(self.sessions) as session:
            return self.ledger.record(session, batch, now)
