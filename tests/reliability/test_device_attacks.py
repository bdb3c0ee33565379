"""Device attacks against the real intake: every attempt refused with its own code, none stored.

Random attacks (forged and wrong-key signatures, a rotated-out key still signing,
replayed and reordered sequence numbers, retired devices and gateways, readings
from the future or too old, oversized batches, unknown devices and gateways, a
gateway signing for another premises, impossible values, malformed payloads) go
through ``ProbeIntake.accept`` on a real database (SQLite and PostgreSQL), often
behind valid readings so that "nothing stored" means something; a sample of
every kind then goes through HTTP ``POST /v1/probes/readings`` and through MQTT.
``SUNLEDGER_RELIABILITY=full`` runs the full count (RELIABILITY.md).
"""

from __future__ import annotations

import base64
import json
import random
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from reliability_figures import FULL, record_figure
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from traceability.devices.intake import (
    MAX_READINGS,
    REJECTION_CODES,
    ProbeIntake,
    ReadingRejected,
    parse_submission,
)
from traceability.devices.registry import DeviceRegistry
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, DeviceRow, EventRow, GatewayBatchRow
from traceability.transparency.canonical import canonical_bytes

pytestmark = pytest.mark.reliability

ATTEMPTS = 10_000 if FULL else 500
NOW = datetime.now(UTC).replace(microsecond=0)
ACCEPTED_SEQS = 10
"""fr-1 has readings 1..10 logged before the attacks (what replays replay)."""
GATEWAY_SEQ = 5
"""gw-1 has its batch 5 logged before the attacks."""


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def signed(key: Ed25519PrivateKey, unsigned: dict[str, Any]) -> dict[str, Any]:
    return {**unsigned, "sig": base64.b64encode(key.sign(canonical_bytes(unsigned))).decode()}


@dataclass
class Fleet:
    """Devices and gateways of two premises, their keys, and fresh sequence numbers."""

    keys: dict[str, Ed25519PrivateKey]
    rotated_out: Ed25519PrivateKey
    """rot-1's key before rotation: still on file for old readings, no longer valid."""
    rng: random.Random
    next_seq: int = 1_000
    logged: list[dict[str, Any]] = field(default_factory=list)
    """Readings of fr-1 that were accepted before the attacks."""

    def seq(self) -> int:
        self.next_seq += 1
        return self.next_seq

    def unsigned(
        self, device_id: str, *, seq: int | None = None, at: datetime | None = None, value: Any = 4
    ) -> dict[str, Any]:
        moment = at or NOW - timedelta(minutes=self.rng.randrange(0, 24 * 60))
        return {
            "device_id": device_id,
            "seq": self.seq() if seq is None else seq,
            "measured_at": iso(moment),
            "values": [{"type": "Temperature", "value": value, "uom": "CEL"}],
        }

    def reading(self, device_id: str, key: Ed25519PrivateKey | None = None, **kw: Any) -> Any:
        return signed(key or self.keys[device_id], self.unsigned(device_id, **kw))

    def batch(
        self,
        gateway_id: str,
        readings: list[dict[str, Any]],
        seq: int | None = None,
        key: Ed25519PrivateKey | None = None,
    ) -> dict[str, Any]:
        unsigned = {
            "gateway_id": gateway_id,
            "seq": self.seq() if seq is None else seq,
            "readings": [{k: v for k, v in r.items() if k != "sig"} for r in readings],
        }
        return signed(key or self.keys[gateway_id], unsigned)


Attack = tuple[Any, str, int | None]
"""A submission body, the code it must be refused with, and the reading index named."""


def with_cover(fleet: Fleet, attack: list[dict[str, Any]], at: int) -> tuple[Any, int]:
    """Put valid readings of fz-1 before the attack's readings; return the body and where
    the offending reading ended up."""
    cover = [fleet.reading("fz-1", value=-19) for _ in range(fleet.rng.randrange(0, 4))]
    return {"readings": cover + attack}, len(cover) + at


def attacks(fleet: Fleet) -> dict[str, Callable[[], Attack]]:
    rng = fleet.rng

    def device(kind: str, readings: list[dict[str, Any]], at: int = 0) -> Attack:
        body, where = with_cover(fleet, readings, at)
        return body, kind, where

    def forged_value() -> Attack:
        reading = fleet.reading("fr-1")
        reading["values"][0]["value"] = rng.choice([2, 9.5, -1, 60])  # changed after signing
        return device("bad_signature", [reading])

    def impersonation() -> Attack:
        reading = fleet.reading("fr-1")
        return device("bad_signature", [{**reading, "device_id": "fz-1"}])

    def wrong_key() -> Attack:
        return device("bad_signature", [fleet.reading("fr-1", Ed25519PrivateKey.generate())])

    def retired_key() -> Attack:
        return device("bad_signature", [fleet.reading("rot-1", fleet.rotated_out)])

    def truncated_signature() -> Attack:
        reading = fleet.reading("fr-1")
        sig = base64.b64decode(reading["sig"])[: rng.randrange(0, 64)]
        return device("bad_signature", [{**reading, "sig": base64.b64encode(sig).decode()}])

    def replayed() -> Attack:
        if rng.random() < 0.5:  # the very same signed reading again
            return device("replayed_sequence", [rng.choice(fleet.logged)])
        return device(
            "replayed_sequence", [fleet.reading("fr-1", seq=rng.randrange(0, ACCEPTED_SEQS + 1))]
        )

    def reordered() -> Attack:
        first, second = fleet.seq(), fleet.seq()
        readings = [fleet.reading("fr-1", seq=second), fleet.reading("fr-1", seq=first)]
        return device("non_increasing_sequence", readings, 1)

    def duplicated() -> Attack:
        reading = fleet.reading("fr-1")
        return device("non_increasing_sequence", [reading, reading], 1)

    def retired_device() -> Attack:
        return device("retired_device", [fleet.reading("gone-1")])

    def unknown_device() -> Attack:
        stranger = f"x-{rng.randrange(10**6)}"
        return device(
            "unknown_device", [signed(Ed25519PrivateKey.generate(), fleet.unsigned(stranger))]
        )

    def future() -> Attack:
        ahead = timedelta(minutes=rng.randrange(6, 60 * 24 * 3650))
        return device("time_in_future", [fleet.reading("fr-1", at=NOW + ahead)])

    def too_old() -> Attack:
        behind = timedelta(days=7, minutes=rng.randrange(1, 60 * 24 * 3650))
        return device("time_too_old", [fleet.reading("fr-1", at=NOW - behind)])

    def impossible() -> Attack:
        value = rng.choice([400.5, 1e6, -80.01, -273.15, 1e300])
        return device("impossible_value", [fleet.reading("fr-1", value=value)])

    def oversized() -> Attack:
        one = fleet.reading("fr-1")
        return (
            {"readings": [one] * rng.randrange(MAX_READINGS + 1, 3 * MAX_READINGS)},
            ("batch_too_large"),
            None,
        )

    def malformed() -> Attack:
        good = fleet.reading("fr-1")
        shapes: list[Any] = [
            [],
            "readings",
            None,
            {"readings": []},
            {"readings": {}},
            {"readings": [good], "extra": 1},
            {"readings": [{**good, "extra": 1}]},
            {"readings": [{k: v for k, v in good.items() if k != "sig"}]},
            {"readings": [{**good, "seq": str(good["seq"])}]},
            {"readings": [{**good, "seq": -1}]},
            {"readings": [{**good, "seq": 2**53 + 1}]},
            {"readings": [{**good, "seq": True}]},
            {"readings": [{**good, "measured_at": "yesterday"}]},
            {"readings": [{**good, "measured_at": "2026-02-30T10:00:00Z"}]},
            {"readings": [{**good, "device_id": "../../etc/passwd"}]},
            {"readings": [{**good, "device_id": "x" * 65}]},
            {"readings": [{**good, "sig": "not base64!"}]},
            {"readings": [{**good, "values": []}]},
            {"readings": [{**good, "values": [{"type": "Temperature"}]}]},
            {"readings": [{**good, "values": [{"type": "Radiation", "value": 1, "uom": "SV"}]}]},
            {
                "readings": [
                    {**good, "values": [{"type": "Temperature", "value": "4", "uom": "CEL"}]}
                ]
            },
            {"readings": [good, 7]},
            {"gateway_id": "gw-1", "seq": 1, "readings": [good]},
            {"gateway_id": "gw 1", "seq": 1, "readings": [good], "sig": good["sig"]},
        ]
        return rng.choice(shapes), "malformed", None

    def unknown_gateway() -> Attack:
        key = Ed25519PrivateKey.generate()
        batch = fleet.batch("gw-404", [fleet.reading("fr-1")], key=key)
        return batch, "unknown_gateway", None

    def gateway_for_other_premises() -> Attack:
        readings = [fleet.reading("fr-1"), fleet.reading("fr-9")]  # fr-9 is at p-9
        return fleet.batch("gw-1", readings), "gateway_not_authorised", 1

    def gateway_forged() -> Attack:
        readings = [fleet.reading("fr-1")]
        if rng.random() < 0.5:
            return (
                fleet.batch("gw-1", readings, key=Ed25519PrivateKey.generate()),
                ("bad_signature"),
                None,
            )
        batch = fleet.batch("gw-1", readings)
        batch["readings"][0]["values"][0]["value"] = 11  # changed after the gateway signed
        return batch, "bad_signature", None

    def gateway_replayed() -> Attack:
        seq = rng.randrange(0, GATEWAY_SEQ + 1)
        return fleet.batch("gw-1", [fleet.reading("fr-1")], seq=seq), "replayed_sequence", None

    def retired_gateway() -> Attack:
        return fleet.batch("gw-old", [fleet.reading("fr-1")]), "retired_gateway", None

    return {
        "forged_value": forged_value,
        "impersonation": impersonation,
        "wrong_key": wrong_key,
        "retired_key": retired_key,
        "truncated_signature": truncated_signature,
        "replayed_sequence": replayed,
        "reordered_sequence": reordered,
        "duplicated_sequence": duplicated,
        "retired_device": retired_device,
        "unknown_device": unknown_device,
        "from_the_future": future,
        "too_old": too_old,
        "impossible_value": impossible,
        "oversized_batch": oversized,
        "malformed": malformed,
        "unknown_gateway": unknown_gateway,
        "gateway_for_other_premises": gateway_for_other_premises,
        "gateway_forged": gateway_forged,
        "gateway_replayed": gateway_replayed,
        "retired_gateway": retired_gateway,
    }


@dataclass
class Range:
    """The shooting range: a real database with the fleet registered."""

    sessions: sessionmaker[Session]
    intake: ProbeIntake
    fleet: Fleet

    def submit(self, body: Any) -> Any:
        with transaction(self.sessions) as session:
            return self.intake.accept(session, parse_submission(body), NOW)

    def counts(self) -> tuple[Any, ...]:
        with self.sessions() as session:
            seqs = tuple(
                session.execute(select(DeviceRow.last_seq).order_by(DeviceRow.device_id)).scalars()
            )
            return (
                session.execute(select(func.count()).select_from(EventRow)).scalar_one(),
                self.intake.log.size(session),
                session.execute(select(func.count()).select_from(GatewayBatchRow)).scalar_one(),
                session.execute(select(func.count()).select_from(AlertRow)).scalar_one(),
                seqs,
            )


@pytest.fixture
def shooting_range(settings: Settings) -> Iterator[Range]:
    from traceability.platform import open_platform

    engine, sessions, log, signer = open_platform(settings)
    registry = DeviceRegistry()
    keys = {name: Ed25519PrivateKey.generate() for name in ("fr-1", "fz-1", "fr-9", "gone-1")}
    rotated_out = Ed25519PrivateKey.generate()
    keys["gw-1"], keys["gw-old"] = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    keys["rot-1"] = Ed25519PrivateKey.generate()
    since = NOW - timedelta(days=30)
    with transaction(sessions) as session:
        for device_id, premises, kind in [
            ("fr-1", "p-1", "fridge"),
            ("fz-1", "p-1", "freezer"),
            ("rot-1", "p-1", "fridge"),
            ("gone-1", "p-1", "fridge"),
            ("fr-9", "p-9", "fridge"),
        ]:
            first_key = rotated_out if device_id == "rot-1" else keys[device_id]
            registry.register_device(
                session,
                device_id=device_id,
                premises_id=premises,
                location="kitchen",
                kind=kind,
                profile="cn",
                public_key=raw_public(first_key),
                now=since,
            )
        for gateway_id in ("gw-1", "gw-old"):
            registry.register_gateway(
                session,
                gateway_id=gateway_id,
                premises_id="p-1",
                public_key=raw_public(keys[gateway_id]),
                now=since,
            )
        registry.rotate_key(session, "device", "rot-1", raw_public(keys["rot-1"]), since)
    fleet = Fleet(keys, rotated_out, random.Random(4_242))
    found = Range(sessions, ProbeIntake(log, signer), fleet)
    fleet.logged = [fleet.reading("fr-1", seq=s) for s in range(1, ACCEPTED_SEQS + 1)]
    found.submit({"readings": fleet.logged})
    found.submit(fleet.batch("gw-1", [fleet.reading("fz-1", seq=1)], seq=GATEWAY_SEQ))
    found.submit({"readings": [fleet.reading("rot-1", seq=1)]})  # the new key is accepted
    with transaction(sessions) as session:
        registry.retire(session, "device", "gone-1", since + timedelta(days=1))
        registry.retire(session, "gateway", "gw-old", since + timedelta(days=1))
    yield found
    engine.dispose()


def test_every_device_attack_is_refused_with_its_code_and_stores_nothing(
    shooting_range: Range, settings: Settings
) -> None:
    fleet = shooting_range.fleet
    arsenal = attacks(fleet)
    names = sorted(arsenal)
    before = shooting_range.counts()
    tried: Counter[str] = Counter()
    codes: Counter[str] = Counter()
    accepted = wrong = 0
    for attempt in range(ATTEMPTS):
        name = names[attempt % len(names)] if attempt < len(names) else fleet.rng.choice(names)
        body, code, reading = arsenal[name]()
        tried[name] += 1
        try:
            shooting_range.submit(body)
        except ReadingRejected as refused:
            codes[refused.code] += 1
            if refused.code != code or (reading is not None and refused.reading != reading):
                wrong += 1
                pytest.fail(
                    f"attempt {attempt} ({name}): refused as {refused.code} at reading "
                    f"{refused.reading}, expected {code} at {reading}: {refused.detail}"
                )
        else:
            accepted += 1
            pytest.fail(f"attempt {attempt} ({name}) was accepted")
        if attempt % 50 == 0:
            assert shooting_range.counts() == before, f"attempt {attempt} ({name}) left a trace"
    assert shooting_range.counts() == before
    assert set(codes) == set(REJECTION_CODES)  # every code was exercised
    record_figure(
        f"device_attacks_{settings.resolved_database_url.split(':')[0].split('+')[0]}",
        {
            "attempts": ATTEMPTS,
            "accepted": accepted,
            "wrong_codes": wrong,
            "by_kind": dict(sorted(tried.items())),
            "by_code": dict(sorted(codes.items())),
        },
    )


def test_a_sample_of_each_attack_over_http(shooting_range: Range, settings: Settings) -> None:
    fleet = shooting_range.fleet
    arsenal = attacks(fleet)
    before = shooting_range.counts()
    app = create_app(settings)
    refused = 0
    try:
        with TestClient(app) as client:
            for name in sorted(arsenal):
                for _ in range(3):
                    body, code, reading = arsenal[name]()
                    answer = client.post("/v1/probes/readings", content=json.dumps(body))
                    assert answer.status_code == 422, (name, answer.text)
                    shown = answer.json()
                    assert shown["error"] == "ReadingRejected", (name, shown)
                    assert shown["code"] == code, (name, shown)
                    if reading is not None:
                        assert shown["reading"] == reading, (name, shown)
                    refused += 1
            # A valid reading still goes through the same endpoint afterwards.
            good = client.post(
                "/v1/probes/readings", content=json.dumps({"readings": [fleet.reading("fz-1")]})
            )
            assert good.status_code == 200, good.text
    finally:
        app.state.engine.dispose()
    after = shooting_range.counts()
    assert after[0] == before[0] + 1  # only the valid reading was logged
    record_figure("device_attacks_http", {"attempts": refused, "accepted": 0})


DEVICE_KINDS = (
    "forged_value",
    "wrong_key",
    "retired_key",
    "replayed_sequence",
    "reordered_sequence",
    "retired_device",
    "from_the_future",
    "too_old",
    "impossible_value",
)
"""Attacks a single device can publish on its own MQTT topic."""


def test_a_sample_of_device_attacks_over_mqtt(
    shooting_range: Range, mosquitto: tuple[str, int]
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from traceability.entrypoints.mqtt import ProbeSubscriber

    host, port = mosquitto
    prefix = f"reliability-{uuid.uuid4().hex[:8]}"
    subscriber = ProbeSubscriber(
        shooting_range.intake,
        shooting_range.sessions,
        host=host,
        port=port,
        topic=f"{prefix}/probes/+/readings",
        client_id=f"{prefix}-intake",
    )
    fleet = shooting_range.fleet
    arsenal = attacks(fleet)
    before = shooting_range.counts()
    rejections: list[dict[str, Any]] = []
    arrived = threading.Condition()
    publisher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        with arrived:
            rejections.append(json.loads(message.payload))
            arrived.notify_all()

    subscribed = threading.Event()
    publisher.on_message = on_message
    publisher.on_subscribe = lambda *_args: subscribed.set()
    subscriber.start()
    publisher.connect(host, port)
    publisher.loop_start()
    expected: list[str] = []
    try:
        assert subscriber.subscribed.wait(10)
        publisher.subscribe(f"{prefix}/probes/+/rejections", qos=1)
        assert subscribed.wait(10)
        for name in DEVICE_KINDS:
            body, code, reading = arsenal[name]()
            # One message per device topic: the attack's readings only (no cover readings).
            offending = body["readings"][reading]
            readings = [r for r in body["readings"] if r["device_id"] == offending["device_id"]]
            topic = f"{prefix}/probes/{offending['device_id']}/readings"
            publisher.publish(topic, json.dumps(readings), qos=1).wait_for_publish(5)
            expected.append(code)
            with arrived:
                arrived.wait_for(lambda: len(rejections) == len(expected), timeout=15)
            assert len(rejections) == len(expected), f"no rejection for {name}"
            assert rejections[-1]["code"] == code, (name, rejections[-1])
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        subscriber.stop()
    assert shooting_range.counts() == before
    assert subscriber.stats.accepted_readings == 0
    assert subscriber.stats.rejected_messages == len(DEVICE_KINDS)
    record_figure(
        "device_attacks_mqtt", {"attempts": len(DEVICE_KINDS), "accepted": 0, "codes": expected}
    )
