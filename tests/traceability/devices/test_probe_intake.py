"""Probe readings over HTTP and MQTT: every rejection has its code and stores nothing."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from traceability import merkle
from traceability.devices.intake import (
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
from traceability.transparency.receipts import verify_batch_receipt

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

NOW = datetime.now(UTC).replace(microsecond=0)


def raw_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Probe:
    device_id: str
    key: Ed25519PrivateKey
    seq: int = 0

    def reading(
        self, celsius: float = 4.0, *, at: datetime | None = None, seq: int | None = None
    ) -> dict[str, Any]:
        if seq is None:
            self.seq += 1
            seq = self.seq
        unsigned = {
            "device_id": self.device_id,
            "seq": seq,
            "measured_at": iso(at or NOW),
            "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
        }
        sig = base64.b64encode(self.key.sign(canonical_bytes(unsigned))).decode()
        return {**unsigned, "sig": sig}


@dataclass
class Kitchen:
    sessions: sessionmaker[Session]
    intake: ProbeIntake
    fridge: Probe
    freezer: Probe
    other: Probe  # another premises
    gateway_key: Ed25519PrivateKey

    def submit(self, body: Any, now: datetime = NOW) -> Any:
        with transaction(self.sessions) as session:
            return self.intake.accept(session, parse_submission(body), now)

    def counts(self) -> tuple[int, int, int, int, tuple[int, ...]]:
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

    def batch(self, readings: list[dict[str, Any]], seq: int, key: Any = None) -> dict[str, Any]:
        unsigned = {
            "gateway_id": "gw-1",
            "seq": seq,
            "readings": [{k: v for k, v in r.items() if k != "sig"} for r in readings],
        }
        sig = (key or self.gateway_key).sign(canonical_bytes(unsigned))
        return {**unsigned, "sig": base64.b64encode(sig).decode()}


@pytest.fixture
def kitchen(settings: Settings) -> Iterator[Kitchen]:
    from traceability.platform import open_platform

    engine, sessions, log, signer = open_platform(settings)
    registry = DeviceRegistry()
    probes = {}
    gateway_key = Ed25519PrivateKey.generate()
    with transaction(sessions) as session:
        for device_id, premises, kind in [
            ("fr-1", "p-1", "fridge"),
            ("fz-1", "p-1", "freezer"),
            ("fr-9", "p-9", "fridge"),
        ]:
            key = Ed25519PrivateKey.generate()
            registry.register_device(
                session,
                device_id=device_id,
                premises_id=premises,
                location="kitchen",
                kind=kind,
                profile="cn",
                public_key=raw_public(key),
                now=NOW - timedelta(days=1),
            )
            probes[device_id] = Probe(device_id, key)
        registry.register_gateway(
            session,
            gateway_id="gw-1",
            premises_id="p-1",
            public_key=raw_public(gateway_key),
            now=NOW - timedelta(days=1),
        )
    yield Kitchen(
        sessions,
        ProbeIntake(log, signer),
        probes["fr-1"],
        probes["fz-1"],
        probes["fr-9"],
        gateway_key,
    )
    engine.dispose()


def test_signed_readings_are_logged_one_event_each(kitchen: Kitchen) -> None:
    readings = [kitchen.fridge.reading(3.0 + i / 10) for i in range(5)]
    result = kitchen.submit({"readings": readings + [kitchen.freezer.reading(-19.0)]})
    assert result.accepted == 6
    with kitchen.sessions() as session:
        size = kitchen.intake.log.size(session)
        for item in result.events:
            row = session.get(EventRow, item["leaf_index"])
            assert row is not None and row.event_id == item["event_id"]
            event = json.loads(row.body)
            assert event["kind"] == "probe_reading" and event["payload"]["signature"]
            proof = kitchen.intake.log.inclusion_proof(session, item["leaf_index"], size)
            merkle.verify_inclusion(
                item["leaf_index"],
                size,
                merkle.leaf_hash(row.body),
                proof.hashes,
                kitchen.intake.log.root(session),
            )
        # The logged payload still verifies against the device's key.
        first = json.loads(session.get(EventRow, result.events[0]["leaf_index"]).body)  # type: ignore[union-attr]
        payload = first["payload"]
        unsigned = {k: payload[k] for k in ("device_id", "seq", "measured_at", "values")}
        kitchen.fridge.key.public_key().verify(
            base64.b64decode(payload["signature"]), canonical_bytes(unsigned)
        )
    assert kitchen.counts()[4] == (5, -1, 1)  # fr-1 at 5, fr-9 untouched, fz-1 at 1


def rejected(kitchen: Kitchen, body: Any, code: str, now: datetime = NOW) -> ReadingRejected:
    before = kitchen.counts()
    with pytest.raises(ReadingRejected) as caught:
        kitchen.submit(body, now)
    assert caught.value.code == code, caught.value.detail
    assert kitchen.counts() == before, "a rejected submission left a trace"
    return caught.value


def test_every_rejection_has_its_code_and_stores_nothing(kitchen: Kitchen) -> None:
    good = kitchen.fridge.reading(4.0)
    kitchen.submit({"readings": [good]})
    seen: set[str] = set()

    def check(body: Any, code: str, now: datetime = NOW) -> ReadingRejected:
        seen.add(code)
        return rejected(kitchen, body, code, now)

    stranger = Probe("fr-404", Ed25519PrivateKey.generate())
    error = check({"readings": [kitchen.fridge.reading(), stranger.reading()]}, "unknown_device")
    assert error.reading == 1 and error.device_id == "fr-404"
    kitchen.fridge.seq -= 1
    forged = kitchen.fridge.reading(4.0)
    forged["values"][0]["value"] = 2.0  # changed after signing
    check({"readings": [forged]}, "bad_signature")
    by_other_key = Probe("fr-1", Ed25519PrivateKey.generate(), seq=50).reading()
    check({"readings": [by_other_key]}, "bad_signature")
    check({"readings": [good]}, "replayed_sequence")
    pair = [kitchen.fridge.reading(seq=20), kitchen.fridge.reading(seq=20)]
    assert check({"readings": pair}, "non_increasing_sequence").reading == 1
    check(
        {"readings": [kitchen.fridge.reading(seq=30, at=NOW + timedelta(hours=1))]},
        "time_in_future",
    )
    check(
        {"readings": [kitchen.fridge.reading(seq=31, at=NOW - timedelta(days=30))]}, "time_too_old"
    )
    check({"readings": [kitchen.fridge.reading(999.0, seq=32)]}, "impossible_value")
    check({"readings": [kitchen.fridge.reading(-300.0, seq=33)]}, "impossible_value")
    check({"readings": [kitchen.fridge.reading(seq=34)] * 1001}, "batch_too_large")
    for malformed in (
        [],
        "nope",
        {"readings": []},
        {"readings": [{"device_id": "fr-1"}]},
        {"readings": [{**kitchen.fridge.reading(seq=35), "extra": 1}]},
        {"readings": [{**kitchen.fridge.reading(seq=36), "measured_at": "yesterday"}]},
        {"readings": [{**kitchen.fridge.reading(seq=37), "seq": "37"}]},
        {"readings": [{**kitchen.fridge.reading(seq=38), "sig": "not base64!"}]},
        {"readings": [{**kitchen.fridge.reading(seq=39), "values": [{"type": "Temp"}]}]},
        {"readings": [good], "other": 1},
    ):
        check(malformed, "malformed")
    with transaction(kitchen.sessions) as session:
        DeviceRegistry().retire(session, "device", "fz-1", NOW)
    check({"readings": [kitchen.freezer.reading(-18.0)]}, "retired_device")

    batch = kitchen.batch([kitchen.fridge.reading(seq=60)], seq=1)
    check({**batch, "gateway_id": "gw-404"}, "unknown_gateway")
    check(kitchen.batch([kitchen.other.reading()], seq=1), "gateway_not_authorised")
    check(
        kitchen.batch([kitchen.fridge.reading(seq=62)], seq=1, key=Ed25519PrivateKey.generate()),
        "bad_signature",
    )
    kitchen.submit(kitchen.batch([kitchen.fridge.reading(seq=63)], seq=5))
    check(kitchen.batch([kitchen.fridge.reading(seq=64)], seq=5), "replayed_sequence")
    with transaction(kitchen.sessions) as session:
        DeviceRegistry().retire(session, "gateway", "gw-1", NOW)
    check(kitchen.batch([kitchen.fridge.reading(seq=65)], seq=6), "retired_gateway")
    assert seen == set(REJECTION_CODES)


def test_gateway_batches_are_kept_to_re_verify_each_reading(kitchen: Kitchen) -> None:
    readings = [kitchen.fridge.reading(3.5), kitchen.freezer.reading(-20.0)]
    result = kitchen.submit(kitchen.batch(readings, seq=1))
    assert result.accepted == 2
    with kitchen.sessions() as session:
        row = session.get(EventRow, result.events[1]["leaf_index"])
        assert row is not None
        attestation = json.loads(row.body)["payload"]["gateway"]
        batch = session.get(GatewayBatchRow, bytes.fromhex(attestation["batch_sha256"]))
        assert batch is not None and attestation["gateway_id"] == "gw-1"
    kitchen.gateway_key.public_key().verify(bytes(batch.signature), bytes(batch.body))
    assert json.loads(batch.body)["readings"][1]["device_id"] == "fz-1"


def test_key_rotation_keeps_old_readings_verifiable(kitchen: Kitchen) -> None:
    old = kitchen.submit({"readings": [kitchen.fridge.reading(4.0)]})
    old_key = kitchen.fridge.key
    new_key = Ed25519PrivateKey.generate()
    with transaction(kitchen.sessions) as session:
        DeviceRegistry().rotate_key(session, "device", "fr-1", raw_public(new_key), NOW)
    rejected(kitchen, {"readings": [kitchen.fridge.reading(4.1)]}, "bad_signature")
    kitchen.fridge.key = new_key
    kitchen.submit({"readings": [kitchen.fridge.reading(4.2)]})
    with kitchen.sessions() as session:
        keys = DeviceRegistry().keys(session, "device", "fr-1")
        assert [k.valid_until is None for k in keys] == [False, True]
        row = session.get(EventRow, old.events[0]["leaf_index"])
        assert row is not None
        payload = json.loads(row.body)["payload"]
        key_row = next(k for k in keys if k.key_id == payload["key_id"])
    unsigned = {k: payload[k] for k in ("device_id", "seq", "measured_at", "values")}
    assert bytes(key_row.public_key) == raw_public(old_key)
    old_key.public_key().verify(base64.b64decode(payload["signature"]), canonical_bytes(unsigned))


def test_a_failing_fridge_raises_a_class_1_alert_and_its_recovery(kitchen: Kitchen) -> None:
    start = NOW - timedelta(hours=6)
    curve = [4.0] * 6 + [9.0 + i / 5 for i in range(24)] + [3.0] * 18
    readings = [
        kitchen.fridge.reading(t, at=start + timedelta(minutes=5 * i)) for i, t in enumerate(curve)
    ]
    result = kitchen.submit({"readings": readings})
    assert len(result.alerts_opened) == 1
    assert len(result.alerts_recovered) == 1
    with kitchen.sessions() as session:
        alert = session.get(AlertRow, result.alerts_opened[0])
        assert alert is not None and alert.alert_class == 1 and alert.recovered_at is not None
        kinds = [
            json.loads(body)["payload"].get("phase")
            for body in session.execute(
                select(EventRow.body)
                .where(EventRow.kind == "violation")
                .order_by(EventRow.leaf_index)
            ).scalars()
        ]
    assert kinds == ["breach", "recovery"]


def test_the_http_endpoint(settings: Settings) -> None:
    settings = settings.model_copy(update={"admin_token": SecretStr("s3cret-admin")})
    app = create_app(settings)
    key = Ed25519PrivateKey.generate()
    with TestClient(app) as client:
        device = {
            "device_id": "hh-1",
            "premises_id": "p-1",
            "location": "pass",
            "kind": "hot_holding",
            "profile": "cn",
            "public_key": base64.b64encode(raw_public(key)).decode(),
        }
        assert client.post("/v1/admin/devices", json=device).status_code == 401
        assert (
            client.post(
                "/v1/admin/devices", json=device, headers={"Authorization": "Bearer wrong"}
            ).status_code
            == 401
        )
        admin = {"Authorization": "Bearer s3cret-admin"}
        assert client.post("/v1/admin/devices", json=device, headers=admin).status_code == 201
        assert client.post("/v1/admin/devices", json=device, headers=admin).status_code == 409
        probe = Probe("hh-1", key)
        answer = client.post("/v1/probes/readings", json={"readings": [probe.reading(65.0)]})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        platform = app.state.platform
        events = verify_batch_receipt(body["receipt"], platform.signer.verifier())
        assert body["accepted"] == 1 and events[0]["leaf_index"] == 0
        bad = client.post("/v1/probes/readings", json={"readings": [probe.reading(65.0, seq=1)]})
        assert bad.status_code == 422
        assert bad.json() == {
            "error": "ReadingRejected",
            "detail": "reading 0 (hh-1): seq 1 is not above 1",
            "code": "replayed_sequence",
            "reading": 0,
            "device_id": "hh-1",
        }
        assert client.post("/v1/probes/readings", content=b"{").json()["code"] == "malformed"
        shown = client.get("/v1/admin/devices/hh-1", headers=admin).json()
        assert shown["last_seq"] == 1 and len(shown["keys"]) == 1
    app.state.engine.dispose()


def test_the_admin_api_needs_an_admin_key_or_the_bootstrap_token(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        answer = client.get("/v1/admin/devices/x", headers={"Authorization": "Bearer x"})
        assert answer.status_code == 401 and "malformed" in answer.json()["detail"]
    app.state.engine.dispose()


def test_mqtt_readings_take_the_same_path(kitchen: Kitchen, mosquitto: tuple[str, int]) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from traceability.entrypoints.mqtt import ProbeSubscriber

    host, port = mosquitto
    subscriber = ProbeSubscriber(
        kitchen.intake,
        kitchen.sessions,
        host=host,
        port=port,
        topic="sunledger/probes/+/readings",
        client_id=f"test-intake-{uuid.uuid4().hex[:8]}",
    )
    subscriber.start()
    rejections: list[dict[str, Any]] = []
    got_rejection = threading.Event()
    publisher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)

    def on_message(_c: Any, _u: Any, message: Any) -> None:
        rejections.append(json.loads(message.payload))
        got_rejection.set()

    publisher.on_message = on_message
    publisher.connect(host, port)
    publisher.loop_start()
    try:
        assert subscriber.subscribed.wait(10)
        publisher.subscribe("sunledger/probes/fr-1/rejections", qos=1)
        time.sleep(0.3)
        readings = [kitchen.fridge.reading(3.0), kitchen.fridge.reading(3.2)]
        publisher.publish(
            "sunledger/probes/fr-1/readings", json.dumps(readings), qos=1
        ).wait_for_publish(5)
        publisher.publish(
            "sunledger/probes/fr-1/readings", json.dumps(readings[0]), qos=1
        ).wait_for_publish(5)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and kitchen.counts()[0] < 2:
            time.sleep(0.1)
        assert kitchen.counts()[0] == 2
        assert got_rejection.wait(10)
        assert rejections[0]["code"] == "replayed_sequence"
        wrong_topic = kitchen.freezer.reading(-19.0)
        publisher.publish(
            "sunledger/probes/fr-1/readings", json.dumps(wrong_topic), qos=1
        ).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(rejections) < 2:
            time.sleep(0.1)
        assert (
            rejections[1]["code"] == "malformed" and "names device fz-1" in rejections[1]["detail"]
        )
        assert kitchen.counts()[0] == 2
        assert subscriber.stats.accepted_readings == 2
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        subscriber.stop()


class BrokenIntake(ProbeIntake):
    """Intake with a bug: every accept fails in a way nobody foresaw."""

    def accept(self, *_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("a bug in intake")


def test_an_mqtt_message_a_bug_cannot_log_is_dead_lettered_not_stalling_intake(
    kitchen: Kitchen, mosquitto: tuple[str, int], tmp_path: Any
) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    from traceability.entrypoints.mqtt import UNFORESEEN_ATTEMPTS, ProbeSubscriber

    host, port = mosquitto
    tag = uuid.uuid4().hex[:8]
    topic, client_id = f"dl-{tag}/probes/+/readings", f"test-dead-letter-{tag}"
    dead_letter = tmp_path / "dead-letter.jsonl"

    def subscriber(intake: ProbeIntake) -> ProbeSubscriber:
        return ProbeSubscriber(
            intake,
            kitchen.sessions,
            host=host,
            port=port,
            topic=topic,
            client_id=client_id,
            dead_letter=dead_letter,
            retry_delays=(0.01, 0.05),
        )

    broken = subscriber(BrokenIntake(kitchen.intake.log, kitchen.intake.signer))
    broken.start()
    publisher = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2)
    publisher.connect(host, port)
    publisher.loop_start()
    payload = json.dumps([kitchen.fridge.reading(3.0)])
    try:
        assert broken.subscribed.wait(10)
        for _ in range(2):
            publisher.publish(f"dl-{tag}/probes/fr-1/readings", payload, qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and broken.stats.dead_lettered < 2:
            time.sleep(0.05)
    finally:
        broken.stop()
    # Both messages went to the file after their attempts (intake did not stall on the
    # first); both were acknowledged: the session gives nothing back.
    assert broken.stats.dead_lettered == 2 and broken.stats.messages == 2
    lines = [json.loads(line) for line in dead_letter.read_text().splitlines()]
    assert [base64.b64decode(line["payload_base64"]).decode() for line in lines] == [payload] * 2
    assert all("RuntimeError: a bug in intake" in line["error"] for line in lines)
    assert kitchen.counts()[0] == 0
    assert UNFORESEEN_ATTEMPTS == 5
    again = subscriber(kitchen.intake)
    again.start()
    try:
        assert again.subscribed.wait(10)
        time.sleep(1.0)
        assert again.stats.messages == 0
    finally:
        again.stop()
        publisher.loop_stop()
        publisher.disconnect()
        again.client.reinitialise(client_id=client_id, clean_session=True)
        again.client.connect(host, port)
        again.client.disconnect()


ODD_NUMBERS = [4, 4.0, -0.0, 0.1, 1e-7, 3.000001, -59.99999999999, 123.456789012345, 1e-4, 399]


def test_event_bytes_built_from_parts_are_the_canonical_bytes(kitchen: Kitchen) -> None:
    # Intake composes each event's RFC 8785 text from pieces; it must equal JCS of the whole.
    signed = [kitchen.fridge.reading(v) for v in ODD_NUMBERS]
    two_values = kitchen.fridge.reading(5.5)
    del two_values["sig"]
    two_values["values"].append({"type": "RelativeHumidity", "value": 55.25, "uom": "P1"})
    two_values["sig"] = base64.b64encode(
        kitchen.fridge.key.sign(canonical_bytes(two_values))
    ).decode()
    kitchen.submit({"readings": [*signed, two_values]})
    kitchen.submit(kitchen.batch([kitchen.freezer.reading(v - 20) for v in ODD_NUMBERS], seq=1))
    with kitchen.sessions() as session:
        bodies = [bytes(b) for b in session.execute(select(EventRow.body)).scalars()]
        batch = session.execute(select(GatewayBatchRow.body)).scalar_one()
    assert len(bodies) == 2 * len(ODD_NUMBERS) + 1
    for body in [*bodies, bytes(batch)]:
        assert body == canonical_bytes(json.loads(body))


def test_reading_ids_are_uuid5_of_device_and_seq() -> None:
    from traceability.devices.intake import READING_NAMESPACE, reading_event_id

    for device_id, seq in [("fr-1", 0), ("a.b_c-9", 123_456), ("x" * 64, 2**53)]:
        expected = str(uuid.uuid5(READING_NAMESPACE, f"{device_id}:{seq}"))
        assert reading_event_id(device_id, seq) == expected


@settings_hypothesis(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([("Temperature", "CEL"), ("RelativeHumidity", "P1")]),
            st.floats(min_value=0, max_value=100) | st.integers(0, 100),
        ),
        min_size=1,
        max_size=4,
    ),
    st.integers(0, 2**53),
)
def test_a_readings_signed_text_is_its_canonical_text(
    values: list[tuple[tuple[str, str], float]], seq: int
) -> None:
    from traceability.transparency.canonical import canonical_text

    unsigned = {
        "device_id": "fr-1",
        "seq": seq,
        "measured_at": "2026-11-25T10:00:00.25Z",
        "values": [{"type": t, "value": v, "uom": u} for (t, u), v in values],
    }
    body = {"readings": [{**unsigned, "sig": base64.b64encode(bytes(64)).decode()}]}
    reading = parse_submission(body).readings[0]
    assert reading.unsigned_text == canonical_text(unsigned)


def test_sequence_numbers_beyond_2_53_are_malformed(kitchen: Kitchen) -> None:
    reading = {**kitchen.fridge.reading(seq=7), "seq": 2**53 + 1}  # not exact as a double
    with pytest.raises(ReadingRejected) as caught:
        kitchen.submit({"readings": [reading]})
    assert caught.value.code == "malformed"
