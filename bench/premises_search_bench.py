"""The landing page's search (``GET /v1/public/premises``) over 20,000 premises, on SQLite
and PostgreSQL: median and 95th percentile latency per kind of query.

Usage: python bench/premises_search_bench.py [--premises N] [--requests N] [--skip-postgres]

The premises (names in Chinese and English, 16 districts), their organisations, 2,000 open
alerts on 1,200 of them (a tenth of class 1, some past their deadline with a card) and a
grade for three in four are inserted in bulk through the models (the directory service
would only add its per-row checks), on a database migrated to head (migration 0012's
indexes and 0013's text index included). Latency is measured in-process through the ASGI
app (``TestClient``): the request's whole handling including the JSON answer, no network.
A PostgreSQL schema of its own is created and dropped.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import insert

from api.app import create_app
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, GradeRow, OrganisationRow, PremisesRow
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file

POSTGRES = os.environ.get(
    "SUNLEDGER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
DISTRICTS = [f"district-{n:02d}" for n in range(16)]
NAMES = [
    "川味小馆",
    "Noodle House",
    "饺子馆",
    "Harbour Grill",
    "面包坊",
    "Green Bowl",
    "粥铺",
    "Dim Sum",
]
STREETS = ["Riverside Road", "人民路", "Harbour Lane", "中山路", "Station Street"]
# (label, query parameters)
QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("first page, no filter", {}),
    ("page 500 of 1,000, no filter", {"page": 500}),
    ("name, rare (one match)", {"q": "Harbour Grill 12347"}),
    ("name, common (1 in 8)", {"q": "noodle"}),
    ("chinese name, 2 characters (1 in 8)", {"q": "饺子"}),
    ("chinese name, 3 characters (1 in 8)", {"q": "饺子馆"}),
    ("one character", {"q": "面"}),
    ("address", {"q": "113 中山路"}),
    ("district only", {"district": "district-07"}),
    ("district + name", {"district": "district-07", "q": "dim sum 12"}),
    ("no match", {"q": "zzzz-nothing"}),
]


def seed(settings: Settings, count: int) -> None:
    app = create_app(settings)  # migrates the database to head
    sessions = app.state.platform.sessions
    now = datetime.now(UTC)
    premises: list[dict[str, Any]] = []
    orgs: list[dict[str, Any]] = []
    for i in range(count):
        org = f"org-{i // 4}"
        if i % 4 == 0:
            orgs.append(
                {
                    "org_id": org,
                    "name": org,
                    "role": "restaurant",
                    "districts": "[]",
                    "created_at": now,
                }
            )
        premises.append(
            {
                "premises_id": f"p-{i:05d}",
                "org_id": org,
                "name": f"{NAMES[i % len(NAMES)]} {i}",
                "kind": "restaurant",
                "licence_number": f"JY{i:012d}",
                "licence_status": "valid",
                "licence_issued_on": date(2024, 1, 1),
                "licence_expires_on": None,
                "district": DISTRICTS[i % len(DISTRICTS)],
                "address": f"{i % 900} {STREETS[i % len(STREETS)]}",
                "timezone": "Asia/Shanghai",
                "first_shift": "07:00",
                "created_at": now,
            }
        )
    alerts: list[dict[str, Any]] = []
    for n in range(2_000):
        i = (n * 7919) % 1_200 * (count // 1_200)
        opened = now - timedelta(days=n % 20)
        alerts.append(
            {
                "alert_id": f"00000000-0000-4000-8000-{n:012d}",
                "premises_id": f"p-{i:05d}",
                "subject": f"device:d-{i}",
                "source": "probe",
                "rule": "cold_holding",
                "alert_class": 1 if n % 10 == 0 else 2,
                "status": "open",
                "detail": "bench",
                "started_at": opened,
                "opened_at": opened,
                "breach_event_id": f"00000000-0000-4000-9000-{n:012d}",
                "due_at": opened + timedelta(days=3 if n % 10 == 0 else 10),
                "escalation": "yellow" if n % 10 == 0 and n % 20 >= 3 else "none",
            }
        )
    grades = [
        {
            "premises_id": f"p-{i:05d}",
            "year": 2025,
            "grade": "ABC"[i % 3],
            "reason": "bench",
            "decided_at": now,
            "decided_by": "bench",
            "event_id": f"00000000-0000-4000-a000-{i:012d}",
        }
        for i in range(count)
        if i % 4
    ]
    with transaction(sessions) as session:
        session.execute(insert(OrganisationRow), orgs)
        for start in range(0, count, 5_000):
            session.execute(insert(PremisesRow), premises[start : start + 5_000])
        session.execute(insert(AlertRow), alerts)
        session.execute(insert(GradeRow), grades)
    app.state.engine.dispose()


def measure(settings: Settings, requests: int) -> dict[str, Any]:
    app = create_app(settings)
    out: dict[str, Any] = {}
    with TestClient(app) as client:
        for label, params in QUERIES:
            query = {"per_page": 20, **params}
            answer = client.get("/v1/public/premises", params=query)
            assert answer.status_code == 200, answer.text
            total = answer.json()["total"]
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                answer = client.get("/v1/public/premises", params=query)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
            times.sort()
            out[label] = {
                "matches": total,
                "median_ms": round(statistics.median(times), 1),
                "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
            }
    app.state.engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--premises", type=int, default=20_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
        "premises": args.premises,
    }
    work = Path(tempfile.mkdtemp(prefix="sunledger-search-bench-"))
    settings = Settings(data_dir=work, database_url=None)
    started = time.perf_counter()
    seed(settings, args.premises)
    report["sqlite_seed_seconds"] = round(time.perf_counter() - started, 1)
    report["sqlite"] = measure(settings, args.requests)
    print(json.dumps(report, ensure_ascii=False, indent=2), flush=True)
    if args.skip_postgres:
        return
    dsn = POSTGRES.replace("+psycopg", "")
    schema = f"search_bench_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        pg_work = Path(tempfile.mkdtemp(prefix="sunledger-search-bench-pg-"))
        key_file = pg_work / "log.key"
        write_signer_key_file(key_file, NoteSigner.generate("bench"))
        url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        pg = Settings(data_dir=pg_work, database_url=url, signing_key_file=key_file)
        seed(pg, args.premises)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'ANALYZE "{schema}".premises')
            conn.execute(f'ANALYZE "{schema}".alerts')
        report["postgresql"] = measure(pg, args.requests)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
