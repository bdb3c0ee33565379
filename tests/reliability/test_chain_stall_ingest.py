"""A stalled chain never stalls ingest, and anchoring ticks do not pile up (issue 15,
items 5 and 11).

The chain is a Hardhat node of the test's own, stopped with SIGSTOP on its process
group (it accepts connections and never answers, as a hung node does) and resumed
with SIGCONT. The deployment is the real one: ``sunledger serve`` (and ``sunledger
worker``) on PostgreSQL and Redis, all on 127.0.0.1.

1. Eager mode (no broker): while the node is stopped for longer than the client's
   10 s timeout, every ``POST /v1/probes/readings`` is answered 200 within that
   timeout and its readings are in the log; after SIGCONT anchoring catches up.
2. With Redis and a worker: ingest requests while no tick can run queue at most one
   anchoring tick in the broker (not one per request), also while the worker is held
   by the stopped node; after SIGCONT everything is anchored.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from deployment_kit import (
    Processes,
    api_ready,
    bootstrap,
    private_schema,
    register_tenant,
    service_env,
    signed_reading,
    stored_events,
    wait_until,
)
from local_ports import free_port
from reliability_figures import FULL, record_figure
from sqlalchemy import func, select

from traceability.chain import hardhat_node
from traceability.entrypoints.worker import ANCHOR_TICK, TICK_QUEUED_KEY
from traceability.storage.db import make_engine, session_factory
from traceability.storage.models import AnchorRow, EventRow

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres]

STALL_SECONDS = 60.0 if FULL else 25.0
CLIENT_TIMEOUT = 10.0  # the chain RPC's own timeout is 10 s per call: waiting on it fails
REQUESTS = 40 if FULL else 20
COALESCE_DB = 13  # a Redis database of this test's own: it counts the queue


@pytest.fixture
def own_node(tmp_path: Path) -> Iterator[hardhat_node.RunningNode]:
    """A Hardhat node of this test only, started and stopped by its PID."""
    if not hardhat_node.HARDHAT_BIN.exists():
        pytest.skip(f"{hardhat_node.HARDHAT_BIN} is missing (npm ci)")
    pid_file = tmp_path / "hardhat" / "node.pid"
    node = hardhat_node.start(pid_file, port=free_port())
    try:
        yield node
    finally:
        try:
            os.killpg(node.pid, signal.SIGCONT)  # a stopped process does not act on SIGTERM
        except ProcessLookupError:
            pass
        hardhat_node.stop(pid_file)


def anchored_all(sessions: object) -> bool:
    with sessions() as session:  # type: ignore[operator]
        size = session.execute(select(func.count()).select_from(EventRow)).scalar_one()
        final = session.execute(
            select(func.max(AnchorRow.tree_size)).where(
                AnchorRow.status.in_(("confirmed", "final"))
            )
        ).scalar_one()
    return final is not None and int(final) >= size


def post(client: httpx.Client, device: str, key: object, seq: int) -> httpx.Response:
    batch = [signed_reading(key, device, seq + i, 4.0) for i in range(5)]  # type: ignore[arg-type]
    return client.post("/v1/probes/readings", json={"readings": batch})


def test_ingest_answers_while_the_chain_is_stopped_in_eager_mode(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    mosquitto: tuple[str, int],
    own_node: hardhat_node.RunningNode,
) -> None:
    with private_schema(postgres_url) as url:
        env = service_env(
            tmp_path, url, redis_url, mosquitto, own_node.url, anchor_every_events="1"
        )
        del env["SUNLEDGER_BROKER_URL"]  # eager: anchoring runs in the API process
        bootstrap(env)
        engine = make_engine(url)
        sessions = session_factory(engine)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        processes = Processes(env, tmp_path)
        answered: list[float] = []
        try:
            processes.start("api", "serve", "--port", str(port))
            wait_until("the API answering /readyz", lambda: api_ready(base), 90, processes)
            with httpx.Client(base_url=base, timeout=30) as client:
                tenant = register_tenant(client, "rest-stall", "p-stall", devices=1)
            device, key = next(iter(tenant.devices.items()))
            with httpx.Client(base_url=base, timeout=CLIENT_TIMEOUT) as client:
                assert post(client, device, key, 1).status_code == 200
                wait_until("a first anchor", lambda: anchored_all(sessions), 60, processes)
                os.killpg(own_node.pid, signal.SIGSTOP)
                try:
                    stopped = time.monotonic()
                    seq = 6
                    receipts: list[dict[str, object]] = []
                    for _ in range(200):  # bounded; the node stays stopped the whole time
                        if time.monotonic() - stopped > STALL_SECONDS:
                            break
                        sent = time.monotonic()
                        answer = post(client, device, key, seq)  # times out if it waits
                        answered.append(time.monotonic() - sent)
                        assert answer.status_code == 200, answer.text
                        receipts.extend(answer.json()["receipt"]["events"])
                        seq += 5
                        assert client.get("/healthz").status_code == 200
                        time.sleep(1.0)
                    stored = stored_events(sessions)
                    missing = [r for r in receipts if str(r["event_id"]) not in stored]
                    stall = time.monotonic() - stopped
                finally:
                    os.killpg(own_node.pid, signal.SIGCONT)
                assert post(client, device, key, seq).status_code == 200
            wait_until("anchoring caught up", lambda: anchored_all(sessions), 120, processes)
        finally:
            processes.stop()
            engine.dispose()
    figure = {
        "stall_seconds": round(stall, 1),
        "requests_during_stall": len(answered),
        "readings_logged_during_stall": len(receipts) - len(missing),
        "slowest_answer_seconds": round(max(answered), 2),
    }
    record_figure("chain_stall_eager_ingest", figure)
    assert len(answered) >= 5 and missing == [], figure


def queued_ticks(client: redis.Redis) -> tuple[int, int]:
    """(ingest-requested, other) anchoring ticks waiting in the broker's default queue."""
    asked = other = 0
    for raw in client.lrange("celery", 0, -1):
        message = json.loads(raw)
        if message.get("headers", {}).get("task") != ANCHOR_TICK:
            continue
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        if "force" in kwargs:
            asked += 1
        else:
            other += 1  # from the beat
    return asked, other


def test_anchoring_ticks_coalesce_while_the_chain_is_stopped(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    mosquitto: tuple[str, int],
    own_node: hardhat_node.RunningNode,
) -> None:
    broker = redis_url.rsplit("/", 1)[0] + f"/{COALESCE_DB}"
    queue = redis.Redis.from_url(broker)
    queue.flushdb()
    with private_schema(postgres_url) as url:
        env = service_env(
            tmp_path, url, broker, mosquitto, own_node.url,
            anchor_every_events="1", anchor_interval_seconds="3600",
        )  # fmt: skip
        bootstrap(env)
        engine = make_engine(url)
        sessions = session_factory(engine)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        processes = Processes(env, tmp_path)
        flag = TICK_QUEUED_KEY + env["SUNLEDGER_LOG_ORIGIN"]
        peaks: list[tuple[int, int]] = []
        try:
            processes.start("api", "serve", "--port", str(port))
            wait_until("the API answering /readyz", lambda: api_ready(base), 90, processes)
            with httpx.Client(base_url=base, timeout=30) as client:
                tenant = register_tenant(client, "rest-tick", "p-tick", devices=1)
                device, key = next(iter(tenant.devices.items()))
                # No worker yet: nothing takes ticks from the broker.
                for i in range(REQUESTS):
                    assert post(client, device, key, 1 + 5 * i).status_code == 200
                    peaks.append(queued_ticks(queue))
                no_worker = queued_ticks(queue)
                assert queue.exists(flag)
                # A worker takes the tick and is held by the stopped node.
                os.killpg(own_node.pid, signal.SIGSTOP)
                try:
                    processes.start("worker", "worker")
                    wait_until("the worker taking the tick", lambda: not queue.exists(flag), 90,
                               processes)  # fmt: skip
                    for i in range(REQUESTS, 2 * REQUESTS):
                        assert post(client, device, key, 1 + 5 * i).status_code == 200
                        peaks.append(queued_ticks(queue))
                    held = queued_ticks(queue)
                finally:
                    os.killpg(own_node.pid, signal.SIGCONT)
                assert post(client, device, key, 1 + 10 * REQUESTS).status_code == 200
            wait_until("everything anchored", lambda: anchored_all(sessions), 180, processes)
        finally:
            processes.stop()
            engine.dispose()
            queue.flushdb()
    figure = {
        "requests": 2 * REQUESTS + 1,
        "ingest_ticks_queued_without_worker": no_worker[0],
        "ingest_ticks_queued_with_worker_held": held[0],
        "most_ingest_ticks_queued": max(p[0] for p in peaks),
        "most_beat_ticks_queued": max(p[1] for p in peaks),
    }
    record_figure("anchor_tick_coalescing", figure)
    assert no_worker[0] == 1, figure
    assert max(p[0] for p in peaks) <= 1, figure
