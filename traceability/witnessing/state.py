"""The witness's memory: the latest cosigned checkpoint of each log, crash-safe.

One SQLite file (standard library, not the platform's database) in the state
directory, in WAL mode with ``synchronous=FULL``: a commit is on disk before
it returns. Checking a request against the stored size and recording the new
checkpoint happen inside one ``BEGIN IMMEDIATE`` transaction, so concurrent
requests (threads or processes) are serialised and a kill -9 at any instant
leaves either the old record or the new one, never an older size than one
already cosigned.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STATE_FILE = "witness-state.db"


@dataclass(frozen=True)
class LogRecord:
    """What the witness last cosigned for one origin."""

    origin: str
    tree_size: int
    root_hash: bytes
    note: str
    cosigned_at: int


class StateTransaction:
    """Reads and writes inside one exclusive transaction."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection

    def get(self, origin: str) -> LogRecord | None:
        row = self._db.execute(
            "SELECT origin, tree_size, root_hash, note, cosigned_at FROM logs WHERE origin = ?",
            (origin,),
        ).fetchone()
        if row is None:
            return None
        return LogRecord(row[0], int(row[1]), bytes(row[2]), row[3], int(row[4]))

    def put(self, record: LogRecord) -> None:
        self._db.execute(
            "INSERT INTO logs (origin, tree_size, root_hash, note, cosigned_at) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (origin) DO UPDATE SET "
            "tree_size = excluded.tree_size, root_hash = excluded.root_hash, "
            "note = excluded.note, cosigned_at = excluded.cosigned_at",
            (
                record.origin,
                str(record.tree_size),  # sizes go up to 2**64-1: beyond SQLite's INTEGER
                record.root_hash,
                record.note,
                record.cosigned_at,
            ),
        )


class WitnessState:
    """The state directory of one witness."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / STATE_FILE
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, tree_size TEXT NOT "
                "NULL, root_hash BLOB NOT NULL, note TEXT NOT NULL, cosigned_at INTEGER NOT NULL)"
            )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    @contextmanager
    def exclusive(self) -> Iterator[StateTransaction]:
        """One serialised transaction: committed when the block ends, rolled back if it raises."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield StateTransaction(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def read(self, origin: str) -> LogRecord | None:
        with self._connect() as db:
            return StateTransaction(db).get(origin)
