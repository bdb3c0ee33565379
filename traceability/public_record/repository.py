"""The read-only SQL behind the public sunshine record and lot provenance.

Every query is bounded: by a time window, a row limit, or both.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, func, select, union_all
from sqlalchemy.orm import Session

from traceability.chain.anchor_repository import ON_CHAIN
from traceability.storage.models import (
    AnchorRow,
    DeviceRow,
    EventRow,
    LotRow,
    PremisesRow,
    RecordRow,
)
from traceability.transparency.events import EventKind


def active_devices(session: Session, premises_id: str, *, limit: int) -> Sequence[DeviceRow]:
    return list(
        session.execute(
            select(DeviceRow)
            .where(DeviceRow.premises_id == premises_id, DeviceRow.status == "active")
            .order_by(DeviceRow.device_id)
            .limit(limit)
        ).scalars()
    )


def last_reading(session: Session, device_id: str) -> EventRow | None:
    return session.execute(
        select(EventRow)
        .where(
            EventRow.subject == f"device:{device_id}",
            EventRow.kind == EventKind.PROBE_READING.value,
        )
        .order_by(EventRow.occurred_at.desc(), EventRow.leaf_index.desc())
        .limit(1)
    ).scalar_one_or_none()


@functools.lru_cache(maxsize=64)
def _last_readings_statement(count: int) -> Any:
    """The statement for ``count`` devices (bound as s0, t0, s1, t1, ...), built once per
    count: building the subqueries costs more than running them."""
    newest = [
        select(EventRow.leaf_index)
        .where(
            EventRow.subject == bindparam(f"s{i}"),
            EventRow.occurred_at == bindparam(f"t{i}", type_=EventRow.occurred_at.type),
            EventRow.kind == EventKind.PROBE_READING.value,
        )
        .order_by(EventRow.leaf_index.desc())
        .limit(1)
        .subquery()
        for i in range(count)
    ]
    leaves = union_all(*[select(q.c.leaf_index) for q in newest]).subquery()
    return select(EventRow.subject, EventRow.occurred_at, EventRow.body).where(
        EventRow.leaf_index.in_(select(leaves.c.leaf_index))
    )


def last_readings(
    session: Session, devices: Sequence[DeviceRow]
) -> dict[str, tuple[datetime, bytes]]:
    """Each device's newest reading (occurred_at, body), in one round trip: the reading at
    the device's ``last_reading_at`` (kept by the intake), found by the (subject,
    occurred_at) index whatever the history."""
    known = [d for d in devices if d.last_reading_at is not None]
    if not known:
        return {}
    params: dict[str, Any] = {}
    for i, device in enumerate(known):
        params[f"s{i}"] = f"device:{device.device_id}"
        params[f"t{i}"] = device.last_reading_at
    rows = session.execute(_last_readings_statement(len(known)), params).all()
    return {subject.removeprefix("device:"): (at, bytes(body)) for subject, at, body in rows}


def latest_records(session: Session, premises_id: str, *, limit: int) -> Sequence[RecordRow]:
    return list(
        session.execute(
            select(RecordRow)
            .where(RecordRow.premises_id == premises_id)
            .order_by(RecordRow.record_date.desc(), RecordRow.occurred_at.desc())
            .limit(limit)
        ).scalars()
    )


def latest_lots(session: Session, premises_id: str, *, limit: int) -> Sequence[LotRow]:
    return list(
        session.execute(
            select(LotRow)
            .where(LotRow.premises_id == premises_id)
            .order_by(LotRow.received_on.desc(), LotRow.id.desc())
            .limit(limit)
        ).scalars()
    )


def lots_by_code(
    session: Session, gtins: Sequence[str], lot_code: str, *, limit: int
) -> Sequence[LotRow]:
    """Receipts of one lot, the GTIN given in any of its spellings (8-14 digits)."""
    return list(
        session.execute(
            select(LotRow)
            .where(LotRow.gtin.in_(list(gtins)), LotRow.lot_code == lot_code)
            .order_by(LotRow.received_on.desc(), LotRow.id.desc())
            .limit(limit)
        ).scalars()
    )


def leaf_indexes(session: Session, event_ids: Iterable[str]) -> dict[str, int]:
    wanted = sorted(set(event_ids))
    found: dict[str, int] = {}
    # Chunked so that an IN list stays small on every backend.
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(EventRow.event_id, EventRow.leaf_index).where(EventRow.event_id.in_(chunk))
        ).all()
        found.update({event_id: int(index) for event_id, index in rows})
    return found


def anchored_sizes(session: Session) -> tuple[int, int]:
    """(largest final anchored size, largest on-chain size, final or merely confirmed).

    Anchored sizes only grow, so a leaf is covered exactly when its index is below one.
    """
    final, on_chain = session.execute(
        select(
            func.max(case((AnchorRow.status == "final", AnchorRow.tree_size))),
            func.max(case((AnchorRow.status.in_(ON_CHAIN), AnchorRow.tree_size))),
        )
    ).one()
    return int(final or 0), int(on_chain or 0)


def premises_by_id(session: Session, premises_ids: Iterable[str]) -> dict[str, PremisesRow]:
    wanted = sorted(set(premises_ids))
    if not wanted:
        return {}
    rows = session.execute(select(PremisesRow).where(PremisesRow.premises_id.in_(wanted))).scalars()
    return {row.premises_id: row for row in rows}


# Built once: the most frequent query of the public API (every record request and every
# revalidation) then skips building the statement and its cache key.
_RECORD_VERSION = select(
    PremisesRow.record_version,
    select(func.max(AnchorRow.tree_size)).where(AnchorRow.status == "final").scalar_subquery(),
    select(func.max(AnchorRow.tree_size)).where(AnchorRow.status.in_(ON_CHAIN)).scalar_subquery(),
).where(PremisesRow.premises_id == bindparam("premises_id"))


def record_version(session: Session, premises_id: str) -> tuple[int, int, int] | None:
    """(the premises' ``record_version``, largest final anchored size, largest on-chain
    size) in one round trip, or None for an unknown premises: primary-key and index
    lookups only, whatever the history."""
    # Core execution on the session's connection: no ORM entities, so no ORM compile step.
    row = session.connection().execute(_RECORD_VERSION, {"premises_id": premises_id}).one_or_none()
    if row is None:
        return None
    version, final_size, on_chain_size = row
    return int(version), int(final_size or 0), int(on_chain_size or 0)
