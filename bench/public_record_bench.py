"""The public record's latency after 1 day, 1 week and 30 days of one-a-minute readings for
7 probes, on SQLite and PostgreSQL; and req/s of `sunledger serve --workers 2` on PostgreSQL.

Usage: python bench/public_record_bench.py [--requests N] [--seconds S] [--skip-sqlite]

Seeding is through the log's real bulk append (``Ingest.append``: canonical bytes, leaf
hashes, the Merkle tree, the events table), in batches of 5,000, oldest reading last so
that each stage only adds the older history; the probes' day summaries are then logged
by the real ``DaySummaries.tick`` (its cache emptied first, so each closed day covers all
of its readings). Latency is measured in-process through the ASGI app (``TestClient``):
the request's whole handling, no network. Throughput is measured over 127.0.0.1 with
``sunledger serve --workers 2`` against the 30-day PostgreSQL database, from client
processes, once for full responses and once for ``If-None-Match`` revalidations (304);
then again with ``SUNLEDGER_PUBLIC_RECORD_REUSE_SECONDS=5`` (nothing is written during the
run, so each worker rebuilds the record once per minute and 5 seconds).
Every process started here is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import delete, update
from sqlalchemy import text as sql_text

from traceability.devices.registry import DeviceRegistry
from traceability.orgs.registry import Directory
from traceability.platform import Platform
from traceability.public_record.day_summaries import DaySummaries
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import DeviceRow, ProbeDaySummaryRow
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file
from traceability.transparency.events import EventKind, prepared, rfc3339
from traceability.transparency.ingest import Ingest

POSTGRES = os.environ.get(
    "SUNLEDGER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SUNLEDGER = str(Path(sys.executable).parent / "sunledger")
PREMISES = "p-bench"
PROBES = 7
STAGES = (1, 7, 30)
BATCH = 5_000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def register(platform: Platform, now: datetime) -> list[str]:
    sessions = platform.sessions
    directory = Directory()
    devices = [f"fr-bench-{i}" for i in range(PROBES)]
    with transaction(sessions) as session:
        directory.create_organisation(
            session, org_id="bench-rest", name="Bench", role="restaurant", districts=[], now=now
        )
        directory.add_premises(
            session,
            premises_id=PREMISES,
            org_id="bench-rest",
            name="Bench Noodles",
            kind="restaurant",
            licence_number="JY10000000000001",
            licence_issued_on=date(2024, 1, 1),
            district="east",
            address="1 Bench Road",
            now=now,
        )
        for device in devices:
            DeviceRegistry().register_device(
                session,
                device_id=device,
                premises_id=PREMISES,
                location=f"fridge {device}",
                kind="fridge",
                profile="cn",
                public_key=Ed25519PrivateKey.generate()
                .public_key()
                .public_bytes(Encoding.Raw, PublicFormat.Raw),
                now=now - timedelta(days=max(STAGES) + 1),
            )
    return devices


def seed_minutes(
    platform: Platform, devices: list[str], now: datetime, first: int, last: int
) -> int:
    """Readings every minute for minutes ``first``..``last`` before ``now``, every probe."""
    sessions, log = platform.sessions, platform.log
    ingest = Ingest(log)
    batch: list[Any] = []
    count = 0
    for minute in range(first, last):
        at = now - timedelta(minutes=minute)
        text = rfc3339(at)
        for d, device in enumerate(devices):
            seq = 10_000_000 - minute
            celsius = 3.0 + ((minute + d) % 40) / 10  # 3.0 .. 6.9 °C, 8.0+ never
            if minute % 997 == d:
                celsius = 9.5  # now and then out of range
            batch.append(
                prepared(
                    event_id=f"00000000-0000-4000-{d:04d}-{seq:012d}",
                    kind=EventKind.PROBE_READING,
                    subject=f"device:{device}",
                    occurred_at=at,
                    occurred_text=text,
                    recorded_at=now,
                    recorded_text=rfc3339(now),
                    payload={
                        "device_id": device,
                        "seq": seq,
                        "measured_at": text,
                        "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
                    },
                )
            )
            if len(batch) >= BATCH:
                with transaction(sessions) as session:
                    ingest.append(session, batch)
                count += len(batch)
                batch = []
    with transaction(sessions) as session:
        if batch:
            ingest.append(session, batch)
            count += len(batch)
        if first == 0:  # as the intake keeps it: each probe's newest reading time
            session.execute(update(DeviceRow).values(last_reading_at=now))
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sql_text("ANALYZE"))  # what autovacuum does after a bulk load
    return count


def summarise(platform: Platform, now: datetime) -> dict[str, int]:
    sessions, log = platform.sessions, platform.log
    with transaction(sessions) as session:
        session.execute(delete(ProbeDaySummaryRow))
        report = DaySummaries(log).tick(session, now, days=max(STAGES))
    return {"closed": report.closed, "running": report.running}


def latencies(settings: Settings, requests: int) -> dict[str, float]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings)
    times = []
    with TestClient(app) as client:
        for i in range(requests + 10):
            start = time.perf_counter()
            answer = client.get(f"/v1/public/restaurants/{PREMISES}")
            elapsed = time.perf_counter() - start
            assert answer.status_code == 200, answer.text[:300]
            if i >= 10:  # warm-up
                times.append(elapsed * 1000)
        body = answer.json()
    times.sort()
    days = body["temperatures"]["probes"][0]["days"]
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[int(len(times) * 0.99) - 1], 2),
        "max_ms": round(times[-1], 2),
        "requests": len(times),
        "summary_days_with_data": sum(1 for d in days if d["count"]),
        "readings_in_shown_days_probe_0": sum(d["count"] for d in days),
    }


def stage_report(settings: Settings, requests: int) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    platform = Platform.open(settings)
    devices = register(platform, now)
    out = []
    done = 0
    for days in STAGES:
        start = time.perf_counter()
        added = seed_minutes(platform, devices, now, done * 1440, days * 1440)
        seeded = time.perf_counter() - start
        start = time.perf_counter()
        summaries = summarise(platform, now)
        summarised = time.perf_counter() - start
        done = days
        result = {
            "days": days,
            "readings": days * 1440 * PROBES,
            "added": added,
            "seed_seconds": round(seeded, 1),
            "summaries": summaries,
            "summarise_seconds": round(summarised, 1),
            **latencies(settings, requests),
        }
        print(json.dumps(result), file=sys.stderr)
        out.append(result)
    return out


def _hammer(args: tuple[str, float, str | None]) -> tuple[int, int]:
    url, seconds, etag = args
    ok = bad = 0
    headers = {"If-None-Match": etag} if etag else {}
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            answer = client.get(url, headers=headers)
            if answer.status_code in (200, 304):
                ok += 1
            else:
                bad += 1
    return ok, bad


def throughput(env: dict[str, str], seconds: float, clients: int, work: Path) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [SUNLEDGER, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "serve.log", "wb"),
    )
    base = f"http://127.0.0.1:{port}"
    url = f"{base}/v1/public/restaurants/{PREMISES}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        etag = httpx.get(url, timeout=30).headers["etag"]
        out: dict[str, Any] = {"clients": clients, "seconds": seconds}
        with mp.get_context("fork").Pool(clients) as pool:
            for name, tag in (("full_200", None), ("revalidate_304", etag)):
                start = time.perf_counter()
                results = pool.map(_hammer, [(url, seconds, tag)] * clients)
                elapsed = time.perf_counter() - start
                ok = sum(r[0] for r in results)
                out[name] = {
                    "requests": ok,
                    "errors": sum(r[1] for r in results),
                    "per_second": round(ok / elapsed, 1),
                }
                print(name, out[name], file=sys.stderr)
        return out
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/results/public_record.json"))
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        "probes": PROBES,
    }
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    base_env.update(
        {"SUNLEDGER_ANCHOR_EVERY_EVENTS": "100000000", "SUNLEDGER_ANCHOR_INTERVAL_SECONDS": "1e6"}
    )
    if not args.skip_sqlite:
        work = Path(tempfile.mkdtemp(prefix="sunledger-record-bench-"))
        settings = Settings(data_dir=work, database_url=None)
        report["sqlite"] = stage_report(settings, args.requests)

    dsn = POSTGRES.replace("+psycopg", "")
    schema = f"record_bench_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        work = Path(tempfile.mkdtemp(prefix="sunledger-record-bench-pg-"))
        url = f"{POSTGRES}?options=-csearch_path%3D{schema}"
        key_file = work / "log.key"
        write_signer_key_file(key_file, NoteSigner.generate("bench"))
        settings = Settings(data_dir=work, database_url=url, signing_key_file=key_file)
        report["postgresql"] = stage_report(settings, args.requests)
        env = {
            **base_env,
            "SUNLEDGER_DATA_DIR": str(work),
            "SUNLEDGER_DATABASE_URL": url,
            "SUNLEDGER_SIGNING_KEY_FILE": str(key_file),
        }
        report["postgresql_serve_workers_2"] = throughput(env, args.seconds, args.clients, work)
        reuse = {**env, "SUNLEDGER_PUBLIC_RECORD_REUSE_SECONDS": "5"}
        report["postgresql_serve_workers_2_reuse_5s"] = throughput(
            reuse, args.seconds, args.clients, work
        )
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
