"""The service deployment of docs/deploy.md, started as separate processes for tests.

Shared by tests/test_deployment.py and the reliability suite (tests/reliability/):
the environment of a deployment, its long-running processes (each in its own
process group, stopped or killed by PID), the bootstrap a newcomer types, a
tenant registered through the admin API, signed readings and gateway batches,
and reading the chain's anchor events. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_utils.crypto import keccak

from traceability.transparency.canonical import canonical_bytes

SUNLEDGER = str(Path(sys.executable).parent / "sunledger")
ADMIN_TOKEN = "deploy-test-admin-token"
ANCHORED_TOPIC = "0x" + keccak(text="CheckpointAnchored(bytes32,uint64,bytes32,address)").hex()
T = TypeVar("T")


def run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """One ``sunledger`` command, as typed; output captured."""
    return subprocess.run(
        [SUNLEDGER, *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def service_env(
    tmp_path: Path,
    database_url: str,
    redis_url: str,
    mosquitto: tuple[str, int],
    chain_url: str,
    **overrides: str,
) -> dict[str, str]:
    """The environment of one deployment: PostgreSQL, Redis, Mosquitto, a Hardhat node."""
    host, port = mosquitto
    tag = uuid.uuid4().hex[:8]
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    return {
        **base,
        "SUNLEDGER_DATA_DIR": str(tmp_path / "data"),
        "SUNLEDGER_DATABASE_URL": database_url,
        "SUNLEDGER_SIGNING_KEY_FILE": str(tmp_path / "log.key"),
        "SUNLEDGER_LOG_ORIGIN": f"deploy-{tag}.test/log",
        "SUNLEDGER_CHAIN": "hardhat",
        "SUNLEDGER_CHAIN_RPC_URL": chain_url,
        "SUNLEDGER_BROKER_URL": redis_url,
        "SUNLEDGER_ANCHOR_INTERVAL_SECONDS": "1",
        "SUNLEDGER_MQTT_HOST": host,
        "SUNLEDGER_MQTT_PORT": str(port),
        "SUNLEDGER_MQTT_TOPIC": f"deploy-{tag}/probes/+/readings",
        # Our own persistent MQTT session: another deployment on the broker keeps its own.
        "SUNLEDGER_MQTT_CLIENT_ID": f"sunledger-intake-{tag}",
        "SUNLEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "SUNLEDGER_LOG_FORMAT": "json",
        **{f"SUNLEDGER_{k.upper()}": v for k, v in overrides.items()},
    }


@contextmanager
def private_schema(postgres_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL schema for one deployment, dropped afterwards."""
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://").split("?")[0]
    schema = f"sl_deploy_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    base = postgres_url.split("?")[0]
    try:
        yield f"{base}?options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def bootstrap(env: dict[str, str]) -> str:
    """Log key, schema and anchor contract, as docs/deploy.md has them typed; the public key."""
    made = run(env, "keys", "generate", "--out", env["SUNLEDGER_SIGNING_KEY_FILE"])
    assert made.returncode == 0, made.stderr
    upgraded = run(env, "db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    deployed = run(env, "chain", "deploy")
    assert deployed.returncode == 0, deployed.stderr
    return made.stdout.strip().splitlines()[-1]


@dataclass
class Process:
    args: tuple[str, ...]
    popen: subprocess.Popen[bytes]
    starts: int = 1


class Processes:
    """Long-running processes of the deployment, each in its own process group, by PID."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env, self.logs = env, logs
        self.running: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.by_name: dict[str, Process] = {}

    def start(self, name: str, *args: str) -> None:
        with (self.logs / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [SUNLEDGER, *args], env=self.env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.running.append((name, process))
        known = self.by_name.get(name)
        self.by_name[name] = Process(args, process, 1 if known is None else known.starts + 1)

    def kill(self, name: str) -> None:
        """``kill -9`` of the process and everything it started (its process group)."""
        process = self.by_name[name].popen
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def restart(self, name: str) -> None:
        self.start(name, *self.by_name[name].args)

    def signal_group(self, name: str, signum: int) -> None:
        os.killpg(self.by_name[name].popen.pid, signum)

    def rss_kib(self, name: str) -> dict[int, int]:
        """Resident memory (KiB) of each process in the named process's group."""
        return group_rss_kib(self.by_name[name].popen.pid)

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


def group_rss_kib(group: int) -> dict[int, int]:
    """PID → VmRSS (KiB) of every live process whose process group is ``group`` (Linux /proc)."""
    found: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) != group:  # state, ppid, pgrp, ...
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    found[int(entry.name)] = int(line.split()[1])
        except (OSError, ValueError):
            continue  # gone meanwhile
    return found


def wait_until(what: str, check: Callable[[], T], seconds: float, processes: Processes) -> T:
    """Poll ``check`` until it returns something true; fail with the processes' logs."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.3)
    logs = "\n".join(f"--- {n}\n{processes.output(n)}" for n in processes.by_name)
    raise AssertionError(f"{what} did not happen within {seconds} s\n{logs}")


def api_ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def metric(text: str, name: str) -> float:
    """One unlabelled sample of a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"{name} is not in the metrics")


def raw_public_key(key: Ed25519PrivateKey) -> str:
    return base64.b64encode(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def unsigned_reading(device: str, seq: int, celsius: float, at: datetime) -> dict[str, Any]:
    return {
        "device_id": device,
        "seq": seq,
        "measured_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
    }


def signed_reading(
    key: Ed25519PrivateKey, device: str, seq: int, celsius: float, at: datetime | None = None
) -> dict[str, Any]:
    """A reading signed by its device (DESIGN.md, "Device wire format")."""
    unsigned = unsigned_reading(
        device, seq, celsius, at or datetime.now(UTC) - timedelta(seconds=30)
    )
    return {**unsigned, "sig": base64.b64encode(key.sign(canonical_bytes(unsigned))).decode()}


def gateway_batch(
    key: Ed25519PrivateKey, gateway_id: str, seq: int, readings: list[dict[str, Any]]
) -> dict[str, Any]:
    """Unsigned readings under one gateway signature."""
    unsigned = {"gateway_id": gateway_id, "seq": seq, "readings": readings}
    return {**unsigned, "sig": base64.b64encode(key.sign(canonical_bytes(unsigned))).decode()}


def waste_oil_record() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "record_type": "waste_oil",
        "record": {
            "date": now.date().isoformat(),
            "oil_type": "frying_oil",
            "quantity": 3,
            "unit": "kg",
            "collector": "Green Oil Recycling",
            "collector_licence": "HW-2024-118",
            "collected_at": now.isoformat(),
        },
    }


@dataclass
class Tenant:
    """A restaurant registered through the admin API, with its probes and a gateway."""

    org_id: str
    premises_id: str
    headers: dict[str, str]
    devices: dict[str, Ed25519PrivateKey] = field(default_factory=dict)
    gateway_id: str | None = None
    gateway_key: Ed25519PrivateKey | None = None


def register_tenant(
    client: httpx.Client, org_id: str, premises_id: str, *, devices: int = 1, gateway: bool = False
) -> Tenant:
    """Organisation, premises, API key, ``devices`` fridges and optionally a gateway."""
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def created(path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = client.post(path, json=body, headers=admin)
        assert answer.status_code == 201, f"{path}: {answer.status_code} {answer.text}"
        result: dict[str, Any] = answer.json()
        return result

    created("/v1/admin/orgs", {"org_id": org_id, "name": f"{org_id} diner", "role": "restaurant"})
    created(
        "/v1/admin/premises",
        {
            "premises_id": premises_id,
            "org_id": org_id,
            "name": f"{org_id} diner",
            "kind": "restaurant",
            "licence_number": f"JY1-{premises_id}",
            "licence_issued_on": "2024-01-10",
            "district": "d9",
            "address": "9 Deploy Rd",
        },
    )
    token = created(f"/v1/admin/orgs/{org_id}/keys", {"label": "till"})["api_key"]
    tenant = Tenant(org_id, premises_id, {"Authorization": f"Bearer {token}"})
    for i in range(devices):
        device_id = f"fr-{premises_id}-{i:03d}"
        key = Ed25519PrivateKey.generate()
        created(
            "/v1/admin/devices",
            {
                "device_id": device_id,
                "premises_id": premises_id,
                "location": "cold room",
                "kind": "fridge",
                "public_key": raw_public_key(key),
            },
        )
        tenant.devices[device_id] = key
    if gateway:
        tenant.gateway_id, tenant.gateway_key = f"gw-{premises_id}", Ed25519PrivateKey.generate()
        created(
            "/v1/admin/gateways",
            {
                "gateway_id": tenant.gateway_id,
                "premises_id": premises_id,
                "public_key": raw_public_key(tenant.gateway_key),
            },
        )
    return tenant


def rpc(url: str, method: str, params: list[Any]) -> Any:
    """One JSON-RPC call to a chain node."""
    answer = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=30
    )
    body = answer.json()
    if "error" in body:
        raise AssertionError(f"{method}: {body['error']}")
    return body["result"]


def anchored_sizes(url: str, contract: str, log_id: bytes) -> list[tuple[int, bytes]]:
    """(tree size, root) of every CheckpointAnchored event of one log, read with eth_getLogs."""
    logs = rpc(
        url,
        "eth_getLogs",
        [
            {
                "address": contract,
                "fromBlock": "0x0",
                "toBlock": "latest",
                "topics": [ANCHORED_TOPIC, "0x" + log_id.hex()],
            }
        ],
    )
    return [(int(entry["topics"][2], 16), bytes.fromhex(entry["data"][2:66])) for entry in logs]


MAX_LOAD_LOOPS = 100_000  # every load loop is bounded in count as well as by its stop flag


@dataclass
class Acknowledged:
    """What the deployment promised: receipts over HTTP, PUBACKs from the broker."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    receipts: dict[str, tuple[int, str]] = field(default_factory=dict)  # event → (index, hash)
    records: int = 0
    mqtt: list[tuple[str, int]] = field(default_factory=list)  # (device, seq) PUBACKed
    refused: Counter[str] = field(default_factory=Counter)  # unacknowledged attempts, by cause

    def receipt(self, events: list[dict[str, Any]]) -> None:
        with self.lock:
            for event in events:
                self.receipts[event["event_id"]] = (event["leaf_index"], event["leaf_hash"])

    def refuse(self, cause: BaseException | int) -> None:
        name = f"http {cause}" if isinstance(cause, int) else type(cause).__name__
        with self.lock:
            self.refused[name] += 1


def http_readings(
    url: str,
    device: str,
    key: Ed25519PrivateKey,
    ack: Acknowledged,
    stop: threading.Event,
    *,
    per_request: int = 5,
    pause: float = 0.05,
    first_seq: int = 1,
) -> None:
    """Batches of readings, each signed by its device, until ``stop``; receipts kept.

    A refused or unanswered batch is not retried: its sequence numbers are spent.
    """
    seq = first_seq
    with httpx.Client(base_url=url, timeout=15) as client:
        for _ in range(MAX_LOAD_LOOPS):
            if stop.is_set():
                return
            batch = [signed_reading(key, device, seq + i, 4.0) for i in range(per_request)]
            seq += per_request
            try:
                answer = client.post("/v1/probes/readings", json={"readings": batch})
            except httpx.HTTPError as exc:
                ack.refuse(exc)
                time.sleep(0.2)
                continue
            if answer.status_code == 200:
                ack.receipt(answer.json()["receipt"]["events"])
            else:
                ack.refuse(answer.status_code)
            time.sleep(pause)


def stored_events(sessions: Any) -> dict[str, tuple[int, str]]:
    """Every logged event: id → (leaf index, leaf hash hex), to hold receipts against."""
    from sqlalchemy import select

    from traceability.storage.models import EventRow

    with sessions() as session:
        return {
            row.event_id: (row.leaf_index, row.leaf_hash.hex())
            for row in session.execute(
                select(EventRow.event_id, EventRow.leaf_index, EventRow.leaf_hash)
            )
        }


def forget_mqtt_session(env: dict[str, str]) -> None:
    """End the subscriber's persistent session on the broker (a clean connect clears it)."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=env["SUNLEDGER_MQTT_CLIENT_ID"],
        clean_session=True,
    )
    client.connect(env["SUNLEDGER_MQTT_HOST"], int(env["SUNLEDGER_MQTT_PORT"]))
    client.disconnect()
