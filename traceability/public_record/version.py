"""Which version of a premises' public record is current, and the bytes built for one.

The record of a premises at minute ``m`` is a function of: the rows of the tables in
``WATCHED`` that belong to the premises, the log's events those rows name (append-only),
the largest final and on-chain anchored sizes, the minute itself (``as_of``, "reporting",
"online", the 90-day window, the local day all follow it) and the deployment's settings.
Triggers (migration 0011) add one to ``premises.record_version`` in the transaction of
any insert, update or delete of a watched row, whoever makes it, so

    (record_version, final anchored size, on-chain anchored size, minute)

names the record's bytes. One indexed query reads it: the ETag is made from it without
building the record, ``If-None-Match`` costs that query alone, and a worker keeps the
bytes it built under that name (``RecordBodies``) for the rest of the minute.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from traceability.errors import NotFound
from traceability.public_record import repository as repo

WATCHED = (
    "premises",
    "devices",
    "alerts",
    "alert_transitions",
    "records",
    "lots",
    "inspections",
    "grades",
    "cameras",
    "kitchen_snapshots",
    "probe_day_summaries",
)
"""The tables whose rows the record shows, each watched by a trigger of migration 0011."""


@dataclass(frozen=True)
class RecordVersion:
    """The name of one version of one premises' record."""

    premises_id: str
    record_version: int
    final_size: int
    on_chain_size: int
    minute: datetime

    @property
    def etag(self) -> str:
        """A strong validator: equal exactly when every input of the record is equal."""
        minute = int(self.minute.astimezone(UTC).timestamp()) // 60
        return f'"r{self.record_version}-{self.final_size}-{self.on_chain_size}-{minute}"'


def current_version(session: Session, premises_id: str, minute: datetime) -> RecordVersion:
    """The version of the premises' record at ``minute`` (whole minutes, UTC);
    ``NotFound`` for an unknown premises."""
    if minute.second or minute.microsecond:
        raise ValueError(f"{minute} is not a whole minute")
    found = repo.record_version(session, premises_id)
    if found is None:
        raise NotFound(f"no premises {premises_id}")
    version, final_size, on_chain_size = found
    return RecordVersion(premises_id, version, final_size, on_chain_size, minute)


class RecordBodies:
    """Per process, bounded: for each premises, the serialized record last built and the
    version it was built for; least recently used premises dropped first once
    ``max_entries`` or ``max_bytes`` is exceeded. A body is only ever returned for the
    exact version it was built for."""

    def __init__(self, max_entries: int = 2048, max_bytes: int = 64 * 1024 * 1024) -> None:
        self._lock = threading.Lock()
        self._bodies: OrderedDict[tuple[str, str], tuple[str, bytes]] = OrderedDict()
        self._bytes = 0
        self.max_entries = max_entries
        self.max_bytes = max_bytes

    def get(self, version: RecordVersion, base: str = "") -> bytes | None:
        """The body built for exactly ``version`` and reached at ``base`` (the URL base its
        links name), else None."""
        key = (version.premises_id, base)
        with self._lock:
            found = self._bodies.get(key)
            if found is None or found[0] != version.etag:
                return None
            self._bodies.move_to_end(key)
            return found[1]

    def put(self, version: RecordVersion, data: bytes, base: str = "") -> None:
        if len(data) > self.max_bytes:
            return
        key = (version.premises_id, base)
        with self._lock:
            old = self._bodies.pop(key, None)
            if old is not None:
                self._bytes -= len(old[1])
            self._bodies[key] = (version.etag, data)
            self._bytes += len(data)
            while len(self._bodies) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, dropped) = self._bodies.popitem(last=False)
                self._bytes -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._bytes = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._bodies)
