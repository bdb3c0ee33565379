"""The persistent log on SQLite and PostgreSQL: proofs, atomic batches, checkpoints."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from traceability import merkle
from traceability.errors import Invalid, NotFound
from traceability.settings import Settings
from traceability.storage.db import engine_for, session_factory, transaction
from traceability.storage.models import LogTile
from traceability.transparency.checkpoints import NoteSigner, verify_checkpoint
from traceability.transparency.log import LogCorrupted, TransparencyLog


def leaves(n: int, start: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"event-{i}".encode()) for i in range(start, start + n)]


@pytest.fixture
def sessions(settings: Settings) -> sessionmaker[Session]:
    engine = engine_for(settings)
    factory = session_factory(engine)
    with transaction(factory) as session:
        TransparencyLog(settings.log_origin).initialise(session)
    yield factory
    engine.dispose()


@pytest.fixture
def log(settings: Settings) -> TransparencyLog:
    return TransparencyLog(settings.log_origin)


def append(sessions: sessionmaker[Session], log: TransparencyLog, hashes: list[bytes]) -> int:
    with transaction(sessions) as session:
        return log.append(session, hashes)


def test_batched_appends_give_every_proof(
    sessions: sessionmaker[Session], log: TransparencyLog
) -> None:
    all_leaves: list[bytes] = []
    for size in (1, 255, 1, 300, 70_000 - 557):
        first = append(sessions, log, leaves(size, len(all_leaves)))
        assert first == len(all_leaves)
        all_leaves.extend(leaves(size, len(all_leaves)))
    n = len(all_leaves)
    with sessions() as session:
        assert log.size(session) == n
        assert log.root(session) == merkle.root(all_leaves)
        for size in (1, 2, 256, 257, 557, 65_536, 65_537, n):
            assert log.root(session, size) == merkle.root(all_leaves[:size])
        for index, size in [(0, 1), (0, n), (n - 1, n), (256, 557), (65_535, 65_536), (12_345, n)]:
            proof = log.inclusion_proof(session, index, size)
            assert proof.leaf_hash == all_leaves[index]
            assert list(proof.hashes) == merkle.inclusion_proof(index, all_leaves[:size])
            merkle.verify_inclusion(index, size, all_leaves[index], proof.hashes, proof.root_hash)
        for first, second in [(0, n), (1, n), (256, 557), (557, n), (65_536, n), (n, n), (3, 7)]:
            cproof = log.consistency_proof(session, first, second)
            assert list(cproof.hashes) == merkle.consistency_proof(first, all_leaves[:second])
            merkle.verify_consistency(
                first, second, cproof.hashes, cproof.first_root, cproof.second_root
            )
        assert log.leaf_hashes(session, 250, 260) == all_leaves[250:260]


def test_bad_proof_requests_name_the_problem(
    sessions: sessionmaker[Session], log: TransparencyLog
) -> None:
    append(sessions, log, leaves(10))
    with sessions() as session:
        with pytest.raises(Invalid, match="index 10 is not below tree size 10"):
            log.inclusion_proof(session, 10, 10)
        with pytest.raises(Invalid, match="larger than the log"):
            log.inclusion_proof(session, 0, 11)
        with pytest.raises(Invalid, match="first size 5 is larger than second size 4"):
            log.consistency_proof(session, 5, 4)
        with pytest.raises(Invalid, match="larger than the log"):
            log.consistency_proof(session, 1, 12)


def test_a_failed_batch_leaves_no_trace(
    sessions: sessionmaker[Session], log: TransparencyLog
) -> None:
    append(sessions, log, leaves(300))
    with sessions() as session:
        before_tiles = dict(session.execute(select(LogTile.level, LogTile.hashes)).all())
        before_root = log.root(session)
    with pytest.raises(Invalid, match="leaf 2 of the batch is 31 bytes"):
        append(sessions, log, [*leaves(2, 300), b"x" * 31])

    class Interrupted(Exception):
        pass

    with pytest.raises(Interrupted), transaction(sessions) as session:
        log.append(session, leaves(1000, 300))
        raise Interrupted  # e.g. inserting the events failed after the tiles were written
    with sessions() as session:
        assert log.size(session) == 300
        assert log.root(session) == before_root
        assert dict(session.execute(select(LogTile.level, LogTile.hashes)).all()) == before_tiles


CRASHING_APPENDER = textwrap.dedent(
    """
    import sys
    from traceability import merkle
    from traceability.storage.db import make_engine, session_factory, transaction
    from traceability.transparency.log import TransparencyLog
    url, origin = sys.argv[1], sys.argv[2]
    sessions = session_factory(make_engine(url))
    log = TransparencyLog(origin)
    n = 0
    while True:
        with transaction(sessions) as session:
            log.append(session, [merkle.leaf_hash(f"event-{n + i}".encode()) for i in range(5000)])
            session.flush()
            print(n, flush=True)
        n += 5000
    """
)


def test_kill_9_during_appends_leaves_a_whole_number_of_batches(
    sessions: sessionmaker[Session], log: TransparencyLog, settings: Settings, tmp_path: Path
) -> None:
    """A real process killed at random moments mid-append: the log keeps whole batches only."""
    script = tmp_path / "appender.py"
    script.write_text(CRASHING_APPENDER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    for delay in (0.7, 1.1, 1.6):
        proc = subprocess.Popen(
            [sys.executable, str(script), settings.resolved_database_url, log.origin],
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        proc.stdout.readline()  # at least one batch committed
        time.sleep(delay)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        with sessions() as session:
            size = log.size(session)
            assert size % 5000 == 0 and size > 0
            # The appender restarts from 0 each run, so leaves repeat per run; the tree must
            # still be exactly the tiles of `size` leaves and prove its last leaf.
            proof = log.inclusion_proof(session, size - 1, size)
            merkle.verify_inclusion(
                size - 1, size, proof.leaf_hash, proof.hashes, log.root(session)
            )
            level0 = session.execute(
                select(func.count()).select_from(LogTile).where(LogTile.level == 0)
            ).scalar_one()
            assert level0 == -(-size // 256)


def test_concurrent_appenders_serialise(
    sessions: sessionmaker[Session], log: TransparencyLog
) -> None:
    firsts: list[int] = []
    errors: list[BaseException] = []

    def worker(k: int) -> None:
        try:
            for j in range(5):
                firsts.append(append(sessions, log, leaves(100, 10_000 * k + 100 * j)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert sorted(firsts) == list(range(0, 2000, 100))
    with sessions() as session:
        assert log.size(session) == 2000
        proof = log.consistency_proof(session, 1000, 2000)
        merkle.verify_consistency(1000, 2000, proof.hashes, proof.first_root, proof.second_root)


def test_tampered_tile_is_detected(sessions: sessionmaker[Session], log: TransparencyLog) -> None:
    append(sessions, log, leaves(600))
    with transaction(sessions) as session:
        session.execute(
            update(LogTile).where(LogTile.level == 0, LogTile.idx == 1).values(hashes=b"\0" * 8192)
        )
    with sessions() as session, pytest.raises(LogCorrupted):
        log.inclusion_proof(session, 300, 600)


def test_checkpoints_are_signed_notes_of_the_current_tree(
    sessions: sessionmaker[Session], log: TransparencyLog, signer: NoteSigner
) -> None:
    with sessions() as session, pytest.raises(NotFound):
        log.latest_checkpoint(session)
    append(sessions, log, leaves(5))
    with transaction(sessions) as session:
        first = log.checkpoint(session, signer)
        again = log.checkpoint(session, signer)
    assert again == first
    parsed = verify_checkpoint(first.note, signer.verifier(), origin=log.origin)
    assert parsed.tree_size == 5
    assert parsed.root_hash == merkle.root(leaves(5))
    append(sessions, log, leaves(3, 5))
    with transaction(sessions) as session:
        second = log.checkpoint(session, signer)
    with sessions() as session:
        assert log.latest_checkpoint(session).tree_size == 8
        proof = log.consistency_proof(session, 5, 8)
    merkle.verify_consistency(5, 8, proof.hashes, first.root_hash, second.root_hash)


def test_a_database_of_another_log_is_refused(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    with pytest.raises(Invalid, match="holds the log"), transaction(sessions) as session:
        TransparencyLog("other.example/log").initialise(session)
