"""Importing inspection history: inspections/s for a NYC DOHMH-style file, parse and
load apart, then the idempotent re-run of the same file.

Usage: python bench/import_bench.py [--inspections N] [--backend sqlite|postgresql]

Writes a synthetic NYC open-data CSV (one row per violation cited: 0-3 per
inspection, several inspections per business, some unscored, some the same day)
of N inspections into a temp directory, imports it into a fresh database (SQLite
file, or a fresh PostgreSQL schema on 127.0.0.1 dropped afterwards) in one
transaction, checks the counts in the database, then imports it again and checks
that nothing changed.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import func, select

from traceability.inspections.history import HistoryImport, ImportOptions
from traceability.inspections.importers.reading import read_path
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import EventRow, InspectionRow, PremisesRow
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file

POSTGRES = os.environ.get(
    "SUNLEDGER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
HEADER = [
    "CAMIS", "DBA", "BORO", "BUILDING", "STREET", "ZIPCODE", "PHONE", "CUISINE DESCRIPTION",
    "INSPECTION DATE", "ACTION", "VIOLATION CODE", "VIOLATION DESCRIPTION", "CRITICAL FLAG",
    "SCORE", "GRADE", "GRADE DATE", "RECORD DATE", "INSPECTION TYPE", "Latitude", "Longitude",
]  # fmt: skip
TYPES = [
    ("Cycle Inspection / Initial Inspection", True),
    ("Cycle Inspection / Re-inspection", True),
    ("Administrative Miscellaneous / Initial Inspection", False),
]
CODES = [("04L", "Critical"), ("06C", "Critical"), ("08A", "Not Critical"), ("10F", "Not Critical")]


def write_file(path: Path, inspections: int, seed: int = 18) -> int:
    """The file; returns its data rows."""
    rnd = random.Random(seed)
    businesses = max(1, inspections // 5)
    start = date(2015, 1, 1)
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(HEADER)
        for n in range(inspections):
            camis = str(40_000_000 + n % businesses)
            # Distinct per inspection: the n-th inspection of a business is days later.
            day = start + timedelta(days=(n // businesses) * 97 + (n % 7))
            kind, scored = TYPES[n % len(TYPES)]
            score = str(rnd.randint(0, 60)) if scored else ""
            grade = "" if not scored else ("A" if score and int(score) < 14 else "Z")
            business = [camis, f"PLACE {camis}", "Brooklyn", str(n % 900 + 1), "BEDFORD AVENUE",
                        "11211", "7185550000", "Pizza"]  # fmt: skip
            cited = rnd.randint(0, 3)
            for c in range(max(1, cited)):
                code, flag = CODES[(n + c) % len(CODES)] if cited else ("", "Not Applicable")
                out.writerow(
                    [
                        *business,
                        day.strftime("%m/%d/%Y"),
                        "",
                        code,
                        f"violation {code}" if code else "",
                        flag,
                        score,
                        grade,
                        "",
                        "12/01/2026",
                        kind,
                        "40.71",
                        "-73.96",
                    ]  # fmt: skip
                )
                rows += 1
    return rows


def settings_for(backend: str, tmp: Path) -> tuple[Settings, str | None]:
    key = tmp / "log.key"
    write_signer_key_file(key, NoteSigner.generate("bench-log"))
    if backend == "sqlite":
        return Settings(data_dir=tmp, signing_key_file=key, log_origin="bench/log"), None
    schema = f"sl_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(POSTGRES.replace("postgresql+psycopg://", "postgresql://")) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
    return Settings(
        data_dir=tmp, database_url=url, signing_key_file=key, log_origin="bench/log"
    ), schema


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--inspections", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        path = tmp / "nyc.csv"
        rows = write_file(path, args.inspections)
        settings, schema = settings_for(args.backend, tmp)
        try:
            engine, sessions, log, _signer = open_platform(settings)
            options = ImportOptions(scheme="us-nyc", source="nyc", district="bk", org_id="imp")
            now = datetime.now(UTC)

            t0 = time.perf_counter()
            parsed = read_path("nyc", path, "utf-8")
            t1 = time.perf_counter()
            with transaction(sessions) as session:
                report = HistoryImport(log).run(session, path.name, parsed, options, now)
            t2 = time.perf_counter()
            with sessions() as session:
                counts = [
                    session.execute(select(func.count()).select_from(m)).scalar_one()
                    for m in (InspectionRow, EventRow, PremisesRow)
                ]
            assert report.loaded == args.inspections, (report.loaded, report.refused[:3])
            assert counts[0] == counts[1] == args.inspections, counts

            t3 = time.perf_counter()
            parsed = read_path("nyc", path, "utf-8")
            with transaction(sessions) as session:
                again = HistoryImport(log).run(session, path.name, parsed, options, now)
            t4 = time.perf_counter()
            assert again.loaded == 0 and len(again.skipped) == args.inspections
            engine.dispose()
        finally:
            if schema is not None:
                with psycopg.connect(
                    POSTGRES.replace("postgresql+psycopg://", "postgresql://")
                ) as c:
                    c.execute(f'DROP SCHEMA "{schema}" CASCADE')
    total = t2 - t0
    machine = platform.processor() or platform.machine()
    print(
        f"machine: {machine}, {os.cpu_count()} cores (shared), "
        f"Python {sys.version.split()[0]}, backend {args.backend}"
    )
    print(f"file: {args.inspections:,} inspections in {rows:,} rows, {counts[2]:,} premises")
    print(f"parse: {t1 - t0:.1f} s ({args.inspections / (t1 - t0):,.0f} inspections/s)")
    print(f"load:  {t2 - t1:.1f} s ({args.inspections / (t2 - t1):,.0f} inspections/s)")
    print(f"total: {total:.1f} s ({args.inspections / total:,.0f} inspections/s)")
    print(f"re-run (all skipped, nothing changed): {t4 - t3:.1f} s")


if __name__ == "__main__":
    main()
