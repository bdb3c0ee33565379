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
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from deployment_kit import (
    ADMIN_TOKEN,
    Processes,
    forget_mqtt_session,
    private_schema,
    run,
    service_env,
    signed_reading,
    wait_until,
)
from local_ports import free_port
from sqlalchemy import func, select, text

from traceability.storage.db import make_engine, session_factory
from traceability.storage.models import AnchorRow, EventRow, LogState


def session_schema_tables(postgres_url: str) -> list[str]:
    """The tables (and migration version) of the run's shared schema, to prove it untouched."""
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            tables = conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
                    " ORDER BY tablename"
                )
            ).scalars()
            version = conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            return [*tables, *(f"alembic_version={v}" for v in version)]
    finally:
        engine.dispose()


@pytest.fixture
def deployment_env(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    mosquitto: tuple[str, int],
    hardhat_url: str,
) -> Iterator[dict[str, str]]:
    # A schema of its own: the deployment migrates from nothing, and the run's shared
    # schema (migrated once per session) must keep its tables for every later test.
    shared_before = session_schema_tables(postgres_url)
    with private_schema(postgres_url) as url:
        yield service_env(tmp_path, url, redis_url, mosquitto, hardhat_url)
    assert session_schema_tables(postgres_url) == shared_before


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
        forget_mqtt_session(env)
    for _name, process in processes.running:
        assert process.poll() is not None  # all stopped

    bundle = tmp_path / "bundle.json"
    proof = run(env, "proof", record_event, "--out", str(bundle))
    assert proof.returncode == 0, proof.stderr
    trust_file = tmp_path / "trust.json"
    shown = run(env, "trust", "show")
    assert shown.returncode == 0, shown.stderr
    trust_file.write_text(shown.stdout)
    assert json.loads(shown.stdout)["log"]["public_key"] == public_key
    verified = run(
        env,
        "verify",
        str(bundle),
        "--trust",
        str(trust_file),
        "--rpc",
        env["SUNLEDGER_CHAIN_RPC_URL"],
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    audited = run(env, "audit", "--rpc", env["SUNLEDGER_CHAIN_RPC_URL"])
    assert audited.returncode == 0, audited.stdout + audited.stderr
