"""The public record's latency after 1 day, 1 week and 30 days of one-a-minute readings for
7 probes, on SQLite and PostgreSQL; and req/s of `sunledger serve --workers 2` on PostgreSQL.

Usage: python bench/public_record_bench.py [--requests N] [--seconds S] [--skip-sqlite]

Seeding is through the log's real bulk append (``Ingest.append``: canonical bytes, leaf
hashes, the Merkle tree, the events table), in batches of 5,000, oldest reading last so
that each stage only adds the older history; the probes' day summaries are then logged
by the real ``DaySummaries.tick`` (its cache emptied first, so each closed day covers all
of its readings). Latency is measured in-process through the ASGI app (``TestClient``):
the request's whole handling, no network, three ways: ``build`` (the worker's record cache
emptied before each request, so every answer builds the record: what the first reader of
each new version pays), ``cached`` (a repeat of the same version: the version query and
the stored bytes) and ``revalidate`` (``If-None-Match`` with the current tag: a 304).
Throughput is measured over 127.0.0.1 against ``sunledger serve --workers 2`` on the
30-day PostgreSQL database, once for full responses (200) and once for revalidations
(304), with ``wrk`` if installed (a native load generator: ``apt-get install wrk``), else
``ab`` (apache2-utils), else, saying so, Python client processes (which on a small machine
measure themselves more than the server). Each run starts early in a minute, so the tag
(which names the minute) holds for the whole run; the counts of 200s and 304s are shown.
Every process started here is stopped by its PID.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
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
PREMISES = "p-bench"
PROBES = 7
STAGES = (1, 7, 30)
BATCH = 5_000
SUNLEDGER = str(Path(sys.executable).parent / "sunledger")


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


def _percentiles(times: list[float]) -> dict[str, float]:
    times = sorted(times)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p99_ms": round(times[max(0, int(len(times) * 0.99) - 1)], 2),
        "max_ms": round(times[-1], 2),
    }


def latencies(settings: Settings, requests: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings)
    url = f"/v1/public/restaurants/{PREMISES}"
    bodies = app.state.platform.record_bodies
    out: dict[str, Any] = {"requests": requests}
    with TestClient(app) as client:
        for _ in range(10):  # warm-up
            client.get(url)
        for mode in ("build", "cached", "revalidate"):
            times = []
            for _ in range(requests):
                if mode == "build":
                    bodies.clear()
                headers = {}
                if mode == "revalidate":
                    headers = {"If-None-Match": client.get(url).headers["etag"]}
                start = time.perf_counter()
                answer = client.get(url, headers=headers)
                elapsed = time.perf_counter() - start
                want = 304 if mode == "revalidate" else 200
                if answer.status_code == 200 and mode == "revalidate":
                    continue  # the minute turned between the two requests
                assert answer.status_code == want, answer.text[:300]
                times.append(elapsed * 1000)
            out[mode] = _percentiles(times)
        body = client.get(url).json()
    days = body["temperatures"]["probes"][0]["days"]
    out["summary_days_with_data"] = sum(1 for d in days if d["count"])
    out["readings_in_shown_days_probe_0"] = sum(d["count"] for d in days)
    return out


def stage_report(
    settings: Settings, requests: int, stages: tuple[int, ...] = STAGES
) -> list[dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    platform = Platform.open(settings)
    devices = register(platform, now)
    out = []
    done = 0
    for days in stages:
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


WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) s200 = 0; s304 = 0; other = 0 end
function response(status, headers, body)
  if status == 200 then s200 = s200 + 1
  elseif status == 304 then s304 = s304 + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s200"); b = b + t:get("s304"); c = c + t:get("other")
  end
  io.write(string.format("STATUS %d %d %d\\n", a, b, c))
  io.write(string.format("LATENCY %.3f %.3f\\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
"""


def generator() -> str:
    """The load generator this machine has: wrk, ab, or python (the fallback)."""
    for name in ("wrk", "ab"):
        if shutil.which(name):
            return name
    print(
        "neither wrk nor ab is installed (apt-get install wrk apache2-utils): falling back "
        "to Python client processes, which compete with the server for the same cores; "
        "the req/s below measure the clients as much as the server",
        file=sys.stderr,
    )
    return "python"


def _hammer(args: tuple[str, float, str | None]) -> tuple[int, int, int]:
    url, seconds, etag = args
    full = revalidated = bad = 0
    headers = {"If-None-Match": etag} if etag else {}
    deadline = time.monotonic() + seconds
    with httpx.Client(timeout=30) as client:
        while time.monotonic() < deadline:
            status = client.get(url, headers=headers).status_code
            if status == 200:
                full += 1
            elif status == 304:
                revalidated += 1
            else:
                bad += 1
    return full, revalidated, bad


def _early_in_a_minute(seconds: float) -> None:
    """Wait until a run of ``seconds`` (plus 2) fits before the minute turns."""
    while datetime.now(UTC).second + seconds + 2 >= 60:
        time.sleep(0.2)


def _load(
    tool: str, url: str, etag: str | None, seconds: float, clients: int, work: Path
) -> dict[str, Any]:
    _early_in_a_minute(seconds)
    start = time.perf_counter()
    if tool == "wrk":
        script = work / "status.lua"
        script.write_text(WRK_SCRIPT)
        command = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds:g}s", "-s", str(script)]
        if etag:
            command += ["-H", f"If-None-Match: {etag}"]
        text = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        elapsed = time.perf_counter() - start
        status = next(line for line in text.splitlines() if line.startswith("STATUS")).split()
        latency = next(line for line in text.splitlines() if line.startswith("LATENCY")).split()
        rate = next(line for line in text.splitlines() if line.startswith("Requests/sec"))
        full, revalidated, bad = (int(x) for x in status[1:])
        return {
            "full_200": full,
            "not_modified_304": revalidated,
            "other": bad,
            "per_second": float(rate.split()[1]),
            "p50_ms": float(latency[1]),
            "p99_ms": float(latency[2]),
        }
    if tool == "ab":
        command = ["ab", "-q", "-k", "-t", f"{seconds:g}", "-n", "10000000", "-c", str(clients)]
        if etag:
            command += ["-H", f"If-None-Match: {etag}"]
        text = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 60
        ).stdout
        lines = text.splitlines()

        def field(name: str) -> str:
            return next(line for line in lines if line.startswith(name)).split(":", 1)[1]

        done = int(field("Complete requests"))
        non_2xx = (
            int(field("Non-2xx responses"))
            if any(line.startswith("Non-2xx responses") for line in lines)
            else 0
        )
        return {
            # ab counts a 304 as "non-2xx"; the run sends one kind of request only.
            "full_200": done - non_2xx,
            "not_modified_304_or_other": non_2xx,
            "per_second": float(field("Requests per second").split()[0]),
        }
    with mp.get_context("fork").Pool(clients) as pool:
        results = pool.map(_hammer, [(url, seconds, etag)] * clients)
    elapsed = time.perf_counter() - start
    full, revalidated, bad = (sum(r[i] for r in results) for i in range(3))
    return {
        "full_200": full,
        "not_modified_304": revalidated,
        "other": bad,
        "per_second": round((full + revalidated) / elapsed, 1),
    }


def _cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes (Linux /proc), 0 for one that is gone."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _tree(pid: int) -> list[int]:
    """The process and its children (uvicorn's supervisor and its worker processes)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    found = [pid]
    if children.exists():
        for child in children.read_text().split():
            found += _tree(int(child))
    return found


def _postgres_pids() -> list[int]:
    """Every PostgreSQL server process on this machine (other users' work included)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().startswith("postgres"):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def throughput(
    env: dict[str, str], seconds: float, clients: int, work: Path, tool: str
) -> dict[str, Any]:
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
        out: dict[str, Any] = {"generator": tool, "connections": clients, "seconds": seconds}
        for name in ("full_200", "revalidate_304"):
            _early_in_a_minute(seconds)
            etag = httpx.get(url, timeout=30).headers["etag"] if name != "full_200" else None
            server_pids, postgres_pids = _tree(server.pid), _postgres_pids()
            server_cpu, postgres_cpu = _cpu_seconds(server_pids), _cpu_seconds(postgres_pids)
            out[name] = _load(tool, url, etag, seconds, clients, work)
            # CPU per answer: what the machine's other load changes least (req/s moves with it).
            answered = out[name]["full_200"] + out[name]["not_modified_304"]
            if answered:
                server_ms = (_cpu_seconds(server_pids) - server_cpu) * 1000 / answered
                postgres_ms = (_cpu_seconds(postgres_pids) - postgres_cpu) * 1000 / answered
                out[name]["server_cpu_ms_per_request"] = round(server_ms, 3)
                out[name]["postgres_cpu_ms_per_request"] = round(postgres_ms, 3)
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
    parser.add_argument("--clients", type=int, default=8, help="connections (wrk, ab)")
    parser.add_argument("--runs", type=int, default=3, help="throughput runs")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument(
        "--days", type=int, nargs="+", default=list(STAGES), help="history stages (days)"
    )
    parser.add_argument("--out", type=Path, default=Path("bench/results/public_record.json"))
    args = parser.parse_args()
    report: dict[str, Any] = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_at_start": os.getloadavg(),
        },
        "probes": PROBES,
    }
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    base_env.update(
        {"SUNLEDGER_ANCHOR_EVERY_EVENTS": "100000000", "SUNLEDGER_ANCHOR_INTERVAL_SECONDS": "1e6"}
    )
    if not args.skip_sqlite:
        work = Path(tempfile.mkdtemp(prefix="sunledger-record-bench-"))
        settings = Settings(data_dir=work, database_url=None)
        report["sqlite"] = stage_report(settings, args.requests, tuple(args.days))

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
        report["postgresql"] = stage_report(settings, args.requests, tuple(args.days))
        env = {
            **base_env,
            "SUNLEDGER_DATA_DIR": str(work),
            "SUNLEDGER_DATABASE_URL": url,
            "SUNLEDGER_SIGNING_KEY_FILE": str(key_file),
        }
        tool = generator()
        report["postgresql_serve_workers_2"] = []
        for _ in range(args.runs):
            run = throughput(env, args.seconds, args.clients, work, tool)
            run["load_average"] = os.getloadavg()
            report["postgresql_serve_workers_2"].append(run)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
