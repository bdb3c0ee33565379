"""Tampering with a stored log the way an attacker with database access would.

Shared by tests/traceability/transparency/test_audit.py and
tests/reliability/test_tamper_detection.py:
a log builder (``Logged``), one function per kind of change, each returning a
``Tamper`` that edits the tables with plain SQL, and ``random_tamper``, which
draws one change together with where the audit must find it.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, delete, insert, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from traceability import demo as demo_package
from traceability import merkle
from traceability.demo.scenario import Scenario, parse_scenario
from traceability.entrypoints.demo_city import seed_demo_city
from traceability.platform import Platform
from traceability.settings import Settings
from traceability.storage.db import engine_for, transaction
from traceability.storage.models import (
    AlertRow,
    AlertTransitionRow,
    Base,
    CheckpointRow,
    DeviceRow,
    EventRow,
    GradeRow,
    InspectionRow,
    LogState,
    LogTile,
    LotRow,
    PersonalValue,
    ProbeDaySummaryRow,
    RecordRow,
)
from traceability.transparency.audit import AuditReport, audit_log
from traceability.transparency.checkpoints import Checkpoint, NoteSigner, sign_checkpoint
from traceability.transparency.ingest import Ingest, parse_batch
from traceability.transparency.log import TransparencyLog
from traceability.transparency.tiles import TILE_WIDTH, append_leaves

SIZE = 700
CHECKPOINTS = (5, 300, 512, 700)
KINDS = ("probe_reading", "restaurant_record", "inspection")
Tamper = Callable[[Session], None]


def raw_event(i: int) -> dict[str, Any]:
    """Probe readings, with a morning check naming staff (personal data) every 10th."""
    at = f"2026-11-25T{6 + i // 3600 % 12:02d}:{i // 60 % 60:02d}:{i % 60:02d}.{i:06d}Z"
    if i % 10 == 0:
        return {
            "kind": "restaurant_record",
            "subject": f"premises:p-{i % 7:03d}",
            "occurred_at": at,
            "payload": {
                "record_type": "morning_check",
                "staff": [{"name": f"员工{i}"}, {"name": "李四", "excluded_reason": "fever"}],
                "recorded_by": "王五",
            },
        }
    if i % 10 == 5:
        return {
            "kind": "inspection",
            "subject": f"premises:p-{i % 7:03d}",
            "occurred_at": at,
            "payload": {"inspector_org": "district-3", "score": i % 100},
        }
    return {
        "kind": "probe_reading",
        "subject": f"device:fr-{i % 13:04d}",
        "occurred_at": at,
        "payload": {
            "device_id": f"fr-{i % 13:04d}",
            "seq": i,
            "measured_at": at,
            "values": [{"type": "Temperature", "value": 3.5 + i % 9 / 4, "uom": "CEL"}],
        },
    }


@dataclass
class Logged:
    sessions: sessionmaker[Session]
    log: TransparencyLog
    signer: NoteSigner
    size: int = 0
    checkpoints: tuple[int, ...] = ()
    roots: dict[int, bytes] = field(default_factory=dict)

    def build(self, size: int = SIZE, checkpoints: tuple[int, ...] = CHECKPOINTS) -> None:
        """Empty the log tables and log ``size`` events, signing a checkpoint at each size."""
        with transaction(self.sessions) as session:
            for model in (PersonalValue, EventRow, LogTile, CheckpointRow, LogState):
                session.execute(delete(model))
            self.log.initialise(session)
        ingest = Ingest(self.log)
        start = 0
        for cut in (*checkpoints, size):
            if cut < start:
                continue
            with transaction(self.sessions) as session:
                ingest.ingest(session, parse_batch([raw_event(i) for i in range(start, cut)]))
                self.log.checkpoint(session, self.signer)
            start = cut
        self.size = size
        self.checkpoints = tuple(sorted({*checkpoints, size}))
        with self.sessions() as session:
            self.roots = {s: self.log.root(session, s) for s in self.checkpoints}

    def audit(self, **kwargs: Any) -> AuditReport:
        with self.sessions() as session:
            return audit_log(session, self.log, self.signer.verifier(), **kwargs)

    def tamper(self, change: Tamper) -> None:
        with transaction(self.sessions) as session:
            change(session)


# --------------------------------------------------------------------------- tampering


def event_row(session: Session, index: int) -> Any:
    return session.execute(select(EventRow).where(EventRow.leaf_index == index)).scalar_one()


def set_event(index: int, **values: Any) -> Tamper:
    def change(session: Session) -> None:
        session.execute(update(EventRow).where(EventRow.leaf_index == index).values(**values))

    return change


def edit_body(index: int, position: int | None = None, xor: int = 0x01) -> Tamper:
    """Change one byte of the body (by default a digit of the payload)."""

    def change(session: Session) -> None:
        body = bytearray(event_row(session, index).body)
        where = position
        if where is None:
            payload = body.index(b'"payload"')
            where = next(p for p in range(payload, len(body)) if chr(body[p]).isdigit())
        body[where % len(body)] ^= xor
        set_event(index, body=bytes(body))(session)

    return change


def edit_leaf_hash(index: int, position: int = 7) -> Tamper:
    def change(session: Session) -> None:
        leaf = bytearray(event_row(session, index).leaf_hash)
        leaf[position % 32] ^= 0x80
        set_event(index, leaf_hash=bytes(leaf))(session)

    return change


def edit_column(index: int, column: str) -> Tamper:
    def change(session: Session) -> None:
        row = event_row(session, index)
        values: dict[str, Any] = {
            "event_id": str(uuid.uuid4()),
            "kind": next(k for k in KINDS if k != row.kind),
            "subject": row.subject + "x",
            "occurred_at": row.occurred_at + timedelta(seconds=1),
            "recorded_at": row.recorded_at - timedelta(microseconds=1),
        }
        if column != "event_id":
            set_event(index, **{column: values[column]})(session)
            return
        # The personal values point at the id (a foreign key): move them along.
        personal = session.execute(
            select(PersonalValue.path, PersonalValue.salt, PersonalValue.value).where(
                PersonalValue.event_id == row.event_id
            )
        ).all()
        session.execute(delete(PersonalValue).where(PersonalValue.event_id == row.event_id))
        set_event(index, event_id=values["event_id"])(session)
        for path, salt, value in personal:
            session.execute(
                insert(PersonalValue).values(
                    event_id=values["event_id"], path=path, salt=salt, value=value
                )
            )

    return change


def delete_events(*indices: int) -> Tamper:
    def change(session: Session) -> None:
        ids = session.scalars(
            select(EventRow.event_id).where(EventRow.leaf_index.in_(indices))
        ).all()
        session.execute(delete(PersonalValue).where(PersonalValue.event_id.in_(ids)))
        session.execute(delete(EventRow).where(EventRow.leaf_index.in_(indices)))

    return change


def insert_event(index: int, copy_of: int = 10) -> Tamper:
    def change(session: Session) -> None:
        row = event_row(session, copy_of)
        session.execute(
            insert(EventRow).values(
                leaf_index=index,
                event_id=str(uuid.uuid4()),
                kind=row.kind,
                subject=row.subject,
                occurred_at=row.occurred_at,
                recorded_at=row.recorded_at,
                body=row.body,
                leaf_hash=row.leaf_hash,
            )
        )

    return change


def swap_events(first: int, second: int) -> Tamper:
    def change(session: Session) -> None:
        a, b = event_row(session, first), event_row(session, second)
        body_a, leaf_a, body_b, leaf_b = a.body, a.leaf_hash, b.body, b.leaf_hash
        set_event(first, body=body_b, leaf_hash=leaf_b)(session)
        set_event(second, body=body_a, leaf_hash=leaf_a)(session)

    return change


def edit_tile(level: int, idx: int, position: int) -> Tamper:
    def change(session: Session) -> None:
        key = (LogTile.level == level, LogTile.idx == idx)
        blob = bytearray(session.execute(select(LogTile.hashes).where(*key)).scalar_one())
        blob[position] ^= 0x01
        session.execute(update(LogTile).where(*key).values(hashes=bytes(blob)))

    return change


def delete_tile(level: int, idx: int) -> Tamper:
    def change(session: Session) -> None:
        session.execute(delete(LogTile).where(LogTile.level == level, LogTile.idx == idx))

    return change


def insert_tile(level: int, idx: int) -> Tamper:
    def change(session: Session) -> None:
        session.execute(insert(LogTile).values(level=level, idx=idx, hashes=b"\x07" * 32))

    return change


def resign_checkpoint(
    size: int, origin: str = "test.sunledger/log", signer: NoteSigner | None = None
) -> Tamper:
    """Replace a checkpoint's note; by default with one by another key of the same name."""

    def change(session: Session) -> None:
        root = session.execute(
            select(CheckpointRow.root_hash).where(CheckpointRow.tree_size == size)
        ).scalar_one()
        by = signer or NoteSigner.generate("test-log")
        note = sign_checkpoint(Checkpoint(origin, size, root), by)
        session.execute(
            update(CheckpointRow).where(CheckpointRow.tree_size == size).values(note=note)
        )

    return change


def edit_checkpoint_root(size: int, position: int = 0) -> Tamper:
    def change(session: Session) -> None:
        where = CheckpointRow.tree_size == size
        root = bytearray(session.execute(select(CheckpointRow.root_hash).where(where)).scalar_one())
        root[position % 32] ^= 0x01
        session.execute(update(CheckpointRow).where(where).values(root_hash=bytes(root)))

    return change


def edit_state(**values: Any) -> Tamper:
    def change(session: Session) -> None:
        session.execute(update(LogState).values(**values))

    return change


def rewrite_consistently(index: int) -> Tamper:
    """Change an event and recompute its leaf, every tile and the state root, as a careful
    attacker would: only the signed checkpoints can give it away."""

    def change(session: Session) -> None:
        row = event_row(session, index)
        body = row.body.replace(b'"seq":', b'"seq":1', 1)
        assert body != row.body
        leaves = list(session.scalars(select(EventRow.leaf_hash).order_by(EventRow.leaf_index)))
        leaves[index] = merkle.leaf_hash(body)
        set_event(index, body=body, leaf_hash=leaves[index])(session)
        for (level, idx), blob in append_leaves(0, {}, leaves).tiles.items():
            session.execute(
                update(LogTile)
                .where(LogTile.level == level, LogTile.idx == idx)
                .values(hashes=blob)
            )
        session.execute(update(LogState).values(root_hash=merkle.root(leaves)))

    return change


# --------------------------------------------------------------------------- random tampering


def insert_shifted(index: int, copy_of: int) -> Tamper:
    """Slip a forged event in at ``index``, moving every later row up by one (as an attacker
    inserting into the middle of the log would); the forged row is a copy of another event
    under a fresh id, with a leaf hash that matches its body."""

    def change(session: Session) -> None:
        row = event_row(session, copy_of)
        copied = (row.kind, row.subject, row.occurred_at, row.recorded_at, row.body, row.leaf_hash)
        # Two steps, so no row ever lands on an index another row still holds.
        session.execute(
            update(EventRow)
            .where(EventRow.leaf_index >= index)
            .values(leaf_index=EventRow.leaf_index + _FAR)
        )
        session.execute(
            update(EventRow)
            .where(EventRow.leaf_index >= _FAR)
            .values(leaf_index=EventRow.leaf_index - _FAR + 1)
        )
        kind, subject, occurred_at, recorded_at, body, leaf = copied
        session.execute(
            insert(EventRow).values(
                leaf_index=index,
                event_id=str(uuid.uuid4()),
                kind=kind,
                subject=subject,
                occurred_at=occurred_at,
                recorded_at=recorded_at,
                body=body,
                leaf_hash=leaf,
            )
        )

    return change


_FAR = 1 << 40

BASIC_KINDS = (
    "body",
    "leaf_hash",
    "column",
    "delete",
    "extra",
    "swap",
    "truncate",
    "tile0",
    "tile1",
    "checkpoint_root",
    "checkpoint_note",
    "state_root",
)
"""The kinds the audit's own 60-round test draws from."""

ALL_KINDS = (
    *BASIC_KINDS,
    "delete_range",
    "insert_shifted",
    "tile0_delete",
    "stray_tile",
    "checkpoint_origin",
    "state_size_raised",
    "state_size_lowered",
    "consistent_rewrite",
)
"""Every kind of change ``random_tamper`` can make."""


def random_tamper(
    rng: random.Random, logged: Logged, kinds: tuple[str, ...] = BASIC_KINDS
) -> tuple[str, Tamper, int | None, int | None]:
    """A random mutation with the first divergent index and size it must be found at."""
    n, cps = logged.size, logged.checkpoints
    i, j = sorted(rng.sample(range(n), 2))
    kind = rng.choice(kinds)
    if kind == "body":
        return kind, edit_body(i, rng.randrange(10_000), rng.randrange(1, 256)), i, None
    if kind == "leaf_hash":
        return kind, edit_leaf_hash(i, rng.randrange(32)), i, None
    if kind == "column":
        column = rng.choice(["event_id", "kind", "subject", "occurred_at", "recorded_at"])
        return f"{kind} {column}", edit_column(i, column), i, None
    if kind == "delete":
        return kind, delete_events(i), i, None
    if kind == "delete_range":
        return kind, delete_events(*range(i, min(n, i + rng.randrange(2, 40)))), i, None
    if kind == "extra":
        at = n + rng.randrange(3)
        return kind, insert_event(at, i), at, None
    if kind == "insert_shifted":
        return kind, insert_shifted(i, j), i, None
    if kind == "swap":
        return kind, swap_events(i, j), i, None
    if kind == "truncate":
        k = rng.randrange(1, 20)
        return f"{kind} {k}", delete_events(*range(n - k, n)), n - k, None
    if kind == "tile0":
        byte = rng.randrange(n * 32)
        tile, offset = divmod(byte, TILE_WIDTH * 32)
        return kind, edit_tile(0, tile, offset), byte // 32, None
    if kind == "tile1":
        byte = rng.randrange(n // TILE_WIDTH * 32)
        return kind, edit_tile(1, 0, byte), byte // 32 * TILE_WIDTH, None
    if kind == "tile0_delete":
        tile = rng.randrange(-(-n // TILE_WIDTH))
        return kind, delete_tile(0, tile), tile * TILE_WIDTH, None
    if kind == "stray_tile":
        tile = -(-n // TILE_WIDTH) + rng.randrange(4)
        return kind, insert_tile(0, tile), tile * TILE_WIDTH, None
    if kind == "state_size_raised":
        return kind, edit_state(tree_size=n + rng.randrange(1, 50)), n, None
    if kind == "state_size_lowered":
        at = rng.randrange(max(cps[-2] if len(cps) > 1 else 1, n - 200) + 1, n)
        return kind, edit_state(tree_size=at), at, None
    if kind == "consistent_rewrite":
        probe = rng.choice([k for k in range(n) if k % 10 not in (0, 5)])
        return kind, rewrite_consistently(probe), None, min(c for c in cps if c > probe)
    size = rng.choice(cps)
    if kind == "checkpoint_root":
        return kind, edit_checkpoint_root(size, rng.randrange(32)), None, size
    if kind == "checkpoint_note":
        return kind, resign_checkpoint(size), None, size
    if kind == "checkpoint_origin":
        return kind, resign_checkpoint(size, "forged.example/log", logged.signer), None, size
    return kind, edit_state(root_hash=rng.randbytes(32)), None, n


# --------------------------------------------------------------------------- projection tampering
#
# The projections (grades, inspections, records, lots, alerts, alert transitions,
# devices) are edited with plain SQL while the log stays intact; ``sunledger audit``
# must name each change by table, key and field (traceability/projections/audit.py).

PROJECTION_NOW = datetime(2026, 11, 25, 6, 0, tzinfo=UTC)
"""The fixed instant the projection city's week ends at."""


def projection_scenario() -> Scenario:
    """The demo city cut down to the premises its story needs, one probe each (the story's
    own probe where it has one) and only the pest camera: every projected table gets rows
    (probe, record, inspection and vision alerts, rectified and closed or escalated; records
    of every type; lots; grades and a no-grade period) in far fewer readings."""
    raw = json.loads((Path(demo_package.__file__).parent / "scenario.json").read_text("utf-8"))
    story = raw["story"]
    devices = {step.get("device") for step in story.values()}
    cameras = {step.get("camera") for step in story.values()}
    wanted = {step.get("premises") for step in story.values()} | {
        "p-jade-dumpling",
        "p-harbour-central-kitchen",
        "p-spice-wok",
        "p-oldtown-primary-canteen",
    }
    kept = []
    for premises in raw["premises"]:
        if premises["id"] not in wanted:
            continue
        premises["devices"] = [d for d in premises["devices"] if d["id"] in devices] or (
            premises["devices"][:1]
        )
        if premises.get("cameras"):
            premises["cameras"] = [c for c in premises["cameras"] if c["id"] in cameras]
        kept.append(premises)
    raw["premises"] = kept
    return parse_scenario(raw)


def seed_projection_city(data_dir: Path) -> Settings:
    """Seed the cut-down city (through the platform's services) on SQLite in ``data_dir``."""
    settings = Settings(data_dir=data_dir)
    platform = Platform.open(settings)
    try:
        seed_demo_city(platform, projection_scenario(), now=PROJECTION_NOW)
    finally:
        platform.close()
    engine = engine_for(settings)
    with engine.begin() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return settings


def copy_tables(source: Engine, target: Engine) -> None:
    """Copy every table of the schema from ``source`` to ``target`` (emptied first)."""
    tables = Base.metadata.sorted_tables
    with target.begin() as out:
        for table in reversed(tables):
            out.execute(table.delete())
        with source.connect() as src:
            for table in tables:
                rows = [dict(r._mapping) for r in src.execute(select(table))]
                for start in range(0, len(rows), 2000):
                    out.execute(insert(table), rows[start : start + 2000])


@dataclass(frozen=True)
class ProjectedTable:
    """How the tamper kit addresses one projection table."""

    model: Any
    primary: tuple[str, ...]
    """The row's primary key columns (how SQL finds it)."""
    audit_key: Callable[[Any], str]
    """The key the audit names the row by."""
    key_columns: tuple[str, ...]
    """Columns whose change moves the row to another audit key."""
    fields: tuple[str, ...]
    """The audited columns the kit edits."""
    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    deletable: Callable[[Any], bool] = lambda _row: True
    insertable: bool = True


_STATUSES = ("open", "acknowledged", "rectification_requested", "rectification_submitted", "closed")

PROJECTED: dict[str, ProjectedTable] = {
    "grades": ProjectedTable(
        GradeRow,
        ("premises_id", "year"),
        lambda r: f"{r.premises_id}/{r.year}",
        ("premises_id", "year"),
        ("grade", "reason", "decided_at", "decided_by", "event_id"),
        {"grade": ("A", "B", "C", None)},
    ),
    "inspections": ProjectedTable(
        InspectionRow,
        ("event_id",),
        lambda r: r.event_id,
        ("event_id",),
        (
            "premises_id",
            "regulator_org",
            "inspected_on",
            "score",
            "result",
            "summary",
            "recorded_at",
        ),
        {"result": ("excellent", "good", "fair", "fail")},
    ),  # fmt: skip
    "records": ProjectedTable(
        RecordRow,
        ("event_id",),
        lambda r: r.event_id,
        ("event_id",),
        ("premises_id", "record_type", "record_date", "occurred_at", "recorded_at", "summary"),
        {
            "record_type": (
                "morning_check",
                "purchase_inspection",
                "sample_retention",
                "disinfection",
                "additive_use",
                "waste_oil",
                "self_inspection",
            )
        },
    ),  # fmt: skip
    "lots": ProjectedTable(
        LotRow,
        ("id",),
        lambda r: r.event_id,
        ("event_id",),
        (
            "premises_id",
            "gtin",
            "lot_code",
            "product",
            "supplier",
            "quantity",
            "unit",
            "received_on",
            "supplier_licence",
            "supplier_certificate_expires",
            "production_date",
            "shelf_life_days",
        ),
    ),  # fmt: skip
    "alerts": ProjectedTable(
        AlertRow,
        ("alert_id",),
        lambda r: r.alert_id,
        ("alert_id",),
        (
            "premises_id",
            "subject",
            "source",
            "rule",
            "alert_class",
            "status",
            "detail",
            "started_at",
            "opened_at",
            "breach_event_id",
            "due_at",
            "escalation",
            "escalated_at",
            "updated_at",
            "closed_at",
            "recovered_at",
            "recovery_event_id",
        ),
        {
            "status": _STATUSES,
            "alert_class": (1, 2, 3),
            "escalation": ("none", "yellow", "red"),
            "source": ("probe", "vision", "record", "inspection"),
        },
    ),  # fmt: skip
    "alert_transitions": ProjectedTable(
        AlertTransitionRow,
        ("id",),
        lambda r: r.event_id,
        ("event_id",),
        ("alert_id", "from_status", "to_status", "actor", "note", "evidence", "at"),
        {"from_status": (*_STATUSES, None), "to_status": _STATUSES},
    ),
    "devices": ProjectedTable(
        DeviceRow,
        ("device_id",),
        lambda r: r.device_id,
        (),
        ("last_seq", "last_reading_at"),
        deletable=lambda r: r.last_seq >= 0,  # a probe never heard from is registry only
        insertable=False,
    ),
    "probe_day_summaries": ProjectedTable(
        ProbeDaySummaryRow,
        ("device_id", "day"),
        lambda r: f"{r.device_id}/{r.day.isoformat()}",
        ("device_id", "day"),
        (
            "status",
            "through",
            "count",
            "min",
            "mean",
            "max",
            "minutes_out_of_range",
            "first_leaf_index",
            "last_leaf_index",
            "readings_sha256",
            "event_id",
        ),
        {"status": ("closed", "running")},
    ),
}
"""Every projection table the audit re-derives, as the kit tampers with it."""

_JSON_FIELDS = {"summary", "evidence"}


@dataclass(frozen=True)
class ProjectionTamper:
    """A change to one projection row and the finding the audit must report for it."""

    table: str
    key: str
    field: str
    change: Tamper
    description: str


def _changed_value(rng: random.Random, table: ProjectedTable, name: str, value: Any) -> Any:
    column = table.model.__table__.c[name]
    if name in table.choices:
        return rng.choice([c for c in table.choices[name] if c != value])
    if name in _JSON_FIELDS:
        return _changed_json(rng, value)
    kind = column.type
    python = kind.impl.python_type if isinstance(kind, TypeDecorator) else kind.python_type
    if value is None:
        return {
            str: "forged",
            int: 7,
            float: 42.5,
            datetime: PROJECTION_NOW - timedelta(days=3),
            date: date(2026, 1, 1),
        }[python]
    if isinstance(value, datetime):
        return value + timedelta(seconds=rng.choice([1, 60, 3600, 86_400 * 3]))
    if isinstance(value, date):
        return value + timedelta(days=rng.randrange(1, 400))
    if isinstance(value, int):
        return value + rng.randrange(1, 5)
    if isinstance(value, float):
        return value + rng.choice([0.5, 1.0, 10.0])
    limit = getattr(column.type, "length", None) or 10_000
    text_value = str(value)
    if len(text_value) < limit:
        return text_value + rng.choice(["x", "!", " (edited)"])[: limit - len(text_value)]
    return text_value[:-1] + ("x" if text_value[-1] != "x" else "y")


def _changed_json(rng: random.Random, text_value: str) -> str:
    value = json.loads(text_value)
    if isinstance(value, list):
        value = value[:-1] if value and rng.random() < 0.5 else [*value, "ab" * 32]
    elif isinstance(value, dict) and value:
        key = rng.choice(sorted(value))
        old = value[key]
        if isinstance(old, bool):
            value[key] = not old
        elif isinstance(old, (int, float)):
            value[key] = old + 1
        elif isinstance(old, str):
            value[key] = old + "x"
        elif isinstance(old, list):
            value[key] = old[:-1] if old else ["forged"]
        elif isinstance(old, dict):
            value[key] = {**old, "forged": 1}
        else:
            value[key] = 1
    else:
        value = {"forged": True}
    return json.dumps(value, ensure_ascii=False)


def _where(table: ProjectedTable, row: Any) -> list[Any]:
    return [table.model.__table__.c[c] == getattr(row, c) for c in table.primary]


def random_projection_tamper(
    rng: random.Random, session: Session, tables: tuple[str, ...] = tuple(PROJECTED)
) -> ProjectionTamper:
    """Draw a projection row and a change to it (edit a field or the key, delete the row,
    insert a row no event explains), with the finding it must give."""
    name = rng.choice(tables)
    table = PROJECTED[name]
    rows = list(session.execute(select(table.model)).scalars())
    row = rng.choice(rows)
    key = table.audit_key(row)
    action = rng.choices(["field", "key", "delete", "insert"], weights=[80, 6, 7, 7])[0]
    if action == "key" and not table.key_columns:
        action = "field"
    if action == "delete" and not table.deletable(row):
        action = "field"
    if action == "insert" and not table.insertable:
        action = "field"
    if action == "field":
        column = rng.choice(table.fields)
        new = _changed_value(rng, table, column, getattr(row, column))
        where = _where(table, row)

        def edit(s: Session) -> None:
            s.execute(update(table.model).where(*where).values({column: new}))

        return ProjectionTamper(name, key, column, edit, f"{name}.{column} of {key}")
    if action == "key":
        column = rng.choice(table.key_columns)
        new = _changed_value(rng, table, column, getattr(row, column))
        if column in ("event_id", "alert_id"):
            new = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        where = _where(table, row)

        def rekey(s: Session) -> None:
            s.execute(update(table.model).where(*where).values({column: new}))

        return ProjectionTamper(name, key, "(row)", rekey, f"{name}.{column} (key) of {key}")
    if action == "delete":
        where = _where(table, row)

        def remove(s: Session) -> None:
            s.execute(delete(table.model).where(*where))

        return ProjectionTamper(name, key, "(row)", remove, f"{name}: deleted {key}")
    values = {c.name: getattr(row, c.name) for c in table.model.__table__.c}
    fresh = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    if name == "grades":
        values["year"] = 2000 + rng.randrange(20)
    elif name in ("lots", "alert_transitions"):
        values["id"] = 1_000_000 + rng.randrange(1_000_000)
        values["event_id"] = fresh
    else:
        values[table.key_columns[0]] = fresh
    forged = type(row)(**values)
    new_key = table.audit_key(forged)

    def add(s: Session) -> None:
        s.execute(insert(table.model).values(values))

    return ProjectionTamper(name, new_key, "(row)", add, f"{name}: inserted {new_key}")
