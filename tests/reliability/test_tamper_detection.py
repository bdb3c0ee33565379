"""Tamper detection at scale: random changes made straight to the database, each one found.

Every mutation (tests/tamper_kit.py: an edited field of a stored event, deleted,
inserted or swapped rows, a truncated tail, a changed, missing or stray tree
tile, a replaced checkpoint, a changed log state, a consistent rewrite that only
the signed checkpoints give away) must make ``audit_log`` (what ``sunledger
audit`` runs) fail and name the first divergent leaf index, or for a claimed
root the first divergent tree size.

On SQLite each mutation is committed to a fresh copy of a pristine database
file; on PostgreSQL it is made in a transaction that the audit reads and that
is rolled back afterwards. A few mutations also go through the real ``sunledger
audit`` command. ``SUNLEDGER_RELIABILITY=full`` runs the full counts
(RELIABILITY.md); the default counts keep ``make test`` quick.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest
from reliability_figures import FULL, record_figure
from sqlalchemy import text
from tamper_kit import ALL_KINDS, Logged, random_tamper

from traceability.storage.db import make_engine, migrate, session_factory
from traceability.transparency.audit import audit_log
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file
from traceability.transparency.log import TransparencyLog

pytestmark = pytest.mark.reliability

ORIGIN = "test.sunledger/log"
SQLITE_MUTATIONS = 1000 if FULL else 60
POSTGRES_MUTATIONS = 300 if FULL else 40
CLI_MUTATIONS = 12 if FULL else 4
LAYOUTS = 4
"""Pristine logs of different sizes and checkpoint sizes that mutations are drawn against."""


@dataclass
class Pristine:
    """A pristine SQLite log file and what it holds."""

    path: Path
    size: int
    checkpoints: tuple[int, ...]
    roots: dict[int, bytes]


def layout(rng: random.Random) -> tuple[int, tuple[int, ...]]:
    """A log size spanning two to four level-0 tiles and three checkpoints inside it."""
    size = rng.randrange(513, 1000)
    return size, tuple(sorted(rng.sample(range(1, size), 3)))


@pytest.fixture(scope="module")
def signer() -> NoteSigner:
    return NoteSigner.generate("test-log")


@pytest.fixture(scope="module")
def pristine_logs(tmp_path_factory: pytest.TempPathFactory, signer: NoteSigner) -> list[Pristine]:
    rng = random.Random(9_000)
    made = []
    for number in range(LAYOUTS):
        path = tmp_path_factory.mktemp(f"pristine{number}") / "sunledger.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        logged = Logged(session_factory(engine), TransparencyLog(ORIGIN), signer)
        size, cuts = layout(rng)
        logged.build(size, cuts)
        with engine.begin() as conn:
            conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        engine.dispose()
        assert not path.with_name(path.name + "-wal").exists() or not (
            path.with_name(path.name + "-wal").stat().st_size
        )
        made.append(Pristine(path, logged.size, logged.checkpoints, logged.roots))
    return made


def copy_of(pristine: Pristine, work: Path) -> Path:
    for suffix in ("", "-wal", "-shm"):
        work.with_name(work.name + suffix).unlink(missing_ok=True)
    shutil.copyfile(pristine.path, work)
    return work


def logged_on(url: str, signer: NoteSigner, pristine: Pristine) -> tuple[Logged, object]:
    engine = make_engine(url)
    logged = Logged(
        session_factory(engine),
        TransparencyLog(ORIGIN),
        signer,
        pristine.size,
        pristine.checkpoints,
        pristine.roots,
    )
    return logged, engine


def family(name: str) -> str:
    """``column event_id`` and ``truncate 7`` count under their column / ``truncate``."""
    head, _, rest = name.partition(" ")
    return name if head == "column" else head


def test_every_random_mutation_on_sqlite_is_found(
    pristine_logs: list[Pristine], signer: NoteSigner, tmp_path: Path
) -> None:
    rng = random.Random(20_261_125)
    tried: Counter[str] = Counter()
    found: Counter[str] = Counter()
    work = tmp_path / "work.db"
    # The first round of each layout audits the untouched copy: a clean log is not flagged.
    for pristine in pristine_logs:
        logged, engine = logged_on(f"sqlite:///{copy_of(pristine, work)}", signer, pristine)
        assert logged.audit().ok
        engine.dispose()  # type: ignore[attr-defined]
    for round_ in range(SQLITE_MUTATIONS):
        pristine = pristine_logs[round_ % len(pristine_logs)]
        logged, engine = logged_on(f"sqlite:///{copy_of(pristine, work)}", signer, pristine)
        try:
            name, tamper, index, size = random_tamper(rng, logged, ALL_KINDS)
            tried[family(name)] += 1
            logged.tamper(tamper)
            report = logged.audit(chunk=rng.choice([64, 333, 10_000]))
        finally:
            engine.dispose()  # type: ignore[attr-defined]
        where = (
            f"round {round_}: {name} (log of {pristine.size}, checkpoints "
            f"{pristine.checkpoints}): index {report.first_divergent_index}, size "
            f"{report.first_divergent_size}: {report.problems[:3]}"
        )
        assert not report.ok, where
        assert report.first_divergent_index == index, where
        if size is not None:
            assert report.first_divergent_size == size, where
        found[family(name)] += 1
    assert set(k.split()[0] for k in tried) == set(ALL_KINDS)  # every kind was drawn
    record_figure(
        "tamper_sqlite", {"tried": dict(sorted(tried.items())), "found": sum(found.values())}
    )
    assert sum(found.values()) == SQLITE_MUTATIONS


def test_every_random_mutation_on_postgresql_is_found(
    postgres_url: str, signer: NoteSigner
) -> None:
    engine = make_engine(postgres_url)
    sessions = session_factory(engine)
    rng = random.Random(7_000)
    size, cuts = layout(rng)
    logged = Logged(sessions, TransparencyLog(ORIGIN), signer)
    logged.build(size, cuts)
    tried: Counter[str] = Counter()
    try:
        for round_ in range(POSTGRES_MUTATIONS):
            name, tamper, index, divergent_size = random_tamper(rng, logged, ALL_KINDS)
            tried[family(name)] += 1
            with sessions() as session:
                tamper(session)
                session.flush()
                report = audit_log(session, logged.log, signer.verifier(), chunk=500)
                session.rollback()
            where = f"round {round_}: {name}: {report.problems[:3]}"
            assert not report.ok, where
            assert report.first_divergent_index == index, where
            if divergent_size is not None:
                assert report.first_divergent_size == divergent_size, where
        assert logged.audit().ok  # every change was rolled back
    finally:
        engine.dispose()
    record_figure("tamper_postgresql", {"tried": dict(sorted(tried.items()))})


def test_the_audit_command_reports_mutations_by_exit_code_and_index(
    pristine_logs: list[Pristine], signer: NoteSigner, tmp_path: Path
) -> None:
    """The real ``sunledger audit`` in a subprocess: exit 1 and the first divergent index."""
    key_file = tmp_path / "log.key"
    write_signer_key_file(key_file, signer)
    command = Path(sys.executable).with_name("sunledger")
    rng = random.Random(31)
    pristine = pristine_logs[0]
    work = tmp_path / "data" / "work.db"
    work.parent.mkdir()
    env = {
        **os.environ,
        "SUNLEDGER_DATABASE_URL": f"sqlite:///{work}",
        "SUNLEDGER_LOG_ORIGIN": ORIGIN,
        "SUNLEDGER_SIGNING_KEY_FILE": str(key_file),
        "CI": "true",  # no progress bar
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), "audit", "--data-dir", str(work.parent), "--no-chain"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    copy_of(pristine, work)
    clean = run()
    assert clean.returncode == 0, clean.stderr
    assert f"tree size {pristine.size}" in clean.stdout
    kinds = ["body", "swap", "insert_shifted", "tile0", "checkpoint_note", "truncate"]
    for round_ in range(CLI_MUTATIONS):
        logged, engine = logged_on(env["SUNLEDGER_DATABASE_URL"], signer, pristine)
        copy_of(pristine, work)
        wanted = (kinds[round_ % len(kinds)],)
        name, tamper, index, size = random_tamper(rng, logged, wanted)
        logged.tamper(tamper)
        engine.dispose()  # type: ignore[attr-defined]
        done = run()
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        if index is not None:
            assert f"first divergent leaf index {index}" in done.stderr, (name, done.stderr)
        if size is not None:
            assert f"first tree size with a wrong root {size}" in done.stderr, (name, done.stderr)
