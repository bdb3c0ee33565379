"""All SQL of attachments and the premises that hold them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.storage.models import AttachmentHolderRow, AttachmentRow


def attachment(session: Session, sha256: bytes) -> AttachmentRow | None:
    return session.get(AttachmentRow, sha256)


def holding(session: Session, sha256: bytes, premises_id: str) -> AttachmentHolderRow | None:
    return session.get(AttachmentHolderRow, (sha256, premises_id))


def holders(session: Session, sha256: bytes) -> list[str]:
    return list(
        session.execute(
            select(AttachmentHolderRow.premises_id)
            .where(AttachmentHolderRow.sha256 == sha256)
            .order_by(AttachmentHolderRow.premises_id)
        ).scalars()
    )


def held_by(session: Session, premises_id: str, digests: Iterable[bytes]) -> set[bytes]:
    wanted = list(set(digests))
    if not wanted:
        return set()
    return {
        bytes(d)
        for d in session.execute(
            select(AttachmentHolderRow.sha256).where(
                AttachmentHolderRow.premises_id == premises_id,
                AttachmentHolderRow.sha256.in_(wanted),
            )
        ).scalars()
    }


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()
