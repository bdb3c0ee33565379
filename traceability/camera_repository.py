"""All SQL of the camera registry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from traceability.models import AlertRow, AttachmentHolderRow, AttachmentRow, CameraRow


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


def unclosed_alert(session: Session, subject: str, rule: str) -> AlertRow | None:
    """An alert of this camera and rule that is not closed yet (to avoid a duplicate)."""
    return session.execute(
        select(AlertRow)
        .where(AlertRow.subject == subject, AlertRow.rule == rule, AlertRow.status != "closed")
        .order_by(AlertRow.opened_at.desc())
        .limit(1)
    ).scalar_one_or_none()


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
