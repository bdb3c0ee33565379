"""The landing page's text search, indexed (migration 0013) against the scan it replaced,
timed in turns on the same database so that both see the same machine load.

Usage: python bench/premises_search_versus_scan.py [--premises N] [--rounds N] [--skip-postgres]

The premises of bench/premises_search_bench.py (20,000) are seeded once per backend. Each
round runs, for every query, the count and the first page of 20 (by name) once with the
scan's filter (LIKE on SQLite, ILIKE on PostgreSQL, per column: the code before 0013) and
once with ``premises_matching`` (the index), alternating which goes first. SQL only (no
HTTP, no JSON, no grades or alerts): what the index changes. Medians in ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, Engine, func, or_, select
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))
from premises_search_bench import POSTGRES, seed

from traceability.settings import Settings
from traceability.storage.db import make_engine
from traceability.storage.models import PremisesRow
from traceability.storage.premises_search import premises_matching
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file

QUERIES = ["Harbour Grill 12347", "noodle", "饺子馆", "113 中山路", "zzzz-nothing", "饺子", "面"]


def _scan(dialect: str, text: str) -> ColumnElement[bool]:
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    pattern = f"%{escaped}%"
    columns = (PremisesRow.name, PremisesRow.address, PremisesRow.district)
    if dialect == "sqlite":
        return or_(*(c.like(pattern, escape="/") for c in columns))
    return or_(*(c.ilike(pattern, escape="/") for c in columns))


def _once(session: Session, where: ColumnElement[bool]) -> tuple[float, int]:
    started = time.perf_counter()
    total = session.execute(select(func.count()).select_from(PremisesRow).where(where))
    found = int(total.scalar_one())
    session.execute(
        select(PremisesRow)
        .where(where)
        .order_by(PremisesRow.name, PremisesRow.premises_id)
        .limit(20)
    ).all()
    return (time.perf_counter() - started) * 1000, found


def compare(engine: Engine, rounds: int) -> dict[str, Any]:
    dialect = engine.dialect.name
    out: dict[str, Any] = {}
    with Session(engine) as session:
        for query in QUERIES:
            ways = {"scan": _scan(dialect, query), "index": premises_matching(dialect, query)}
            times: dict[str, list[float]] = {"scan": [], "index": []}
            counts = set()
            for n in range(rounds):
                for way in ("scan", "index") if n % 2 == 0 else ("index", "scan"):
                    took, found = _once(session, ways[way])
                    times[way].append(took)
                    counts.add(found)
            assert len(counts) == 1, (query, counts)  # both ways find the same premises
            out[query] = {
                "matches": counts.pop(),
                **{f"{way}_ms": round(statistics.median(t), 1) for way, t in times.items()},
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--premises", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {"premises": args.premises, "load": os.getloadavg()}
    work = Path(tempfile.mkdtemp(prefix="sunledger-versus-scan-"))
    settings = Settings(data_dir=work, database_url=None)
    seed(settings, args.premises)
    engine = make_engine(settings.resolved_database_url)
    report["sqlite"] = compare(engine, args.rounds)
    engine.dispose()
    if not args.skip_postgres:
        dsn = POSTGRES.replace("+psycopg", "")
        schema = f"versus_scan_{os.getpid()}"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        try:
            key_file = work / "log.key"
            write_signer_key_file(key_file, NoteSigner.generate("bench"))
            url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
            pg = Settings(data_dir=work, database_url=url, signing_key_file=key_file)
            seed(pg, args.premises)
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'ANALYZE "{schema}".premises')
            engine = make_engine(url)
            report["postgresql"] = compare(engine, args.rounds)
            engine.dispose()
        finally:
            with psycopg.connect(dsn, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    report["load_after"] = os.getloadavg()
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
