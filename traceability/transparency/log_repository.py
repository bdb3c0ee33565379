"""All SQL of the log: its state row, tiles, events and checkpoints."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, and_, insert, literal, or_, select, update
from sqlalchemy.orm import Session

from traceability.storage.models import CheckpointRow, EventRow, LogState, LogTile, PersonalValue
from traceability.transparency.tiles import EMPTY_ROOT, TileKey

LOG_STATE_ID = 1


def ensure_state(session: Session, origin: str) -> None:
    """Create the log's state row on first use."""
    if session.get(LogState, LOG_STATE_ID) is None:
        session.add(LogState(id=LOG_STATE_ID, origin=origin, tree_size=0, root_hash=EMPTY_ROOT))
        session.flush()


def lock_state(session: Session) -> LogState:
    """Take the append lock: a no-op UPDATE locks the row (PostgreSQL) or the file (SQLite).

    It is the first statement of the transaction, so SQLite's writer lock is
    taken before any read and two appenders cannot deadlock on an upgrade.
    """
    session.execute(
        update(LogState)
        .where(LogState.id == LOG_STATE_ID)
        .values(tree_size=LogState.tree_size)
        .execution_options(synchronize_session=False)
    )
    state = session.execute(
        select(LogState)
        .where(LogState.id == LOG_STATE_ID)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if state is None:
        raise LookupError("the log has no state row; run the migrations and ensure_state first")
    return state


def read_state(session: Session) -> LogState | None:
    return session.execute(
        select(LogState)
        .where(LogState.id == LOG_STATE_ID)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def known_roots(session: Session, sizes: Sequence[int]) -> tuple[int, dict[int, bytes]]:
    """The log's size and the roots recorded (state row, checkpoints) for ``sizes``."""
    state = select(literal(0).label("from_state"), LogState.tree_size, LogState.root_hash).where(
        LogState.id == LOG_STATE_ID
    )
    checkpoints = select(
        literal(1).label("from_state"), CheckpointRow.tree_size, CheckpointRow.root_hash
    ).where(CheckpointRow.tree_size.in_(list(sizes)))
    current, roots = 0, {}
    for from_state, size, root in session.execute(state.union_all(checkpoints)):
        if from_state == 0:
            current = int(size)
        if from_state == 0 and size not in sizes:
            continue
        roots[int(size)] = bytes(root)
    return current, roots


def read_tiles(session: Session, keys: Iterable[TileKey]) -> dict[TileKey, bytes]:
    """Fetch tiles in one query, as an index lookup per level.

    Spelled ``level = L AND idx IN (...)`` per level: SQLite plans a row-value
    ``(level, idx) IN (...)`` as a full table scan, which grows with the log.
    """
    by_level: dict[int, list[int]] = {}
    for level, idx in keys:
        by_level.setdefault(level, []).append(idx)
    if not by_level:
        return {}
    condition = or_(
        *(and_(LogTile.level == level, LogTile.idx.in_(idxs)) for level, idxs in by_level.items())
    )
    rows = session.execute(select(LogTile.level, LogTile.idx, LogTile.hashes).where(condition))
    return {(level, idx): bytes(hashes) for level, idx, hashes in rows}


def write_tiles(
    session: Session, tiles: Mapping[TileKey, bytes], existing: Iterable[TileKey]
) -> None:
    """Insert new tiles and overwrite the edge tiles that grew."""
    known = set(existing)
    updates = [{"level": k[0], "idx": k[1], "hashes": v} for k, v in tiles.items() if k in known]
    inserts = [
        {"level": k[0], "idx": k[1], "hashes": v} for k, v in tiles.items() if k not in known
    ]
    if inserts:
        session.execute(insert(LogTile), inserts)
    for row in updates:
        session.execute(
            update(LogTile)
            .where(LogTile.level == row["level"], LogTile.idx == row["idx"])
            .values(hashes=row["hashes"])
            .execution_options(synchronize_session=False)
        )


def set_state(session: Session, tree_size: int, root_hash: bytes) -> None:
    session.execute(
        update(LogState)
        .where(LogState.id == LOG_STATE_ID)
        .values(tree_size=tree_size, root_hash=root_hash)
        .execution_options(synchronize_session=False)
    )


EVENT_COLUMNS = (
    "leaf_index",
    "event_id",
    "kind",
    "subject",
    "occurred_at",
    "recorded_at",
    "body",
    "leaf_hash",
)


def insert_events(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert event rows; on PostgreSQL with COPY, several times faster than INSERTs."""
    if not rows:
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        connection.execute(cast(Table, EventRow.__table__).insert(), list(rows))
        return
    raw = connection.connection.dbapi_connection
    assert raw is not None
    with raw.cursor() as cursor:  # type: ignore[attr-defined]
        statement = f"COPY events ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
        with cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row([row[column] for column in EVENT_COLUMNS])


def insert_personal_values(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(PersonalValue), list(rows))


def events_by_ids(session: Session, event_ids: Sequence[str]) -> dict[str, EventRow]:
    if not event_ids:
        return {}
    found = session.execute(select(EventRow).where(EventRow.event_id.in_(event_ids))).scalars()
    return {row.event_id: row for row in found}


def event_at(session: Session, leaf_index: int) -> EventRow | None:
    return session.get(EventRow, leaf_index)


def event_bodies(session: Session, start: int, end: int) -> list[tuple[int, bytes]]:
    """(leaf_index, body) of the events with ``start <= leaf_index < end``, in order."""
    rows = session.execute(
        select(EventRow.leaf_index, EventRow.body)
        .where(EventRow.leaf_index >= start, EventRow.leaf_index < end)
        .order_by(EventRow.leaf_index)
    )
    return [(int(index), bytes(body)) for index, body in rows]


def event_by_id(session: Session, event_id: str) -> EventRow | None:
    return session.execute(
        select(EventRow).where(EventRow.event_id == event_id)
    ).scalar_one_or_none()


def salts_of(session: Session, event_id: str) -> dict[str, bytes | None]:
    rows = session.execute(
        select(PersonalValue.path, PersonalValue.salt).where(PersonalValue.event_id == event_id)
    )
    return {path: (bytes(salt) if salt is not None else None) for path, salt in rows}


def latest_checkpoint(session: Session) -> CheckpointRow | None:
    return session.execute(
        select(CheckpointRow).order_by(CheckpointRow.tree_size.desc()).limit(1)
    ).scalar_one_or_none()


def checkpoint_at(session: Session, tree_size: int) -> CheckpointRow | None:
    return session.get(CheckpointRow, tree_size)


def insert_checkpoint(
    session: Session, tree_size: int, root_hash: bytes, note: str, created_at: datetime
) -> CheckpointRow:
    row = CheckpointRow(tree_size=tree_size, root_hash=root_hash, note=note, created_at=created_at)
    session.add(row)
    session.flush()
    return row


def erase_personal_values(session: Session, event_id: str, erased_at: datetime) -> int:
    """Forget the salts and clear values of one event; return how many were erased."""
    result = session.execute(
        update(PersonalValue)
        .where(PersonalValue.event_id == event_id, PersonalValue.erased_at.is_(None))
        .values(salt=None, value=None, erased_at=erased_at)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def personal_values_of(session: Session, event_id: str) -> list[PersonalValue]:
    return list(
        session.execute(
            select(PersonalValue)
            .where(PersonalValue.event_id == event_id)
            .order_by(PersonalValue.id)
        ).scalars()
    )


# -- the full-log audit: streaming reads -----------------------------------------


def events_page(
    session: Session, after: int | None, before: int, limit: int
) -> Sequence[tuple[int, str, str, str, datetime, datetime, bytes, bytes]]:
    """Up to ``limit`` events with ``after < leaf_index < before``, in leaf order.

    ``after=None`` sets no lower bound (so rows with a negative index show up).
    Plain tuples, not ORM objects: a page leaves nothing behind in the session.
    Columns: leaf_index, event_id, kind, subject, occurred_at, recorded_at, body, leaf_hash.
    """
    query = select(
        EventRow.leaf_index,
        EventRow.event_id,
        EventRow.kind,
        EventRow.subject,
        EventRow.occurred_at,
        EventRow.recorded_at,
        EventRow.body,
        EventRow.leaf_hash,
    ).where(EventRow.leaf_index < before)
    if after is not None:
        query = query.where(EventRow.leaf_index > after)
    return session.execute(query.order_by(EventRow.leaf_index).limit(limit)).all()


def last_event_index(session: Session) -> int | None:
    """The largest leaf index of any event row."""
    return session.execute(
        select(EventRow.leaf_index).order_by(EventRow.leaf_index.desc()).limit(1)
    ).scalar_one_or_none()


def first_event_index_from(session: Session, start: int) -> int | None:
    """The smallest leaf index of an event row at or after ``start``."""
    return session.execute(
        select(EventRow.leaf_index)
        .where(EventRow.leaf_index >= start)
        .order_by(EventRow.leaf_index)
        .limit(1)
    ).scalar_one_or_none()


def state_now(session: Session) -> tuple[str, int, bytes] | None:
    """The state's (origin, tree_size, root_hash) as the database has it now.

    A column query, so a state row the session loaded earlier cannot answer instead.
    """
    row = session.execute(
        select(LogState.origin, LogState.tree_size, LogState.root_hash).where(
            LogState.id == LOG_STATE_ID
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1], bytes(row[2]))


def checkpoints_in_order(session: Session) -> Sequence[tuple[int, bytes, str]]:
    """Every checkpoint as (tree_size, root_hash, note), smallest size first."""
    return session.execute(
        select(CheckpointRow.tree_size, CheckpointRow.root_hash, CheckpointRow.note).order_by(
            CheckpointRow.tree_size
        )
    ).all()


def stray_tiles(session: Session, tiles_per_level: Sequence[int], limit: int) -> list[TileKey]:
    """Stored tiles outside a tree whose level ``L`` has ``tiles_per_level[L]`` tiles."""
    outside = [
        LogTile.level < 0,
        LogTile.level >= len(tiles_per_level),
        LogTile.idx < 0,
        *(
            and_(LogTile.level == level, LogTile.idx >= count)
            for level, count in enumerate(tiles_per_level)
        ),
    ]
    rows = session.execute(
        select(LogTile.level, LogTile.idx)
        .where(or_(*outside))
        .order_by(LogTile.level, LogTile.idx)
        .limit(limit)
    )
    return [(level, idx) for level, idx in rows]
