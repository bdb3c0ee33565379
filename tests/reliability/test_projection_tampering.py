"""Projection tampering at scale: every change to a projected table is named by the audit.

A cut-down demo city is seeded once through the platform's own services
(tests/tamper_kit.py ``seed_projection_city``: probe, record, inspection and
vision alerts with their lifecycles, records of every type, lots, inspections,
grades and a no-grade period). Then random changes are made with plain SQL to
the tables the public and the regulator read, the log left intact: a field
edited (a grade letter, an alert's status or text, a summary's count, a lot's
supplier, a probe's last reading…), a row's key changed, a row deleted, a row
inserted that no event explains. Each must make the projection audit (what
``sunledger audit`` runs after the log audit) name the table, the key and the
field, and the untouched city must audit clean.

The log is folded once per database (``derive_projections``); each mutation is
made in a transaction that the comparison reads and that is rolled back, on
SQLite and on PostgreSQL (a copy of the same city). A few mutations go through
the real ``sunledger audit`` command. ``SUNLEDGER_RELIABILITY=full`` runs the
full counts (RELIABILITY.md, "Projection audit, issue 14").
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from reliability_figures import FULL, record_figure
from sqlalchemy.orm import Session, sessionmaker
from tamper_kit import PROJECTED, copy_tables, random_projection_tamper, seed_projection_city

from traceability.projections.audit import Derived, compare_projections, derive_projections
from traceability.settings import Settings
from traceability.storage.db import engine_for, make_engine, session_factory
from traceability.transparency.log import TransparencyLog

pytestmark = pytest.mark.reliability

SQLITE_MUTATIONS = 400 if FULL else 50
POSTGRES_MUTATIONS = 200 if FULL else 30
CLI_MUTATIONS = 8 if FULL else 3


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The seeded city's data directory (SQLite), kept pristine."""
    return seed_projection_city(tmp_path_factory.mktemp("projection-city"))


def derived_of(sessions: sessionmaker[Session], origin: str) -> Derived:
    with sessions() as session:
        size = TransparencyLog(origin).size(session)
        return derive_projections(session, size)


def mutate_and_compare(
    sessions: sessionmaker[Session], derived: Derived, rounds: int, seed: int, where: str
) -> Counter[str]:
    """``rounds`` random projection changes, each rolled back; every one must be named."""
    rng = random.Random(seed)
    tried: Counter[str] = Counter()
    with sessions() as session:
        clean = compare_projections(session, derived)
    assert clean.ok, clean.problems[:5]
    assert all(clean.rows_checked[t] > 0 for t in PROJECTED), clean.rows_checked
    for round_ in range(rounds):
        with sessions() as session:
            tamper = random_projection_tamper(rng, session)
            tamper.change(session)
            session.flush()
            report = compare_projections(session, derived)
            session.rollback()
        named = [
            f
            for f in report.findings
            if (f.table, f.key, f.field) == (tamper.table, tamper.key, tamper.field)
        ]
        assert named, f"{where} round {round_}: {tamper.description}: {report.problems[:3]}"
        tried[f"{tamper.table}.{tamper.field}"] += 1
    with sessions() as session:
        assert compare_projections(session, derived).ok  # every change was rolled back
    return tried


def by_table(tried: Counter[str]) -> dict[str, int]:
    tables: Counter[str] = Counter()
    for name, count in tried.items():
        tables[name.split(".")[0]] += count
    return dict(sorted(tables.items()))


def test_every_projection_mutation_on_sqlite_is_named(city: Settings) -> None:
    engine = engine_for(city)
    sessions = session_factory(engine)
    try:
        derived = derived_of(sessions, city.log_origin)
        tried = mutate_and_compare(sessions, derived, SQLITE_MUTATIONS, 14_003, "sqlite")
    finally:
        engine.dispose()
    assert set(by_table(tried)) == set(PROJECTED)  # every table was tampered with
    record_figure(
        "projection_tamper_sqlite",
        {
            "mutations": SQLITE_MUTATIONS,
            "named": sum(tried.values()),
            "tables": by_table(tried),
            "row_level": sum(n for k, n in tried.items() if k.endswith("(row)")),
            "fields": len(tried),
            "events_folded": derived.events_folded,
        },
    )


def test_every_projection_mutation_on_postgresql_is_named(
    city: Settings, postgres_url: str
) -> None:
    source = engine_for(city)
    target = make_engine(postgres_url)
    try:
        copy_tables(source, target)
        sessions = session_factory(target)
        derived = derived_of(sessions, city.log_origin)
        tried = mutate_and_compare(sessions, derived, POSTGRES_MUTATIONS, 14_004, "postgresql")
    finally:
        source.dispose()
        target.dispose()
    assert len(by_table(tried)) >= 5
    record_figure(
        "projection_tamper_postgresql",
        {
            "mutations": POSTGRES_MUTATIONS,
            "named": sum(tried.values()),
            "tables": by_table(tried),
            "row_level": sum(n for k, n in tried.items() if k.endswith("(row)")),
        },
    )


def test_the_audit_command_names_projection_changes(city: Settings, tmp_path: Path) -> None:
    """The real ``sunledger audit``: exit 0 on the copy, then exit 1 naming table, key, field."""
    command = Path(sys.executable).with_name("sunledger")
    data = tmp_path / "data"
    shutil.copytree(city.data_dir, data)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")},
        "CI": "true",
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(command), "audit", "--data-dir", str(data), "--no-chain"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    clean = run()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "projection rows in 8 tables" in clean.stdout
    rng = random.Random(41)
    settings = Settings(data_dir=data)
    for _round in range(CLI_MUTATIONS):
        engine = engine_for(settings)
        sessions = session_factory(engine)
        with sessions() as session:
            tamper = random_projection_tamper(rng, session)
            tamper.change(session)
            session.commit()
        engine.dispose()
        done = run()
        assert done.returncode == 1, (tamper.description, done.stdout, done.stderr)
        assert "projection rows differ from the log" in done.stderr
        assert f"projection {tamper.table} [{tamper.key}] {tamper.field}:" in done.stderr, (
            tamper.description,
            done.stderr,
        )
        for name in ("sunledger.db", "sunledger.db-wal", "sunledger.db-shm"):  # undo it
            (data / name).unlink(missing_ok=True)
            if (city.data_dir / name).exists():
                shutil.copyfile(city.data_dir / name, data / name)
