"""The full-log audit on SQLite and PostgreSQL: a clean log passes, every tampering is found.

Tampering goes straight to the tables with SQL, as an attacker with database
access would (tests/tamper_kit.py), and each case must name exactly the first
divergent leaf index.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer
from sqlalchemy import update
from sqlalchemy.orm import Session
from tamper_kit import (
    CHECKPOINTS,
    SIZE,
    Logged,
    Tamper,
    delete_events,
    delete_tile,
    edit_body,
    edit_checkpoint_root,
    edit_column,
    edit_leaf_hash,
    edit_state,
    edit_tile,
    event_row,
    insert_event,
    insert_tile,
    random_tamper,
    raw_event,
    resign_checkpoint,
    rewrite_consistently,
    swap_events,
)
from typer.testing import CliRunner

from traceability import merkle
from traceability.entrypoints.cli.audit import register
from traceability.settings import Settings
from traceability.storage.db import engine_for, session_factory, transaction
from traceability.storage.models import CheckpointRow, EventRow
from traceability.transparency.audit import MAX_PROBLEMS, AnchorClaim
from traceability.transparency.checkpoints import Checkpoint, NoteSigner, sign_checkpoint
from traceability.transparency.ingest import Ingest, parse_batch
from traceability.transparency.log import TransparencyLog
from traceability.transparency.tiles import TILE_WIDTH


@pytest.fixture
def logged(settings: Settings, signer: NoteSigner) -> Iterator[Logged]:
    engine = engine_for(settings)
    found = Logged(session_factory(engine), TransparencyLog(settings.log_origin), signer)
    found.build()
    yield found
    engine.dispose()


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


def test_an_empty_log_is_not_a_clean_audit(logged: Logged) -> None:
    """No events is an error ("nothing to audit"), never "ok, 0 events"."""
    logged.build(0, ())
    report = logged.audit()
    assert not report.ok and report.first_divergent_size == 0
    assert "the log is empty (tree size 0)" in report.problems[0]
