"""Ingest: validate events, commit personal data, append to the log, hand out receipts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability import merkle
from traceability.errors import Conflict, Invalid
from traceability.transparency import log_repository as repo
from traceability.transparency.events import (
    EventInput,
    PreparedEvent,
    parse_event_input,
    prepare_event,
    rfc3339,
)
from traceability.transparency.log import TransparencyLog
from traceability.transparency.receipts import Receipt

MAX_BATCH = 10_000


@dataclass(frozen=True)
class IngestResult:
    receipts: list[Receipt]
    appended: int
    """How many events were new (the others were resubmissions)."""
    new: list[tuple[int, PreparedEvent]] = field(default_factory=list)
    """The new events, each with its position in the batch (what a caller projects)."""


def parse_batch(raw_events: Sequence[Any]) -> list[EventInput]:
    """Validate every event of a batch; one bad event rejects the batch, naming it."""
    if len(raw_events) > MAX_BATCH:
        raise Invalid(f"batch of {len(raw_events)} events is over the limit of {MAX_BATCH}")
    parsed = []
    for position, raw in enumerate(raw_events):
        try:
            parsed.append(parse_event_input(raw))
        except Invalid as exc:
            raise Invalid(f"event {position}: {exc.detail}") from None
    return parsed


class Ingest:
    """Appends events to one log. Idempotent on event id."""

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log

    def ingest(
        self, session: Session, events: Sequence[EventInput], now: datetime | None = None
    ) -> IngestResult:
        """Log a validated batch atomically and return one receipt per event, in order.

        An event id seen before (stored, or earlier in the batch) with the same
        content gets the receipt it got then; with other content the whole
        batch is refused (``Conflict``). ``now`` is the recording time (the
        clock's, unless given).
        """
        recorded_at = now or datetime.now(UTC)
        first = self.log.lock(session)  # serialises appenders; held until commit
        prepared = [prepare_event(e, recorded_at) for e in events]
        stored = repo.events_by_ids(session, [p.event_id for p in prepared])
        receipts: list[Receipt] = []
        new: list[PreparedEvent] = []
        positions: list[int] = []
        seen: dict[str, tuple[PreparedEvent, int]] = {}
        for position, (raw, event) in enumerate(zip(events, prepared, strict=True)):
            if event.event_id in stored:
                receipts.append(self._resubmitted(session, position, raw, stored[event.event_id]))
                continue
            if event.event_id in seen:
                earlier, index = seen[event.event_id]
                if not _same_content(earlier, raw, recorded_at):
                    raise Conflict(
                        f"event {position}: id {event.event_id} repeats with other content"
                    )
                receipts.append(self._receipt(earlier, index))
                continue
            index = first + len(new)
            seen[event.event_id] = (event, index)
            new.append(event)
            positions.append(position)
            receipts.append(self._receipt(event, index))
        self.store(session, first, new)
        return IngestResult(receipts, len(new), list(zip(positions, new, strict=True)))

    def append(self, session: Session, events: Sequence[PreparedEvent]) -> list[tuple[int, bytes]]:
        """Take the log lock (if this transaction does not hold it yet) and append trusted,
        prepared events; return each one's (leaf index, leaf hash).

        Services that decide on stored state (an alert's status, a device's last
        sequence number) should call ``log.lock`` first and read after it, so
        that the decision and the append are serialised with other writers.
        """
        first = self.log.lock(session)
        leaves = self.store(session, first, events)
        return [(first + i, leaf) for i, leaf in enumerate(leaves)]

    def store(self, session: Session, first: int, new: Sequence[PreparedEvent]) -> list[bytes]:
        """Append prepared events at ``first`` (the caller holds the log lock); return leaves."""
        leaves = [merkle.leaf_hash(e.body) for e in new]
        self.log.append(session, leaves)
        repo.insert_events(
            session,
            [
                {
                    "leaf_index": first + i,
                    "event_id": e.event_id,
                    "kind": e.kind.value,
                    "subject": e.subject,
                    "occurred_at": e.occurred_at,
                    "recorded_at": e.recorded_at,
                    "body": e.body,
                    "leaf_hash": leaf,
                }
                for i, (e, leaf) in enumerate(zip(new, leaves, strict=True))
            ],
        )
        repo.insert_personal_values(
            session,
            [
                {"event_id": e.event_id, "path": c.path, "salt": c.salt, "value": c.value_json}
                for e in new
                for c in e.personal
            ],
        )
        return leaves

    def _receipt(self, event: PreparedEvent, index: int) -> Receipt:
        return Receipt(
            origin=self.log.origin,
            event_id=event.event_id,
            leaf_index=index,
            leaf_hash=merkle.leaf_hash(event.body),
            recorded_at=event.public["recorded_at"],
        )

    def _resubmitted(self, session: Session, position: int, raw: EventInput, row: Any) -> Receipt:
        salts = repo.salts_of(session, row.event_id)
        erased = [path for path, salt in salts.items() if salt is None]
        if erased:
            raise Conflict(
                f"event {position}: id {row.event_id} was logged and its personal data erased "
                f"({', '.join(erased)}); it cannot be resubmitted"
            )
        try:
            again = prepare_event(
                raw,
                row.recorded_at,
                event_id=row.event_id,
                salts={p: s for p, s in salts.items() if s is not None},
            )
        except Invalid:
            again = None
        if again is None or again.body != bytes(row.body):
            raise Conflict(
                f"event {position}: id {row.event_id} is already logged with other content"
            )
        return Receipt(
            origin=self.log.origin,
            event_id=row.event_id,
            leaf_index=row.leaf_index,
            leaf_hash=bytes(row.leaf_hash),
            recorded_at=rfc3339(row.recorded_at),
        )


def _same_content(earlier: PreparedEvent, raw: EventInput, recorded_at: datetime) -> bool:
    """Whether ``raw`` commits to the same public form as ``earlier``, using its salts."""
    salts = {c.path: c.salt for c in earlier.personal}
    try:
        again = prepare_event(raw, recorded_at, event_id=earlier.event_id, salts=salts)
    except Invalid:
        return False
    return again.body == earlier.body
