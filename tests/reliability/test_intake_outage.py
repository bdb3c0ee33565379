"""Database outages and poison messages under MQTT load: nothing the broker acknowledged
is lost, and the subscriber never dies (issue 15, items 1 and 2).

The MQTT subscriber (``ProbeSubscriber``, as ``sunledger mqtt`` runs it) reads from the
real Mosquitto and writes to the real PostgreSQL through a TCP proxy on 127.0.0.1
(``tests/tcp_proxy.py``). Two probes publish messages of 5 signed readings at QoS 1,
with a poison message (a value ``type`` that is a list, a 401-digit value, non-JSON)
every 25 messages. The test then cuts the proxy (every database connection is reset and
new ones are refused) for the outage, restores it and keeps the load going. Afterwards:

- every reading the broker acknowledged to a publisher (PUBACK) is in the log;
- each poison message was refused with its code and acknowledged: a new subscriber on
  the same persistent session gets nothing back;
- the subscriber felt the outage (it retried) and is still running.

The broker keeps what arrives during an outage in the subscriber's session up to its
``max_queued_messages`` (Mosquitto's default: 1,000 messages); the load is sized to
stay under it, which is what a deployment must size for (docs/deploy.md).

Quick (``make test``): an outage of 2 s. ``SUNLEDGER_RELIABILITY=full``: 2 s, 30 s
and 120 s (``-k 30.0`` picks one).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from deployment_kit import forget_mqtt_session, signed_reading
from reliability_figures import FULL, record_figure
from sqlalchemy import select
from tcp_proxy import proxied_postgres

from traceability.devices.intake import ProbeIntake, reading_event_id
from traceability.devices.registry import DeviceRegistry
from traceability.entrypoints.mqtt import ProbeSubscriber
from traceability.platform import open_platform
from traceability.storage.db import make_engine, session_factory, transaction
from traceability.storage.models import EventRow

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres]

OUTAGES = (2.0, 30.0, 120.0) if FULL else (2.0,)
QUEUE_BUDGET = 600  # messages the broker may hold for us during the outage (its limit: 1,000)
MAX_MESSAGES = 20_000
POISON_EVERY = 25
POISONS = [
    lambda device, seq: json.dumps(
        [{"device_id": device, "seq": seq, "measured_at": "2026-01-01T00:00:00Z",
          "values": [{"type": ["Temperature"], "value": 3, "uom": "CEL"}], "sig": "x"}]
    ),
    lambda device, seq: json.dumps(
        [{"device_id": device, "seq": seq, "measured_at": "2026-01-01T00:00:00Z",
          "values": [{"type": "Temperature", "value": int("9" * 401), "uom": "CEL"}], "sig": "x"}]
    ),
    lambda _device, _seq: "{not json",
]  # fmt: skip


@dataclass
class Published:
    lock: threading.Lock = field(default_factory=threading.Lock)
    acknowledged: list[tuple[str, int]] = field(default_factory=list)
    poison: int = 0
    unacknowledged: int = 0


def publish(
    host: str,
    port: int,
    topic: str,
    device: str,
    key: Ed25519PrivateKey,
    rate: float,
    published: Published,
    stop: threading.Event,
) -> None:
    """Messages of 5 signed readings at ``rate`` per second, a poison one every 25."""
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    client.connect(host, port)
    client.loop_start()
    seq, at = 1, datetime.now(UTC) - timedelta(seconds=30)
    try:
        for n in range(MAX_MESSAGES):
            if stop.is_set():
                return
            if n % POISON_EVERY == POISON_EVERY - 1:
                payload, seqs = POISONS[n // POISON_EVERY % len(POISONS)](device, seq), []
            else:
                seqs = list(range(seq, seq + 5))
                seq += 5
                payload = json.dumps([signed_reading(key, device, s, 3.0, at) for s in seqs])
            info = client.publish(topic.replace("+", device), payload, qos=1)
            info.wait_for_publish(timeout=10)
            with published.lock:
                if not info.is_published():
                    published.unacknowledged += 1
                elif seqs:
                    published.acknowledged.extend((device, s) for s in seqs)
                else:
                    published.poison += 1
            stop.wait(1 / rate)
    finally:
        client.loop_stop()
        client.disconnect()


def logged(sessions: Any, ids: list[str]) -> set[str]:
    found: set[str] = set()
    with sessions() as session:
        for start in range(0, len(ids), 5000):
            chunk = ids[start : start + 5000]
            found |= set(
                session.execute(select(EventRow.event_id).where(EventRow.event_id.in_(chunk)))
                .scalars()
            )  # fmt: skip
    return found


@pytest.mark.parametrize("outage", OUTAGES)
def test_a_database_outage_under_mqtt_load_loses_no_acknowledged_reading(
    outage: float, postgres_url: str, mosquitto: tuple[str, int], tmp_path: Path
) -> None:
    host, port = mosquitto
    tag = uuid.uuid4().hex[:8]
    topic, client_id = f"outage-{tag}/probes/+/readings", f"sunledger-outage-{tag}"
    with proxied_postgres(postgres_url, tmp_path, f"outage-{tag}.test/log") as (proxy, settings):
        engine, sessions, log, signer = open_platform(settings)
        # The test's own view of the database does not go through the proxy.
        direct = make_engine(
            postgres_url.split("?")[0]
            + "?"
            + settings.database_url.get_secret_value().split("?")[1]
        )
        direct_sessions = session_factory(direct)
        keys = {f"fr-{tag}-{i}": Ed25519PrivateKey.generate() for i in range(2)}
        with transaction(sessions) as session:
            for device, key in keys.items():
                DeviceRegistry().register_device(
                    session,
                    device_id=device,
                    premises_id="p-outage",
                    location="cold room",
                    kind="fridge",
                    profile="cn",
                    public_key=key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
                    now=datetime.now(UTC) - timedelta(days=1),
                )
        subscriber = ProbeSubscriber(
            ProbeIntake(log, signer),
            sessions,
            host=host,
            port=port,
            topic=topic,
            client_id=client_id,
            dead_letter=tmp_path / "dead-letter.jsonl",
            retry_delays=(0.5, 5.0),
        )
        published, stop = Published(), threading.Event()
        rate = min(20.0, QUEUE_BUDGET / (outage + 4) / len(keys))  # per device, messages/s
        loads = [
            threading.Thread(target=publish, args=(host, port, topic, d, k, rate, published, stop))
            for d, k in keys.items()
        ]
        subscriber.start()
        started = time.monotonic()
        try:
            assert subscriber.subscribed.wait(15)
            for thread in loads:
                thread.start()
            time.sleep(2.0)
            with published.lock:
                before = len(published.acknowledged)
            proxy.cut()
            time.sleep(outage)
            with published.lock:
                during = len(published.acknowledged) - before
            retries_during = subscriber.stats.outage_retries
            proxy.restore()
            time.sleep(2.0)
            stop.set()
            for thread in loads:
                thread.join(timeout=30)
                assert not thread.is_alive()
            ids = [reading_event_id(d, s) for d, s in published.acknowledged]
            deadline = time.monotonic() + 120 + outage
            while time.monotonic() < deadline and (
                subscriber.stats.rejected_messages < published.poison
                or len(logged(direct_sessions, ids)) < len(ids)
            ):
                time.sleep(0.5)
            lost = len(ids) - len(logged(direct_sessions, ids))
            alive = subscriber.running
        finally:
            stop.set()
            subscriber.stop()
        stats = subscriber.stats

        # The poison messages were acknowledged: the same session gets nothing back.
        again = ProbeSubscriber(
            ProbeIntake(log, signer), sessions, host=host, port=port, topic=topic,
            client_id=client_id,
        )  # fmt: skip
        again.start()
        try:
            assert again.subscribed.wait(15)
            time.sleep(2.0)
        finally:
            again.stop()
            forget_mqtt_session(
                {
                    "SUNLEDGER_MQTT_CLIENT_ID": client_id,
                    "SUNLEDGER_MQTT_HOST": host,
                    "SUNLEDGER_MQTT_PORT": str(port),
                }
            )
        engine.dispose()
        direct.dispose()

    figure = {
        "outage_seconds": outage,
        "seconds": round(time.monotonic() - started, 1),
        "publish_rate_per_device": round(rate, 1),
        "acknowledged_readings": len(published.acknowledged),
        "acknowledged_during_outage": during,
        "lost": lost,
        "poison_published": published.poison,
        "rejections": dict(stats.rejections),
        "redelivered_after_restart": again.stats.messages,
        "outage_retries": stats.outage_retries,
        "left_to_broker": stats.left_to_broker,
        "dead_lettered": stats.dead_lettered,
        "unacknowledged_publishes": published.unacknowledged,
    }
    record_figure("database_outage_mqtt", figure)
    assert retries_during > 0, f"the outage was not felt: {figure}"
    assert during > 0, f"no load during the outage: {figure}"
    assert alive, f"the subscriber stopped: {figure}"
    assert lost == 0, f"{lost} PUBACKed readings are not in the log: {figure}"
    assert sum(stats.rejections.values()) == published.poison, figure
    assert Counter(stats.rejections) == Counter(
        {k: v for k, v in stats.rejections.items() if k in ("malformed", "impossible_value")}
    ), figure
    assert again.stats.messages == 0, f"messages came back: {figure}"
    assert stats.dead_lettered == 0, figure
