"""End-to-end probe intake on PostgreSQL: readings/s from HTTP request (or MQTT publish)
to logged event, per-reading signed and gateway-signed, next to the bare Ed25519 ceiling.

Usage: python bench/probe_bench.py [--readings N] [--workers W] [--skip-mqtt]

Starts `sunledger serve --workers W` and `sunledger mqtt` on a fresh PostgreSQL
schema (127.0.0.1 only; processes stopped by PID), registers devices through the
admin API, pre-signs every reading before the clock starts, then sends them from
client processes and stops the clock when the last event is in the database.
"""

from __future__ import annotations

import argparse
import base64
import json
import multiprocessing as mp
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file

POSTGRES = os.environ.get(
    "SUNLEDGER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SUNLEDGER = str(Path(sys.executable).parent / "sunledger")
ADMIN = "bench-admin-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ed25519_ceiling(count: int = 20_000) -> float:
    """Bare verifications per second on one core, same message size as a reading."""
    key = Ed25519PrivateKey.generate()
    message = canonical_bytes(
        {
            "device_id": "fr-0001",
            "seq": 1,
            "measured_at": "2026-11-25T10:00:00Z",
            "values": [{"type": "Temperature", "value": 4.2, "uom": "CEL"}],
        }
    )
    signature, public = key.sign(message), key.public_key()
    start = time.perf_counter()
    for _ in range(count):
        public.verify(signature, message)
    return count / (time.perf_counter() - start)


def raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def reading(device: str, seq: int, at: datetime, celsius: float) -> dict[str, Any]:
    return {
        "device_id": device,
        "seq": seq,
        "measured_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
    }


def signed_bodies(
    keys: dict[str, Ed25519PrivateKey], total: int, per_request: int, seq0: int
) -> list[bytes]:
    """Requests of `per_request` readings, each reading signed by its device."""
    devices = list(keys)
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    per_device = total // len(devices)
    bodies = []
    for d, device in enumerate(devices):
        batch = []
        for i in range(per_device):
            r = reading(device, seq0 + i, now, 3.0 + (i % 20) / 10)
            r["sig"] = base64.b64encode(keys[device].sign(canonical_bytes(r))).decode()
            batch.append(r)
            if len(batch) == per_request:
                bodies.append(json.dumps({"readings": batch}).encode())
                batch = []
        if batch:
            bodies.append(json.dumps({"readings": batch}).encode())
        del d
    return bodies


def gateway_bodies(
    gateways: dict[str, tuple[Ed25519PrivateKey, list[str]]], total: int, seq0: int
) -> list[bytes]:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    bodies = []
    per_gateway = total // len(gateways)
    for gateway_id, (key, devices) in gateways.items():
        seq = seq0
        for start in range(0, per_gateway, 1000):
            readings = [
                reading(devices[i % len(devices)], seq0 * 10_000 + start + i, now, 4.0)
                for i in range(min(1000, per_gateway - start))
            ]
            unsigned = {"gateway_id": gateway_id, "seq": seq, "readings": readings}
            sig = base64.b64encode(key.sign(canonical_bytes(unsigned))).decode()
            bodies.append(json.dumps({**unsigned, "sig": sig}).encode())
            seq += 1
    return bodies


def _post_all(args: tuple[str, list[bytes]]) -> int:
    url, bodies = args
    errors = 0
    with httpx.Client(timeout=60) as client:
        for body in bodies:
            answer = client.post(
                f"{url}/v1/probes/readings",
                content=body,
                headers={"Content-Type": "application/json"},
            )
            if answer.status_code != 200:
                errors += 1
                print(answer.text[:300], file=sys.stderr)
    return errors


def count_events(dsn: str, schema: str) -> int:
    with psycopg.connect(dsn, options=f"-csearch_path={schema}") as conn:
        row = conn.execute("SELECT count(*) FROM events WHERE kind = 'probe_reading'").fetchone()
        return int(row[0]) if row else 0


def wait_for(dsn: str, schema: str, target: int, limit: float) -> float:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if count_events(dsn, schema) >= target:
            return time.perf_counter()
        time.sleep(0.05)
    raise SystemExit(f"only {count_events(dsn, schema)} of {target} readings logged in {limit} s")


def _owner(body: bytes) -> str:
    """Who signs a body's sequence numbers: its gateway, or its (single) device."""
    parsed = json.loads(body)
    return str(parsed.get("gateway_id") or parsed["readings"][0]["device_id"])


def send_http(url: str, bodies: list[bytes], clients: int) -> int:
    """Send from `clients` processes; one owner's bodies stay in one process, in order."""
    owners = sorted({_owner(b) for b in bodies})
    client_of = {owner: i % clients for i, owner in enumerate(owners)}
    chunks: list[list[bytes]] = [[] for _ in range(clients)]
    for body in bodies:
        chunks[client_of[_owner(body)]].append(body)
    with mp.get_context("fork").Pool(clients) as pool:
        return sum(pool.map(_post_all, [(url, c) for c in chunks]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=40_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--devices", type=int, default=40)
    parser.add_argument("--skip-mqtt", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/results/probe_bench.json"))
    args = parser.parse_args()

    dsn = POSTGRES.replace("+psycopg", "")
    schema = f"probe_bench_{os.getpid()}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    work = Path(tempfile.mkdtemp(prefix="sunledger-probe-bench-"))
    key_file = work / "log.key"
    write_signer_key_file(key_file, NoteSigner.generate("bench"))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    env.update(
        {
            "SUNLEDGER_DATA_DIR": str(work),
            "SUNLEDGER_DATABASE_URL": f"{POSTGRES}?options=-csearch_path%3D{schema}",
            "SUNLEDGER_SIGNING_KEY_FILE": str(key_file),
            "SUNLEDGER_ADMIN_TOKEN": ADMIN,
            # As deployed: anchoring is queued for a worker, not run inside the request.
            "SUNLEDGER_BROKER_URL": os.environ.get(
                "SUNLEDGER_BENCH_REDIS_URL", "redis://127.0.0.1:6379/8"
            ),
            "SUNLEDGER_ANCHOR_EVERY_EVENTS": "100000000",
            "SUNLEDGER_ANCHOR_INTERVAL_SECONDS": "100000",
            "SUNLEDGER_MQTT_TOPIC": f"bench-{schema}/probes/+/readings",
        }
    )
    ceiling = ed25519_ceiling()
    print(f"Ed25519 verify ceiling: {ceiling:,.0f}/s on one core", file=sys.stderr)
    server = subprocess.Popen(
        [SUNLEDGER, "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(work / "serve.log", "wb"),
    )
    processes = [server]
    url = f"http://127.0.0.1:{port}"
    report: dict[str, Any] = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version()},
        "ed25519_verify_per_second_one_core": ceiling,
    }
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        admin = {"Authorization": f"Bearer {ADMIN}"}
        keys = {f"fr-{i:04d}": Ed25519PrivateKey.generate() for i in range(args.devices)}
        gateways: dict[str, tuple[Ed25519PrivateKey, list[str]]] = {}
        with httpx.Client(base_url=url, headers=admin, timeout=30) as client:
            for i, (device, key) in enumerate(keys.items()):
                premises = f"p-{i // 10:03d}"
                client.post(
                    "/v1/admin/devices",
                    json={
                        "device_id": device,
                        "premises_id": premises,
                        "location": "bench",
                        "kind": "fridge",
                        "profile": "cn",
                        "public_key": base64.b64encode(raw(key)).decode(),
                    },
                ).raise_for_status()
                gateway_id = f"gw-{premises}"
                if gateway_id not in gateways:
                    gkey = Ed25519PrivateKey.generate()
                    client.post(
                        "/v1/admin/gateways",
                        json={
                            "gateway_id": gateway_id,
                            "premises_id": premises,
                            "public_key": base64.b64encode(raw(gkey)).decode(),
                        },
                    ).raise_for_status()
                    gateways[gateway_id] = (gkey, [])
                gateways[gateway_id][1].append(device)

        logged = 0
        print("pre-signing per-reading bodies ...", file=sys.stderr)
        bodies = signed_bodies(keys, args.readings, 100, seq0=1)
        sent = sum(body.count(b'"sig"') for body in bodies)
        start = time.perf_counter()
        errors = send_http(url, bodies, args.clients)
        if errors:
            raise SystemExit(f"{errors} requests were refused")
        end = wait_for(dsn, schema, logged + sent, 600)
        logged += sent
        report["http_signed"] = {
            "readings": sent,
            "per_request": 100,
            "seconds": end - start,
            "readings_per_second": sent / (end - start),
            "errors": errors,
        }
        print(f"HTTP, each reading signed: {sent / (end - start):,.0f}/s", file=sys.stderr)

        bodies = gateway_bodies(gateways, args.readings * 3, seq0=1)
        sent = sum(len(json.loads(b)["readings"]) for b in bodies)
        start = time.perf_counter()
        errors = send_http(url, bodies, args.clients)
        if errors:
            raise SystemExit(f"{errors} requests were refused")
        end = wait_for(dsn, schema, logged + sent, 600)
        logged += sent
        report["http_gateway"] = {
            "readings": sent,
            "per_request": 1000,
            "seconds": end - start,
            "readings_per_second": sent / (end - start),
            "errors": errors,
        }
        print(f"HTTP, gateway batches: {sent / (end - start):,.0f}/s", file=sys.stderr)

        if not args.skip_mqtt:
            report["mqtt_signed"] = bench_mqtt(env, keys, dsn, schema, logged, args, processes)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        import redis

        redis.Redis.from_url(env["SUNLEDGER_BROKER_URL"]).flushdb()  # our queued ticks
    for key in ("http_signed", "http_gateway", "mqtt_signed"):
        if key in report:
            report[key]["ratio_to_one_core_ed25519"] = report[key]["readings_per_second"] / ceiling
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


def bench_mqtt(
    env: dict[str, str],
    keys: dict[str, Ed25519PrivateKey],
    dsn: str,
    schema: str,
    logged: int,
    args: Any,
    processes: list[subprocess.Popen[bytes]],
) -> dict[str, Any]:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    prefix = env["SUNLEDGER_MQTT_TOPIC"].split("/")[0]
    subscriber_env = {**env, "SUNLEDGER_MQTT_TOPIC": f"{prefix}/probes/+/readings"}
    subscriber = subprocess.Popen(
        [SUNLEDGER, "mqtt"],
        env=subscriber_env,
        stdout=subprocess.DEVNULL,
        stderr=open(Path(env["SUNLEDGER_DATA_DIR"]) / "mqtt.log", "wb"),
    )
    processes.append(subscriber)
    time.sleep(3)
    bodies = signed_bodies(keys, args.readings, 100, seq0=10**9)
    messages = [
        (json.loads(b)["readings"][0]["device_id"], json.loads(b)["readings"]) for b in bodies
    ]
    sent = sum(len(m[1]) for m in messages)
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"bench-{uuid.uuid4().hex[:6]}"
    )
    client.connect("127.0.0.1", 1883)
    client.loop_start()
    start = time.perf_counter()
    for device, readings in messages:
        info = client.publish(f"{prefix}/probes/{device}/readings", json.dumps(readings), qos=1)
        info.wait_for_publish(30)
    end = wait_for(dsn, schema, logged + sent, 600)
    client.loop_stop()
    client.disconnect()
    print(f"MQTT, each reading signed: {sent / (end - start):,.0f}/s", file=sys.stderr)
    return {
        "readings": sent,
        "per_message": 100,
        "seconds": end - start,
        "readings_per_second": sent / (end - start),
        "subscribers": 1,
    }


if __name__ == "__main__":
    main()
