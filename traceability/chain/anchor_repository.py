"""All SQL of the anchoring outbox and the recorded contract deployments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from traceability.storage.models import AnchorRow, ChainDeployment

LIVE = ("pending", "submitted", "confirmed", "final")
ON_CHAIN = ("confirmed", "final")


def last_scheduled(session: Session, chain_id: int, contract: str) -> AnchorRow | None:
    """The anchor row with the largest size, whatever became of it.

    A size is queued at most once; a failed row is retried through itself.
    """
    return session.execute(
        select(AnchorRow)
        .where(AnchorRow.chain_id == chain_id, AnchorRow.contract == contract)
        .order_by(AnchorRow.tree_size.desc())
        .limit(1)
    ).scalar_one_or_none()


def insert_pending(session: Session, **values: Any) -> AnchorRow:
    row = AnchorRow(status="pending", attempts=0, **values)
    session.add(row)
    session.flush()
    return row


def next_pending(session: Session, chain_id: int, contract: str, now: datetime) -> AnchorRow | None:
    """The smallest pending anchor that is due, locked for this transaction."""
    query = (
        select(AnchorRow)
        .where(
            AnchorRow.chain_id == chain_id,
            AnchorRow.contract == contract,
            AnchorRow.status == "pending",
            or_(AnchorRow.next_attempt_at.is_(None), AnchorRow.next_attempt_at <= now),
        )
        .order_by(AnchorRow.tree_size)
        .limit(1)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return session.execute(query).scalar_one_or_none()


def in_flight(session: Session, chain_id: int, contract: str) -> list[AnchorRow]:
    return list(
        session.execute(
            select(AnchorRow)
            .where(
                AnchorRow.chain_id == chain_id,
                AnchorRow.contract == contract,
                AnchorRow.status.in_(("submitted", "confirmed")),
            )
            .order_by(AnchorRow.tree_size)
        ).scalars()
    )


def update_if(
    session: Session, row_id: int, expected_status: str, expected_tx: str | None, **values: Any
) -> bool:
    """Change a row only if nobody moved it meanwhile (optimistic check)."""
    condition = [AnchorRow.id == row_id, AnchorRow.status == expected_status]
    if expected_tx is not None:
        condition.append(AnchorRow.tx_hash == expected_tx)
    result = session.execute(
        update(AnchorRow)
        .where(*condition)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def list_anchors(
    session: Session, *, status: str | None = None, after: int = 0, limit: int = 100
) -> Sequence[AnchorRow]:
    query = select(AnchorRow).where(AnchorRow.tree_size > after)
    if status is not None:
        query = query.where(AnchorRow.status == status)
    return list(session.execute(query.order_by(AnchorRow.tree_size).limit(limit)).scalars())


def covering_anchor(session: Session, leaf_index: int) -> AnchorRow | None:
    """The earliest on-chain anchor whose tree includes the leaf (final ones first)."""
    for statuses in (("final",), ("confirmed",)):
        row = session.execute(
            select(AnchorRow)
            .where(AnchorRow.tree_size > leaf_index, AnchorRow.status.in_(statuses))
            .order_by(AnchorRow.tree_size)
            .limit(1)
        ).scalar_one_or_none()
        if row is not None:
            return row
    return None


def on_chain_anchors(session: Session) -> list[AnchorRow]:
    return list(
        session.execute(
            select(AnchorRow).where(AnchorRow.status.in_(ON_CHAIN)).order_by(AnchorRow.tree_size)
        ).scalars()
    )


def deployment(session: Session, chain_id: int) -> ChainDeployment | None:
    return session.get(ChainDeployment, chain_id)


def record_deployment(
    session: Session, chain_id: int, contract: str, tx_hash: str, block: int, at: datetime
) -> None:
    existing = session.get(ChainDeployment, chain_id)
    if existing is None:
        session.add(
            ChainDeployment(
                chain_id=chain_id,
                contract=contract,
                tx_hash=tx_hash,
                block_number=block,
                created_at=at,
            )
        )
    else:
        existing.contract, existing.tx_hash, existing.block_number = contract, tx_hash, block
        existing.created_at = at
    session.flush()
