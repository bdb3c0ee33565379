"""The full-log audit on SQLite and PostgreSQL: a clean log passes, every tampering is found.

Tampering goes straight to the tables with SQL, as an attacker with database
access would, and each case must name exactly the first divergent leaf index.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from traceability import merkle
from traceability.audit import MAX_PROBLEMS, AnchorClaim, AuditReport, audit_log
from traceability.checkpoints import Checkpoint, NoteSigner, sign_checkpoint
from traceability.cli_audit import register
from traceability.db import engine_for, session_factory, transaction
from traceability.ingest import Ingest, parse_batch
from traceability.log import TransparencyLog
from traceability.models import CheckpointRow, EventRow, LogState, LogTile, PersonalValue
from traceability.settings import Settings
from traceability.tiles import TILE_WIDTH, append_leaves

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


@pytest.fixture
def logged(settings: Settings, signer: NoteSigner) -> Iterator[Logged]:
    engine = engine_for(settings)
    found = Logged(session_factory(engine), TransparencyLog(settings.log_origin), signer)
    found.build()
    yield found
    engine.dispose()


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


# --------------------------------------------------------------------------- clean logs


def test_a_clean_log_audits_ok_in_any_page_size(logged: Logged) -> None:
    progress: list[tuple[int, int]] = []
    report = logged.audit(on_progress=lambda done, total: progress.append((done, total)))
    assert report.ok, report.problems
    assert (report.events_checked, report.tree_size) == (SIZE, SIZE)
    assert report.first_divergent_index is None and report.first_divergent_size is None
    assert report.checkpoints_checked == len(CHECKPOINTS)
    assert progress[-1] == (SIZE, SIZE)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)
    for chunk in (1, 7, 256, 300):
        assert logged.audit(chunk=chunk).ok


def test_checkpoints_at_many_sizes_are_checked_for_consistency(logged: Logged) -> None:
    """Many signed sizes (same tile, tile edges, powers of two) exercise every proof shape."""
    with logged.sessions() as session:
        leaves = logged.log.leaf_hashes(session, 0, SIZE)
    sizes = {0, 1, 2, 3, 255, 256, 257, 299, 301, 384, 511, 513, 600, 640, 699}
    sizes |= set(random.Random(7).sample(range(1, SIZE), 20))

    def sign_more(session: Session) -> None:
        for size in sorted(sizes - set(CHECKPOINTS)):
            root = merkle.root(leaves[:size])
            note = sign_checkpoint(Checkpoint(logged.log.origin, size, root), logged.signer)
            session.add(
                CheckpointRow(
                    tree_size=size,
                    root_hash=root,
                    note=note,
                    created_at=event_row(session, 0).recorded_at,
                )
            )

    logged.tamper(sign_more)
    report = logged.audit(chunk=97)
    assert report.ok, report.problems
    assert report.checkpoints_checked == len(sizes | set(CHECKPOINTS))


def test_appends_during_the_audit_are_not_taken_for_tampering(logged: Logged) -> None:
    """The audit covers the size the log had when it began; later appends are left alone."""
    ingest = Ingest(logged.log)
    appended: list[int] = []

    def append_once(done: int, total: int) -> None:
        if not appended:
            with transaction(logged.sessions) as session:
                ingest.ingest(session, parse_batch([raw_event(i) for i in range(SIZE, SIZE + 90)]))
                logged.log.checkpoint(session, logged.signer)
            appended.append(done)

    report = logged.audit(chunk=100, on_progress=append_once)
    assert appended == [100]
    assert report.ok, report.problems
    assert report.tree_size == SIZE and report.checkpoints_checked == len(CHECKPOINTS)
    assert logged.audit().ok


# --------------------------------------------------------------------------- tampering


@dataclass(frozen=True)
class Case:
    tamper: Tamper
    index: int | None
    size: int | None = None
    says: str = ""


CASES = {
    "payload byte": Case(edit_body(123), 123, says="leaf 123: the leaf_hash column"),
    "leaf_hash column": Case(edit_leaf_hash(400), 400, says="leaf 400: the leaf_hash column"),
    "kind column": Case(edit_column(50, "kind"), 50, says="body kind is"),
    "subject column": Case(edit_column(61, "subject"), 61, says="body subject is"),
    "occurred_at column": Case(edit_column(72, "occurred_at"), 72, says="body occurred_at"),
    "recorded_at column": Case(edit_column(83, "recorded_at"), 83, says="body recorded_at"),
    "event_id column": Case(edit_column(90, "event_id"), 90, says="body id is"),
    "event_id column, no personal data": Case(edit_column(91, "event_id"), 91),
    "deleted row": Case(delete_events(330), 330, says="leaves 330..330 have no event row"),
    "extra row after the end": Case(insert_event(SIZE), SIZE, says="beyond the log's size"),
    "swapped rows": Case(swap_events(200, 450), 200, says="leaf 200: body id"),
    "truncated tail": Case(delete_events(*range(690, 700)), 690, says="truncated tail"),
    "level-0 tile byte": Case(edit_tile(0, 1, 44 * 32 + 5), 300, says="tile (0, 1)"),
    "level-0 edge tile byte": Case(edit_tile(0, 2, 187 * 32), 699, says="tile (0, 2)"),
    "level-1 tile byte": Case(edit_tile(1, 0, 32 + 31), 256, says="leaves 256..511"),
    "level-1 tile first entry": Case(edit_tile(1, 0, 3), 0, says="leaves 0..255"),
    "missing level-0 tile": Case(delete_tile(0, 2), 512, says="missing"),
    "stray tile": Case(insert_tile(0, 5), 5 * TILE_WIDTH, says="outside the tree"),
    "checkpoint signed by another key": Case(
        resign_checkpoint(300), None, 300, says="checkpoint 300: the note does not verify"
    ),
    "checkpoint root column": Case(
        edit_checkpoint_root(512), None, 512, says="checkpoint 512: the root_hash column"
    ),
    "log state root": Case(edit_state(root_hash=b"\x00" * 32), None, SIZE, says="log state"),
    "log state size lowered": Case(edit_state(tree_size=690), 690, 690),
    "log state size raised": Case(edit_state(tree_size=705), SIZE, says="truncated tail"),
    "consistent rewrite": Case(
        rewrite_consistently(101), None, 300, says="change lies in leaves 5..299"
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_tampering_is_found_at_the_first_divergent_index(logged: Logged, name: str) -> None:
    case = CASES[name]
    logged.tamper(case.tamper)
    report = logged.audit()
    assert not report.ok
    assert report.first_divergent_index == case.index, report.problems
    if case.size is not None:
        assert report.first_divergent_size == case.size, report.problems
    if case.index is None:
        # Only a claimed root is wrong: every stored leaf re-hashes to itself.
        assert report.first_divergent_size is not None
    assert any(case.says in p for p in report.problems), report.problems


def test_a_checkpoint_signed_for_another_origin_is_refused(logged: Logged) -> None:
    logged.tamper(resign_checkpoint(512, "other.example/log", logged.signer))
    report = logged.audit()
    assert report.first_divergent_index is None and report.first_divergent_size == 512
    assert any("checkpoint 512" in p and "origin" in p for p in report.problems), report.problems


def test_a_changed_body_is_reported_with_both_hashes(logged: Logged) -> None:
    with logged.sessions() as session:
        stored = bytes(event_row(session, 123).leaf_hash)
    logged.tamper(edit_body(123))
    report = logged.audit()
    with logged.sessions() as session:
        changed = merkle.leaf_hash(event_row(session, 123).body)
    first = report.problems[0]
    assert first.startswith("leaf 123:") and stored.hex() in first and changed.hex() in first
    # The re-hashed tree no longer matches what was signed after leaf 123.
    assert report.first_divergent_size == 300
    assert any("checkpoints 5 → 300" in p for p in report.problems)


def test_the_problem_list_is_capped_but_keeps_the_first_divergence(logged: Logged) -> None:
    def many(session: Session) -> None:
        session.execute(
            update(EventRow).where(EventRow.leaf_index >= 100).values(subject="device:forged")
        )
        edit_tile(1, 0, 0)(session)  # leaf 0, but only found when the edge tiles are checked

    logged.tamper(many)
    report = logged.audit()
    assert report.first_divergent_index == 0
    assert len(report.problems) == MAX_PROBLEMS
    assert report.problems_omitted == SIZE - 100 + 1 - MAX_PROBLEMS
    assert report.problems[0].startswith("leaf 0: stored tile (1, 0)")


# --------------------------------------------------------------------------- anchors


def test_anchor_claims_are_checked_against_the_tree_and_the_chain(logged: Logged) -> None:
    log_id = b"\x11" * 32
    root = logged.roots[300]
    good = AnchorClaim(300, root, log_id)
    chain: dict[tuple[bytes, int], bytes] = {(log_id, 300): root}

    def chain_root(log: bytes, size: int) -> bytes | None:
        return chain.get((log, size))

    report = logged.audit(anchors=[good], chain_root=chain_root)
    assert report.ok and report.anchors_checked == 1, report.problems

    chain[(log_id, 300)] = logged.roots[512]
    report = logged.audit(anchors=[good], chain_root=chain_root)
    assert not report.ok and report.first_divergent_index is None
    assert report.first_divergent_size == 300
    assert any("anchor 300: the chain stores" in p for p in report.problems)

    report = logged.audit(anchors=[AnchorClaim(512, root, log_id)], chain_root=chain_root)
    assert report.first_divergent_size == 512
    assert any("not on chain" in p for p in report.problems)
    assert any("anchor 512: the claimed root" in p for p in report.problems)

    report = logged.audit(anchors=[AnchorClaim(SIZE + 1, root, log_id)])
    assert any("lies beyond the log's size" in p for p in report.problems)
    # Without a chain reader only the claim itself is compared.
    assert logged.audit(anchors=[AnchorClaim(7, merkle.root([]), log_id)]).first_divergent_size == 7


# --------------------------------------------------------------------------- random tampering


def random_tamper(rng: random.Random, logged: Logged) -> tuple[str, Tamper, int | None, int | None]:
    """A random mutation with the first divergent index and size it must be found at."""
    n, cps = logged.size, logged.checkpoints
    i, j = sorted(rng.sample(range(n), 2))
    kind = rng.choice(
        [
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
        ]
    )
    if kind == "body":
        return kind, edit_body(i, rng.randrange(10_000), rng.randrange(1, 256)), i, None
    if kind == "leaf_hash":
        return kind, edit_leaf_hash(i, rng.randrange(32)), i, None
    if kind == "column":
        column = rng.choice(["event_id", "kind", "subject", "occurred_at", "recorded_at"])
        return f"{kind} {column}", edit_column(i, column), i, None
    if kind == "delete":
        return kind, delete_events(i), i, None
    if kind == "extra":
        at = n + rng.randrange(3)
        return kind, insert_event(at, i), at, None
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
    size = rng.choice(cps)
    if kind == "checkpoint_root":
        return kind, edit_checkpoint_root(size, rng.randrange(32)), None, size
    if kind == "checkpoint_note":
        return kind, resign_checkpoint(size), None, size
    return kind, edit_state(root_hash=rng.randbytes(32)), None, n


def test_sixty_random_tamperings_are_all_found(logged: Logged) -> None:
    rng = random.Random(20261125)
    seen: set[str] = set()
    for round_ in range(60):
        size = rng.randrange(513, 650)
        cuts = sorted(rng.sample(range(1, size), 3))
        logged.build(size, tuple(cuts))
        name, tamper, index, divergent_size = random_tamper(rng, logged)
        seen.add(name.split()[0])
        logged.tamper(tamper)
        report = logged.audit(chunk=rng.choice([64, 333, 10_000]))
        where = f"round {round_}: {name} (log of {size}, checkpoints {cuts}): {report.problems}"
        assert not report.ok, where
        assert report.first_divergent_index == index, where
        if divergent_size is not None:
            assert report.first_divergent_size == divergent_size, where
    assert len(seen) >= 10  # the mutations really were varied


# --------------------------------------------------------------------------- the command


def test_the_audit_command_exits_by_the_outcome(
    logged: Logged, settings: Settings, tmp_path: Path
) -> None:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register(app)
    env = {
        "SUNLEDGER_DATABASE_URL": settings.resolved_database_url,
        "SUNLEDGER_LOG_ORIGIN": settings.log_origin,
        "SUNLEDGER_SIGNING_KEY_FILE": str(settings.resolved_signing_key_file),
    }
    runner = CliRunner()
    done = runner.invoke(app, ["audit", "--data-dir", str(tmp_path)], env=env)
    assert done.exit_code == 0, done.output
    assert "ok" in done.stdout and f"tree size {SIZE}" in done.stdout

    logged.tamper(edit_body(123))
    done = runner.invoke(app, ["audit", "--data-dir", str(tmp_path)], env=env)
    assert done.exit_code == 1, done.output
    assert "first divergent leaf index 123" in done.stderr
    assert "leaf 123: the leaf_hash column" in done.stderr
