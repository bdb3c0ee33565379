"""All SQL of the camera registry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from traceability.storage.models import (
    AlertRow,
    AttachmentHolderRow,
    AttachmentRow,
    CameraRow,
    EventRow,
    KitchenSnapshotRow,
)


def camera(session: Session, camera_id: str) -> CameraRow | None:
    return session.get(CameraRow, camera_id)


def add(session: Session, row: CameraRow) -> None:
    session.add(row)
    session.flush()


def cameras_of(session: Session, premises_id: str, *, limit: int) -> Sequence[CameraRow]:
    return list(
        session.execute(
            select(CameraRow)
            .where(CameraRow.premises_id == premises_id)
            .order_by(CameraRow.camera_id)
            .limit(limit)
        ).scalars()
    )


def cameras(session: Session, *, offset: int, limit: int) -> Sequence[CameraRow]:
    return list(
        session.execute(
            select(CameraRow).order_by(CameraRow.camera_id).offset(offset).limit(limit)
        ).scalars()
    )


def counts(session: Session, premises_id: str, online_since: datetime) -> tuple[int, int]:
    """(active cameras, of which delivered a frame since ``online_since``) of a premises."""
    active = (CameraRow.premises_id == premises_id) & (CameraRow.status == "active")
    registered, online = session.execute(
        select(
            func.count(),
            func.count(case((CameraRow.last_frame_at >= online_since, 1))),
        ).where(active)
    ).one()
    return int(registered), int(online)


def touch(session: Session, camera_id: str, at: datetime) -> None:
    """Record a frame at ``at`` (never moves the time backwards)."""
    session.execute(
        update(CameraRow)
        .where(
            CameraRow.camera_id == camera_id,
            (CameraRow.last_frame_at.is_(None)) | (CameraRow.last_frame_at < at),
        )
        .values(last_frame_at=at)
    )


def add_analysed(
    session: Session, camera_id: str, frames: int, alerts: dict[str, int], detectors: list[str]
) -> None:
    """Add to a camera's counters (a no-op for a camera that is not registered)."""
    row = session.get(CameraRow, camera_id, with_for_update=True)
    if row is None:
        return
    row.frames_analysed = (row.frames_analysed or 0) + frames
    if alerts:
        counts: dict[str, int] = json.loads(row.alerts_by_kind or "{}")
        for kind, n in alerts.items():
            counts[kind] = counts.get(kind, 0) + n
        row.alerts_by_kind = json.dumps(counts, sort_keys=True)
    if detectors:
        row.detectors = json.dumps(detectors)
    session.flush()


def vision_evidence(session: Session, sha256: bytes, uploader_prefix: str) -> AttachmentRow | None:
    """The attachment, if the vision checker stored it (a holder row by a ``vision:`` uploader)."""
    return session.execute(
        select(AttachmentRow)
        .join(AttachmentHolderRow, AttachmentHolderRow.sha256 == AttachmentRow.sha256)
        .where(
            AttachmentRow.sha256 == sha256,
            AttachmentHolderRow.uploaded_by.startswith(uploader_prefix, autoescape=True),
        )
        .limit(1)
    ).scalar_one_or_none()


def unblurred_evidence(session: Session, note: str) -> set[str]:
    """SHA-256 (hex) of the evidence named by vision alerts whose description carries
    ``note``: what an older version stored when no face detector ran."""
    bodies = session.execute(
        select(EventRow.body)
        .join(AlertRow, AlertRow.breach_event_id == EventRow.event_id)
        .where(AlertRow.source == "vision", AlertRow.detail.contains(note, autoescape=True))
    ).scalars()
    found: set[str] = set()
    for body in bodies:
        payload = json.loads(bytes(body)).get("payload", {})
        found.update(str(sha) for sha in payload.get("evidence_sha256", []))
    return found


def add_snapshot(session: Session, row: KitchenSnapshotRow) -> None:
    if session.get(KitchenSnapshotRow, row.sha256) is None:  # the same bytes twice: one row
        session.add(row)
        session.flush()


def delete_snapshots_before(session: Session, camera_id: str, before: datetime) -> int:
    result = session.execute(
        delete(KitchenSnapshotRow).where(
            KitchenSnapshotRow.camera_id == camera_id, KitchenSnapshotRow.taken_at < before
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def snapshot(session: Session, sha256: str) -> KitchenSnapshotRow | None:
    return session.get(KitchenSnapshotRow, sha256)


def latest_snapshot(session: Session, camera_id: str) -> KitchenSnapshotRow | None:
    return session.execute(
        select(KitchenSnapshotRow)
        .where(KitchenSnapshotRow.camera_id == camera_id)
        .order_by(KitchenSnapshotRow.taken_at.desc())
        .limit(1)
    ).scalar_one_or_none()
