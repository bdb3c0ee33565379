"""Soak: mixed load against the service deployment, with latency, memory and error figures.

``sunledger serve --workers 2`` and ``sunledger worker`` (Redis, PostgreSQL, the
session's Hardhat node) take, from client processes on 127.0.0.1:

- probe readings at 2,000/s: 1,800/s as gateway-signed batches of 100 and
  200/s as requests of 20 readings each signed by its device;
- record uploads (2/s), public page reads (``GET /v1/public/restaurants/{id}``,
  5/s) and proof reads (``GET /v1/proofs/{event_id}``, 5/s).

Clients pace themselves against the clock and never catch up with a burst, so
the reported rate is what the deployment really took. Figures: p50/p99 latency
per endpoint, errors by status, resident memory of each server process at the
start and the end. Asserted: no server error or dropped connection, and every
accepted reading is in the log. ``SUNLEDGER_RELIABILITY=full`` runs 10 minutes,
the default 20 seconds (same code).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from deployment_kit import (
    Processes,
    api_ready,
    bootstrap,
    gateway_batch,
    metric,
    private_schema,
    register_tenant,
    service_env,
    signed_reading,
    unsigned_reading,
    wait_until,
    waste_oil_record,
)
from local_ports import free_port
from reliability_figures import FULL, record_figure
from sqlalchemy import func, select

from traceability.storage.db import make_engine, session_factory
from traceability.storage.models import EventRow

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres]

SECONDS = 600.0 if FULL else 20.0
GATEWAY_RATE, GATEWAY_BATCH = 1800, 100
SIGNED_RATE, SIGNED_BATCH = 200, 20
RECORDS_RATE, PAGES_RATE, PROOFS_RATE = 2.0, 5.0, 5.0
GATEWAYS, DEVICES_PER_GATEWAY, SIGNED_DEVICES = 4, 10, 5
GATEWAY_EP = "POST /v1/probes/readings (gateway batch of 100)"
SIGNED_EP = "POST /v1/probes/readings (20 device-signed)"
RECORD_EP = "POST /v1/premises/{id}/records"
PAGE_EP = "GET /v1/public/restaurants/{id}"
PROOF_EP = "GET /v1/proofs/{event_id}"


@dataclass
class Tally:
    """One client process's measurements."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: dict[str, Counter[str]] = field(default_factory=dict)
    readings_accepted: int = 0

    def add(self, endpoint: str, seconds: float, status: str) -> None:
        self.latencies.setdefault(endpoint, []).append(seconds)
        self.statuses.setdefault(endpoint, Counter())[status] += 1


def _timed(
    tally: Tally, endpoint: str, client: httpx.Client, method: str, path: str, **kw: Any
) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        answer = client.request(method, path, **kw)
    except httpx.HTTPError as exc:
        tally.add(endpoint, time.perf_counter() - start, type(exc).__name__)
        return None
    tally.add(endpoint, time.perf_counter() - start, str(answer.status_code))
    return answer


def _paced(seconds: float, rate: float) -> Iterator[None]:
    """Yield at ``rate`` per second for ``seconds``; a late client skips, never bursts."""
    start = time.monotonic()
    interval = 1.0 / rate
    for k in range(int(seconds * rate) + 1):
        due = start + k * interval
        now = time.monotonic()
        if now > start + seconds:
            return
        if due > now:
            time.sleep(due - now)
        elif now - due > interval:
            continue  # behind: this slot is lost (the real rate is reported)
        yield None


def _key(raw: bytes) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw)


def gateway_client(url: str, gateways: list[tuple[str, bytes, list[str]]], seconds: float) -> Tally:
    tally = Tally()
    seqs = {gateway_id: 1 for gateway_id, _k, _d in gateways}
    device_seq: Counter[str] = Counter()
    keys = {gateway_id: _key(raw) for gateway_id, raw, _d in gateways}
    with httpx.Client(base_url=url, timeout=60) as client:
        for turn, _ in enumerate(_paced(seconds, GATEWAY_RATE / GATEWAY_BATCH)):
            gateway_id, _raw, devices = gateways[turn % len(gateways)]
            at = datetime.now(UTC) - timedelta(seconds=2)
            readings = []
            for i in range(GATEWAY_BATCH):
                device = devices[i % len(devices)]
                device_seq[device] += 1
                readings.append(unsigned_reading(device, device_seq[device], 3.5, at))
            body = gateway_batch(keys[gateway_id], gateway_id, seqs[gateway_id], readings)
            seqs[gateway_id] += 1
            answer = _timed(tally, GATEWAY_EP, client, "POST", "/v1/probes/readings", json=body)
            if answer is not None and answer.status_code == 200:
                tally.readings_accepted += int(answer.json()["accepted"])
    return tally


def signed_client(url: str, devices: list[tuple[str, bytes]], seconds: float) -> Tally:
    tally = Tally()
    keys = [(device, _key(raw)) for device, raw in devices]
    seq = 1
    with httpx.Client(base_url=url, timeout=60) as client:
        for turn, _ in enumerate(_paced(seconds, SIGNED_RATE / SIGNED_BATCH)):
            device, key = keys[turn % len(keys)]
            at = datetime.now(UTC) - timedelta(seconds=2)
            batch = [signed_reading(key, device, seq + i, 4.5, at) for i in range(SIGNED_BATCH)]
            if turn % len(keys) == len(keys) - 1:
                seq += SIGNED_BATCH
            answer = _timed(
                tally, SIGNED_EP, client, "POST", "/v1/probes/readings", json={"readings": batch}
            )
            if answer is not None and answer.status_code == 200:
                tally.readings_accepted += int(answer.json()["accepted"])
    return tally


def pages_client(
    url: str, headers: dict[str, str], premises: list[str], writer: str, seconds: float
) -> Tally:
    """Records, public pages and proofs interleaved at their rates from one process."""
    tally = Tally()
    total = RECORDS_RATE + PAGES_RATE + PROOFS_RATE
    plan = (
        [RECORD_EP] * int(RECORDS_RATE * 2)
        + [PAGE_EP] * int(PAGES_RATE * 2)
        + [PROOF_EP] * int(PROOFS_RATE * 2)
    )
    events: list[str] = []
    with httpx.Client(base_url=url, timeout=60) as client:
        for turn, _ in enumerate(_paced(seconds, total)):
            endpoint = plan[(turn * 7) % len(plan)]  # 7 is prime to len(plan): a fair mix
            if endpoint == RECORD_EP:
                answer = _timed(
                    tally,
                    endpoint,
                    client,
                    "POST",
                    f"/v1/premises/{writer}/records",
                    json=waste_oil_record(),
                    headers=headers,
                )
                if answer is not None and answer.status_code == 201:
                    events.append(answer.json()["event_id"])
            elif endpoint == PAGE_EP:
                page = f"/v1/public/restaurants/{premises[turn % len(premises)]}"
                _timed(tally, endpoint, client, "GET", page)
            elif events:
                _timed(tally, endpoint, client, "GET", f"/v1/proofs/{events[turn % len(events)]}")
    return tally


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@pytest.fixture
def deployment(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    mosquitto: tuple[str, int],
    hardhat_url: str,
) -> Iterator[dict[str, str]]:
    with private_schema(postgres_url) as url:
        yield service_env(tmp_path, url, redis_url, mosquitto, hardhat_url)


def test_mixed_load_soak(deployment: dict[str, str], tmp_path: Path) -> None:
    env = deployment
    bootstrap(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    processes = Processes(env, tmp_path)
    try:
        processes.start("api", "serve", "--workers", "2", "--port", str(port))
        processes.start("worker", "worker")
        wait_until("the API answering /readyz", lambda: api_ready(url), 90, processes)
        gateways: list[tuple[str, bytes, list[str]]] = []
        premises: list[str] = []
        with httpx.Client(base_url=url, timeout=30) as client:
            for g in range(GATEWAYS):
                tenant = register_tenant(
                    client, f"rest-soak-{g}", f"p-soak-{g}", devices=DEVICES_PER_GATEWAY,
                    gateway=True,
                )  # fmt: skip
                assert tenant.gateway_id is not None and tenant.gateway_key is not None
                gateways.append((tenant.gateway_id, _raw(tenant.gateway_key), list(tenant.devices)))
                premises.append(tenant.premises_id)
            signer = register_tenant(client, "rest-soak-s", "p-soak-s", devices=SIGNED_DEVICES)
            premises.append(signer.premises_id)
        signed = [(device, _raw(key)) for device, key in signer.devices.items()]
        memory_start = {name: processes.rss_kib(name) for name in ("api", "worker")}
        started = time.monotonic()
        with ProcessPoolExecutor(4, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = [
                pool.submit(gateway_client, url, gateways[:2], SECONDS),
                pool.submit(gateway_client, url, gateways[2:], SECONDS),
                pool.submit(signed_client, url, signed, SECONDS),
                pool.submit(
                    pages_client, url, signer.headers, premises, signer.premises_id, SECONDS
                ),
            ]
            tallies = [f.result(timeout=SECONDS + 300) for f in futures]
        elapsed = time.monotonic() - started
        memory_end = {name: processes.rss_kib(name) for name in ("api", "worker")}
        metrics = httpx.get(f"{url}/metrics", timeout=30).text
    finally:
        processes.stop()

    accepted = sum(t.readings_accepted for t in tallies)
    engine = make_engine(env["SUNLEDGER_DATABASE_URL"])
    with session_factory(engine)() as session:
        logged = session.execute(
            select(func.count()).select_from(EventRow).where(EventRow.kind == "probe_reading")
        ).scalar_one()
    engine.dispose()
    endpoints: dict[str, Any] = {}
    for tally in tallies:
        for endpoint, values in tally.latencies.items():
            entry = endpoints.setdefault(endpoint, {"latencies": [], "statuses": Counter()})
            entry["latencies"].extend(values)
            entry["statuses"].update(tally.statuses[endpoint])
    figures: dict[str, Any] = {
        "seconds_paced": SECONDS,
        "seconds_with_client_start": round(elapsed, 1),
        "readings_target_per_second": GATEWAY_RATE + SIGNED_RATE,
        "readings_accepted": accepted,
        "readings_per_second": round(accepted / SECONDS, 1),
        "readings_logged": int(logged),
        "anchor_lag_events_at_end": metric(metrics, "sunledger_anchor_lag_events"),
        "endpoints": {
            name: {
                "requests": len(e["latencies"]),
                "p50_ms": round(1000 * _percentile(e["latencies"], 0.50), 1),
                "p99_ms": round(1000 * _percentile(e["latencies"], 0.99), 1),
                "statuses": dict(e["statuses"]),
            }
            for name, e in sorted(endpoints.items())
        },
        "rss_mib": {
            name: {
                "start": [round(kib / 1024, 1) for kib in memory_start[name].values()],
                "end": [round(kib / 1024, 1) for kib in memory_end[name].values()],
            }
            for name in memory_start
        },
    }
    record_figure("soak", figures)
    failures = {
        name: {s: n for s, n in e["statuses"].items() if not s.startswith(("2",))}
        for name, e in endpoints.items()
    }
    assert all(not bad for bad in failures.values()), failures
    assert int(logged) == accepted  # every accepted reading is in the log, none twice
    assert {PAGE_EP, PROOF_EP, RECORD_EP, GATEWAY_EP, SIGNED_EP} <= set(endpoints)
