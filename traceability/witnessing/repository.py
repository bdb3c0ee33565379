"""All SQL of witnessing: cosignatures of checkpoints and the checkpoints that met the policy."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from traceability.storage.models import CheckpointCosignature, CheckpointRow, WitnessedCheckpoint


def checkpoints_above(session: Session, tree_size: int, limit: int) -> Sequence[CheckpointRow]:
    """Checkpoints larger than ``tree_size``, smallest first."""
    return (
        session.execute(
            select(CheckpointRow)
            .where(CheckpointRow.tree_size > tree_size)
            .order_by(CheckpointRow.tree_size)
            .limit(limit)
        )
        .scalars()
        .all()
    )


def last_cosigned_size(session: Session, witness_key: str) -> int | None:
    """The largest checkpoint this witness cosigned for us."""
    value = session.execute(
        select(func.max(CheckpointCosignature.tree_size)).where(
            CheckpointCosignature.witness_key == witness_key
        )
    ).scalar_one_or_none()
    return None if value is None else int(value)


def add_cosignature(
    session: Session,
    tree_size: int,
    witness_key: str,
    witness_name: str,
    line: str,
    signed_at: datetime,
    collected_at: datetime,
) -> None:
    """Store a cosignature once (a second collector's copy is dropped)."""
    if session.get(CheckpointCosignature, (tree_size, witness_key)) is not None:
        return
    try:
        with session.begin_nested():
            session.add(
                CheckpointCosignature(
                    tree_size=tree_size,
                    witness_key=witness_key,
                    witness_name=witness_name,
                    line=line,
                    signed_at=signed_at,
                    collected_at=collected_at,
                )
            )
    except IntegrityError:
        pass


def cosignature_lines(session: Session, tree_size: int) -> list[str]:
    """Every stored cosignature line of one checkpoint (each was verified against its
    witness's configured key when it was collected), by witness name."""
    rows = session.execute(
        select(CheckpointCosignature.line)
        .where(CheckpointCosignature.tree_size == tree_size)
        .order_by(CheckpointCosignature.witness_name, CheckpointCosignature.witness_key)
    )
    return [line for (line,) in rows]


def cosigner_counts(
    session: Session, witness_keys: Sequence[str], sizes: Sequence[int]
) -> dict[int, int]:
    """How many of these witnesses cosigned each of these checkpoints."""
    if not witness_keys or not sizes:
        return {}
    rows = session.execute(
        select(CheckpointCosignature.tree_size, func.count())
        .where(
            CheckpointCosignature.witness_key.in_(list(witness_keys)),
            CheckpointCosignature.tree_size.in_(list(sizes)),
        )
        .group_by(CheckpointCosignature.tree_size)
    )
    return {int(size): int(count) for size, count in rows}


def mark_witnessed(
    session: Session, tree_size: int, quorum: int, cosigners: int, now: datetime
) -> bool:
    """Record that a checkpoint met the policy; False when it already was."""
    if session.get(WitnessedCheckpoint, tree_size) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(
                WitnessedCheckpoint(
                    tree_size=tree_size, quorum=quorum, cosigners=cosigners, witnessed_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def witnessed(session: Session, tree_size: int) -> WitnessedCheckpoint | None:
    return session.get(WitnessedCheckpoint, tree_size)


def newest_witnessed(session: Session) -> CheckpointRow | None:
    """The largest checkpoint that met the policy."""
    return session.execute(
        select(CheckpointRow)
        .join(WitnessedCheckpoint, WitnessedCheckpoint.tree_size == CheckpointRow.tree_size)
        .order_by(CheckpointRow.tree_size.desc())
        .limit(1)
    ).scalar_one_or_none()


def smallest_witnessed_covering(session: Session, leaf_index: int) -> CheckpointRow | None:
    """The smallest checkpoint that met the policy and includes leaf ``leaf_index``."""
    return session.execute(
        select(CheckpointRow)
        .join(WitnessedCheckpoint, WitnessedCheckpoint.tree_size == CheckpointRow.tree_size)
        .where(CheckpointRow.tree_size > leaf_index)
        .order_by(CheckpointRow.tree_size)
        .limit(1)
    ).scalar_one_or_none()
