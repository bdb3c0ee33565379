"""The deployment of docs/deploy.md on this machine's services, run as a newcomer types it.

PostgreSQL, Redis with a real Celery worker process, Mosquitto with `sunledger
mqtt`, two API processes (`sunledger serve --workers 2`) and a Hardhat node:
readings go in over MQTT, a record through the API, the worker anchors, and
`sunledger verify` and `sunledger audit` check the result against the Hardhat
RPC. Every process is started here and stopped by its PID.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from local_ports import free_port
from sqlalchemy import func, select

from traceability.canonical import canonical_bytes
from traceability.db import make_engine, session_factory
from traceability.models import AnchorRow, EventRow, LogState

SUNLEDGER = str(Path(sys.executable).parent / "sunledger")
ADMIN_TOKEN = "deploy-test-admin-token"


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [SUNLEDGER, *args], env=env, capture_output=True, text=True, timeout=timeout
    )
    return done


@pytest.fixture
def deployment_env(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    mosquitto: tuple[str, int],
    hardhat_url: str,
) -> Iterator[dict[str, str]]:
    from sqlalchemy import text

    engine = make_engine(postgres_url)
    with engine.begin() as conn:  # an empty schema for this deployment
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        for table in list(tables):
            conn.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()
    host, port = mosquitto
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    yield {
        **base,
        "SUNLEDGER_DATA_DIR": str(tmp_path / "data"),
        "SUNLEDGER_DATABASE_URL": postgres_url,
        "SUNLEDGER_SIGNING_KEY_FILE": str(tmp_path / "log.key"),
        "SUNLEDGER_LOG_ORIGIN": f"deploy-{uuid.uuid4().hex[:8]}.test/log",
        "SUNLEDGER_CHAIN": "hardhat",
        "SUNLEDGER_CHAIN_RPC_URL": hardhat_url,
        "SUNLEDGER_BROKER_URL": redis_url,
        "SUNLEDGER_ANCHOR_INTERVAL_SECONDS": "1",
        "SUNLEDGER_MQTT_HOST": host,
        "SUNLEDGER_MQTT_PORT": str(port),
        "SUNLEDGER_MQTT_TOPIC": f"deploy-{uuid.uuid4().hex[:8]}/probes/+/readings",
        "SUNLEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "SUNLEDGER_LOG_FORMAT": "json",
    }


class Processes:
    """Long-running processes of the deployment, each stopped by its own PID."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, *args: str) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        process = subprocess.Popen(
            [SUNLEDGER, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self.running.append((name, process))

    def stop(self) -> None:
        for _name, process in reversed(self.running):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _name, process in self.running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def output(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-3000:]


def wait_until(what: str, check: Any, seconds: float, processes: Processes) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    logs = "\n".join(f"--- {n}\n{processes.output(n)}" for n, _p in processes.running)
    raise AssertionError(f"{what} did not happen within {seconds} s\n{logs}")


def signed_reading(key: Ed25519PrivateKey, device: str, seq: int, celsius: float) -> dict[str, Any]:
    at = (datetime.now(UTC) - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    unsigned = {
        "device_id": device,
        "seq": seq,
        "measured_at": at,
        "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
    }
    return {**unsigned, "sig": base64.b64encode(key.sign(canonical_bytes(unsigned))).decode()}


@pytest.mark.slow
def test_the_documented_deployment_end_to_end(
    deployment_env: dict[str, str], tmp_path: Path
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    env = deployment_env
    verifier = run(env, "keys", "generate", "--out", env["SUNLEDGER_SIGNING_KEY_FILE"])
    assert verifier.returncode == 0, verifier.stderr
    public_key = verifier.stdout.strip().splitlines()[-1]
    assert run(env, "db", "upgrade").returncode == 0
    deployed = run(env, "chain", "deploy")
    assert deployed.returncode == 0, deployed.stderr

    port = free_port()
    api = f"http://127.0.0.1:{port}"
    processes = Processes(env, tmp_path)
    try:
        processes.start("api", "serve", "--workers", "2", "--port", str(port))
        processes.start("worker", "worker")
        processes.start("mqtt", "mqtt")

        def api_ready() -> bool:
            try:
                return httpx.get(f"{api}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until("the API answering /readyz", api_ready, 90, processes)
        ready = httpx.get(f"{api}/readyz").json()["checks"]
        assert ready["broker"]["ok"] and ready["chain"]["ok"] and ready["database"]["ok"]

        admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        client = httpx.Client(base_url=api, timeout=30)
        assert (
            client.post(
                "/v1/admin/orgs",
                json={"org_id": "rest-d", "name": "Deploy Diner", "role": "restaurant"},
                headers=admin,
            ).status_code
            == 201
        )
        premises = {
            "premises_id": "p-d",
            "org_id": "rest-d",
            "name": "Deploy Diner",
            "kind": "restaurant",
            "licence_number": "JY13101049990001",
            "licence_issued_on": "2024-01-10",
            "district": "d9",
            "address": "9 Deploy Rd",
        }
        assert client.post("/v1/admin/premises", json=premises, headers=admin).status_code == 201
        key = client.post("/v1/admin/orgs/rest-d/keys", json={"label": "till"}, headers=admin)
        restaurant = {"Authorization": f"Bearer {key.json()['api_key']}"}
        device_key = Ed25519PrivateKey.generate()
        raw = device_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        device = {
            "device_id": "fr-deploy",
            "premises_id": "p-d",
            "location": "cold room",
            "kind": "fridge",
            "public_key": base64.b64encode(raw).decode(),
        }
        assert client.post("/v1/admin/devices", json=device, headers=admin).status_code == 201

        # Readings over MQTT, through `sunledger mqtt`.
        publisher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        publisher.connect(env["SUNLEDGER_MQTT_HOST"], int(env["SUNLEDGER_MQTT_PORT"]))
        publisher.loop_start()
        topic = env["SUNLEDGER_MQTT_TOPIC"].replace("+", "fr-deploy")
        readings = [signed_reading(device_key, "fr-deploy", seq, 3.5) for seq in range(1, 21)]
        try:
            for start in range(0, 20, 5):
                publisher.publish(topic, json.dumps(readings[start : start + 5]), qos=1)
            time.sleep(0.5)
        finally:
            publisher.loop_stop()
            publisher.disconnect()

        # A record through the API.
        record = client.post(
            "/v1/premises/p-d/records",
            json={
                "record_type": "waste_oil",
                "record": {
                    "date": datetime.now(UTC).date().isoformat(),
                    "oil_type": "frying_oil",
                    "quantity": 3,
                    "unit": "kg",
                    "collector": "Green Oil Recycling",
                    "collector_licence": "HW-2024-118",
                    "collected_at": datetime.now(UTC).isoformat(),
                },
            },
            headers=restaurant,
        )
        assert record.status_code == 201, record.text
        record_event = record.json()["event_id"]

        engine = make_engine(env["SUNLEDGER_DATABASE_URL"])
        sessions = session_factory(engine)

        def readings_logged() -> bool:
            with sessions() as session:
                count = session.execute(
                    select(func.count())
                    .select_from(EventRow)
                    .where(EventRow.kind == "probe_reading")
                ).scalar_one()
            return int(count) == 20

        wait_until("20 readings logged from MQTT", readings_logged, 60, processes)

        def everything_anchored() -> bool:
            with sessions() as session:
                size = session.execute(select(LogState.tree_size)).scalar_one()
                final = session.execute(
                    select(func.max(AnchorRow.tree_size)).where(AnchorRow.status == "final")
                ).scalar_one()
            return final is not None and int(final) >= size

        wait_until("the worker anchoring every event", everything_anchored, 120, processes)
        engine.dispose()
        metrics = client.get("/metrics").text
        assert "sunledger_anchor_lag_events 0" in metrics
    finally:
        processes.stop()
    for _name, process in processes.running:
        assert process.poll() is not None  # all stopped

    bundle = tmp_path / "bundle.json"
    proof = run(env, "proof", record_event, "--out", str(bundle))
    assert proof.returncode == 0, proof.stderr
    verified = run(
        env,
        "verify",
        str(bundle),
        "--public-key",
        public_key,
        "--rpc",
        env["SUNLEDGER_CHAIN_RPC_URL"],
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    audited = run(env, "audit", "--rpc", env["SUNLEDGER_CHAIN_RPC_URL"])
    assert audited.returncode == 0, audited.stdout + audited.stderr
