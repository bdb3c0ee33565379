"""The probe simulator: plausible curves with their faults, real signatures, sequence numbers
that survive restarts, bounded runs, the real Mosquitto, and the HTTP endpoint end to end."""

from __future__ import annotations

import base64
import json
import math
import os
import stat
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import typer
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from local_ports import free_port
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr
from sqlalchemy import func, select
from typer.testing import CliRunner

from traceability.entrypoints.cli.simulate import register
from traceability.errors import Conflict, Invalid
from traceability.settings import Settings
from traceability.simulator import curves
from traceability.simulator.curves import HOUR, MINUTE, Curve, Fault, curve_for
from traceability.simulator.fleet import DEVICE_SET, Fleet, build_fleet
from traceability.simulator.run import (
    SequenceClock,
    SimulationReport,
    default_start,
    rate_for_rules,
    rfc3339_ms,
    rotation,
    sampling_intervals,
    simulate,
)
from traceability.simulator.transports import (
    Delivery,
    HttpSink,
    MqttSink,
    SinkStats,
    register_in_process,
    register_over_http,
)
from traceability.transparency.canonical import canonical_bytes

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

# Local midnight in a cn kitchen (UTC+8).
MIDNIGHT = datetime(2026, 11, 24, 16, 0, tzinfo=UTC).timestamp()
START = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
TOKEN = "simulator-test-admin-token"


def series(curve: Curve, start: float, hours: float, step: float) -> list[tuple[float, float]]:
    return [
        (start + i * step, curve.values(start + i * step)[0].value)
        for i in range(int(hours * HOUR / step))
    ]


def longest_run(points: Sequence[tuple[float, float]], inside: Callable[[float], bool]) -> float:
    """The longest stretch (seconds) over which every sample satisfies ``inside``."""
    longest, began = 0.0, None
    for t, value in points:
        if inside(value):
            began = t if began is None else began
            longest = max(longest, t - began)
        else:
            began = None
    return longest


def local_hour(t: float) -> float:
    return ((t - MIDNIGHT) % 86_400) / HOUR


# --------------------------------------------------------------------------- curves


def test_a_fridge_cycles_between_2_and_5_and_spikes_when_doors_open_in_service() -> None:
    for seed in range(5):
        day = series(curve_for("fridge", seed), MIDNIGHT, 24, 20)
        night = [v for t, v in day if local_hour(t) < 7]
        assert 1.5 <= min(night) <= 2.6 and 4.4 <= max(night) <= 5.5
        # A compressor cycle (35-45 min) spans the band within every 50 minutes at night.
        for begin in range(0, 6 * 60, 50):
            window = [v for t, v in day if begin <= local_hour(t) * 60 < begin + 50]
            assert max(window) - min(window) > 2.2
        spikes = [
            t
            for (t, v), (_, before) in zip(day[1:], day, strict=False)
            if v > 6.5 and before <= 6.5
        ]
        in_service = [
            t for t in spikes if 10.5 <= local_hour(t) < 13.5 or 17 <= local_hour(t) < 20.5
        ]
        assert len(in_service) >= 10  # 3-5 openings an hour over 6.5 service hours
        assert all(7.5 <= local_hour(t) < 22.5 for t in spikes)  # no door opens at night
        assert longest_run(day, lambda v: v > 6.5) < 6 * MINUTE  # a spike lasts minutes


def test_a_failing_fridge_is_above_8_for_hours_and_never_without_the_fault() -> None:
    onset = MIDNIGHT + 1 * HOUR
    for seed in range(5):
        healthy = series(curve_for("fridge", seed), MIDNIGHT, 24, 30)
        failing = series(
            curve_for("fridge", seed, faults=[Fault(curves.FAILING_FRIDGE, onset)]),
            MIDNIGHT,
            24,
            30,
        )
        assert longest_run(failing, lambda v: v > 8) > 4 * HOUR
        assert 11 <= max(v for t, v in failing if t < onset + 6 * HOUR) <= 13.5
        assert longest_run(healthy, lambda v: v > 8) < 10 * MINUTE
        # Repaired after 7 h: the same fridge as if nothing had happened.
        assert [p for p in failing if p[0] >= onset + 7 * HOUR] == [
            p for p in healthy if p[0] >= onset + 7 * HOUR
        ]


def test_sample_fridge_freezer_room_and_hot_holding_stay_in_their_ranges() -> None:
    for seed in range(4):
        sample = [v for _, v in series(curve_for("sample_fridge", seed), MIDNIGHT, 48, 15)]
        assert 0 <= min(sample) and max(sample) <= 8
        freezer = series(curve_for("freezer", seed), MIDNIGHT, 24, 30)
        assert -20.6 <= min(v for _, v in freezer) and max(v for _, v in freezer) <= -12
        # Three defrosts a day lift the buffered probe toward -14 °C.
        defrosts = [
            t
            for (t, v), (_, before) in zip(freezer[1:], freezer, strict=False)
            if v > -15.5 >= before
        ]
        assert len(defrosts) >= 3
        room = [v for _, v in series(curve_for("room", seed), MIDNIGHT, 24, 60)]
        assert 18 <= min(room) and max(room) <= 26 and max(room) - min(room) > 3
        hot = [v for _, v in series(curve_for("hot_holding", seed), MIDNIGHT, 24, 20)]
        assert min(hot) >= 60.5 and 64 <= sum(hot) / len(hot) <= 67


def test_hot_holding_drop_fault() -> None:
    onset = MIDNIGHT + 11 * HOUR
    day = series(
        curve_for("hot_holding", 3, faults=[Fault(curves.HOT_HOLDING_DROP, onset)]),
        MIDNIGHT,
        24,
        30,
    )
    assert longest_run(day, lambda v: v < 60) > 2 * HOUR
    assert min(v for _, v in day) < 45
    assert min(v for t, v in day if t > onset + 3.5 * HOUR) > 60  # repaired


def cooking_peaks(points: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    """(instant, peak) of each stretch above 50 °C."""
    peaks: list[tuple[float, float]] = []
    top: tuple[float, float] | None = None
    for t, v in points:
        if v > 50:
            top = (t, v) if top is None or v > top[1] else top
        elif top is not None:
            peaks.append(top)
            top = None
    return peaks


def test_core_probe_cooks_six_runs_above_75_and_an_undercooked_run_at_65() -> None:
    for seed in range(4):
        day = series(curve_for("core_probe", seed), MIDNIGHT, 24, 15)
        cooks = [(t, v) for t, v in cooking_peaks(day) if local_hour(t) not in (13, 14)]
        cooking = [p for p in cooks if not 12.9 < local_hour(p[0]) < 13.3]
        assert len(cooking) == 6
        assert all(v >= 75 for _, v in cooking)
        assert min(v for _, v in day) > 0  # ambient between runs, chilled in the cooling run
    onset = MIDNIGHT + 6 * HOUR
    faulty = series(
        curve_for("core_probe", 1, faults=[Fault(curves.UNDERCOOKED_RUN, onset)]), MIDNIGHT, 24, 15
    )
    peaks = [p for p in cooking_peaks(faulty) if not 12.9 < local_hour(p[0]) < 13.3]
    assert 63 <= peaks[0][1] <= 67  # the first run after the onset
    assert all(v >= 75 for _, v in peaks[1:])


def cooling_times(curve: Curve) -> tuple[float, float | None, float | None]:
    """Seconds from 60 °C (falling) to 21 °C and to 5 °C in the day's cooling run, and the
    temperature 2 h after 60 °C."""
    points = series(curve, MIDNIGHT + 12.9 * HOUR, 6, 10)
    at_60 = next(
        t for (t, v), (_, before) in zip(points[1:], points, strict=False) if before >= 60 > v
    )
    to_21 = next((t - at_60 for t, v in points if t > at_60 and v <= 21), None)
    to_5 = next((t - at_60 for t, v in points if t > at_60 and v <= 5), None)
    return at_60, to_21, to_5


def test_a_cooling_run_meets_2h_and_6h_and_a_stalled_one_stays_near_30() -> None:
    for seed in range(4):
        _, to_21, to_5 = cooling_times(curve_for("core_probe", seed))
        assert to_21 is not None and to_21 <= 2 * HOUR
        assert to_5 is not None and to_5 - to_21 <= 4 * HOUR
    stalled = curve_for("core_probe", 2, faults=[Fault(curves.COOLING_STALL, MIDNIGHT)])
    at_60, to_21, _ = cooling_times(stalled)
    assert to_21 is None
    assert 31 <= stalled.temperature(at_60 + 2 * HOUR) <= 36
    assert 29 <= stalled.temperature(at_60 + 4 * HOUR) <= 31.5


def test_dishwasher_rinses_at_85_for_a_minute_and_a_cold_rinse_fault_at_78() -> None:
    day = series(curve_for("dishwasher", 5), MIDNIGHT, 24, 2)
    assert longest_run(day, lambda v: v >= 84.8) >= 50
    assert max(v for _, v in day) <= 88.5
    lunch = [v for t, v in day if 11 <= local_hour(t) < 14]
    assert sum(1 for v in lunch if v >= 85) * 2 > 15 * 60  # many rinses in service
    assert max(v for t, v in day if local_hour(t) < 9) < 40  # off at night
    onset = MIDNIGHT + 10 * HOUR
    faulty = series(
        curve_for("dishwasher", 5, faults=[Fault(curves.COLD_RINSE, onset)]), MIDNIGHT, 24, 2
    )
    during = [v for t, v in faulty if onset <= t < onset + 12 * HOUR]
    assert 77 <= max(during) <= 79
    assert longest_run([(t, v) for t, v in faulty if t < onset + 12 * HOUR], lambda v: v > 76) > 40


def test_disinfection_cabinet_holds_120_twice_a_day() -> None:
    day = series(curve_for("disinfection_cabinet", 9), MIDNIGHT, 24, 30)
    assert longest_run(day, lambda v: v >= 120) >= 20 * MINUTE  # 120 °C held 20 min
    assert max(v for _, v in day) <= 124
    assert len(cooking_peaks(day)) == 2


def test_curves_are_pure_functions_of_seed_and_instant() -> None:
    for kind in curves.CURVES:
        first = curve_for(kind, 42, "us")
        again = curve_for(kind, 42, "us")  # as a restarted simulator would build it
        instants = [MIDNIGHT + i * 997.3 for i in range(200)]
        assert [first.values(t) for t in reversed(instants)][::-1] == [
            again.values(t) for t in instants
        ]
        assert [first.values(t) for t in instants] != [
            curve_for(kind, 43, "us").values(t) for t in instants
        ]
    with pytest.raises(ValueError):
        curve_for("toaster", 1)


def test_a_silent_probe_is_silent_for_two_hours() -> None:
    onset = MIDNIGHT + HOUR
    curve = curve_for("fridge", 1, faults=[Fault(curves.SILENT_PROBE, onset)])
    assert not curve.silent(onset - 1)
    assert curve.silent(onset) and curve.silent(onset + 2 * HOUR - 1)
    assert not curve.silent(onset + 2 * HOUR)
    assert not curve_for("fridge", 1).silent(onset)


# --------------------------------------------------------------------------- runs


class RecordingSink:
    """An in-memory sink that accepts everything and keeps what it got."""

    def __init__(self, clock: FakeClock | None = None, send_takes: float = 0.0) -> None:
        self.stats = SinkStats()
        self.deliveries: list[Delivery] = []
        self.clock = clock
        self.send_takes = send_takes

    def send(self, deliveries: Sequence[Delivery]) -> None:
        for delivery in deliveries:
            self.deliveries.append(delivery)
            self.stats.sent += delivery.readings
            self.stats.accepted += delivery.readings
            self.stats.requests += 1
            self.stats.latency(0.001)
        if self.clock is not None:
            self.clock.now += self.send_takes

    def close(self) -> None:
        pass

    def readings(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for delivery in self.deliveries:
            out.extend(delivery.body["readings"] if delivery.is_batch else delivery.body)
        return out


class FakeClock:
    """A monotonic clock that moves only when the simulator sleeps (or a sink takes time)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.now += seconds


def run(
    fleet: Fleet, sink: Any, clock: FakeClock | None = None, **options: Any
) -> SimulationReport:
    clock = clock or FakeClock()
    defaults: dict[str, Any] = {"rate": 70.0, "duration": 2.0, "speedup": 60.0, "start": START}
    return simulate(fleet, sink, clock=clock, sleep=clock.sleep, **{**defaults, **options})


def verify(public_key: bytes, signature_b64: str, unsigned: dict[str, Any]) -> None:
    Ed25519PublicKey.from_public_bytes(public_key).verify(
        base64.b64decode(signature_b64), canonical_bytes(unsigned)
    )


def test_device_readings_carry_signatures_that_verify() -> None:
    fleet = build_fleet(2, seed=11)
    keys = {device.device_id: device.public_key for device in fleet.devices}
    sink = RecordingSink()
    report = run(fleet, sink, rate=140.0, duration=1.0)
    readings = sink.readings()
    assert len(readings) == report.generated == 140
    for delivery in sink.deliveries:
        assert not delivery.is_batch
        assert {r["device_id"] for r in delivery.body} == {delivery.sender}
    for reading in readings:
        assert set(reading) == {"device_id", "seq", "measured_at", "values", "sig"}
        unsigned = {k: v for k, v in reading.items() if k != "sig"}
        verify(keys[reading["device_id"]], reading["sig"], unsigned)
        tampered = {**unsigned, "values": [{**unsigned["values"][0], "value": 99.9}]}
        with pytest.raises(InvalidSignature):
            verify(keys[reading["device_id"]], reading["sig"], tampered)
        (value,) = reading["values"]
        assert value["type"] == "Temperature" and value["uom"] == "CEL"
        assert reading["measured_at"].endswith("Z")
        assert datetime.fromisoformat(reading["measured_at"]) >= START


def test_gateway_batches_are_signed_by_the_restaurants_gateway() -> None:
    fleet = build_fleet(3, seed=12)
    gateways = {g.gateway_id: g for g in fleet.gateways}
    premises_of = {d.device_id: d.premises_id for d in fleet.devices}
    sink = RecordingSink()
    report = run(fleet, sink, gateway=True, batch=20)
    assert report.generated == 140 and sink.deliveries
    for delivery in sink.deliveries:
        batch = delivery.body
        assert delivery.is_batch and set(batch) == {"gateway_id", "seq", "readings", "sig"}
        gateway = gateways[batch["gateway_id"]]
        unsigned = {k: v for k, v in batch.items() if k != "sig"}
        verify(gateway.public_key, batch["sig"], unsigned)
        with pytest.raises(InvalidSignature):
            verify(gateway.public_key, batch["sig"], {**unsigned, "seq": batch["seq"] + 1})
        for reading in batch["readings"]:
            assert "sig" not in reading
            assert premises_of[reading["device_id"]] == gateway.premises_id


def test_sequence_numbers_rise_per_device_and_gateway_across_restarts() -> None:
    seqs: dict[str, list[int]] = defaultdict(list)
    for gateway in (False, True):
        for _restart in range(2):
            fleet = build_fleet(2, seed=13)  # what a new process builds
            sink = RecordingSink()
            # The same simulated start both times: sequence numbers must not depend on it.
            run(fleet, sink, rate=140.0, duration=1.0, gateway=gateway, batch=10)
            for delivery in sink.deliveries:
                if delivery.is_batch:
                    seqs[delivery.sender].append(delivery.body["seq"])
            for reading in sink.readings():
                seqs[reading["device_id"]].append(reading["seq"])
    assert len(seqs) == 14 + 2
    for owner, values in seqs.items():
        assert all(a < b for a, b in zip(values, values[1:], strict=False)), owner
        assert all(v < 2**53 for v in values)
    turns = Counter(d.device_id for d in rotation(build_fleet(2, seed=13)))
    assert sum(turns.values()) == 48  # 140 readings: 2 rotations and a bit
    assert all(len(seqs[device]) >= 4 * 2 * n for device, n in turns.items())


def test_sequence_clock_rises_even_when_the_clock_stands_still() -> None:
    clock = SequenceClock(lambda: 1_000)
    assert [clock.next("a"), clock.next("a"), clock.next("b"), clock.next("a")] == [
        1_000,
        1_001,
        1_000,
        1_002,
    ]


def test_measured_at_is_rfc3339_utc() -> None:
    assert rfc3339_ms(START.timestamp()) == "2026-11-24T16:00:00Z"
    assert rfc3339_ms(START.timestamp() + 0.25) == "2026-11-24T16:00:00.250Z"


def test_simulate_stops_at_the_duration_and_the_reading_budget() -> None:
    fleet = build_fleet(1, seed=14)
    sink = RecordingSink()
    report = run(fleet, sink, rate=50.0, duration=2.0, speedup=600.0)
    assert report.planned == report.generated == report.sent == report.accepted == 100
    assert report.all_accepted and report.requests >= 7
    assert report.simulated_seconds == pytest.approx(99 * 600 / 50)
    assert report.latency_p50 == report.latency_p99 == 0.001
    last = max(datetime.fromisoformat(r["measured_at"]) for r in sink.readings())
    assert (last - START).total_seconds() == pytest.approx(99 * 12, abs=0.001)

    capped = run(fleet, RecordingSink(), rate=50.0, duration=2.0, max_readings=30)
    assert capped.generated == 30
    # A sink too slow for the rate: the run still ends at its duration, with fewer readings.
    clock = FakeClock()
    slow = run(fleet, RecordingSink(clock, send_takes=0.5), clock, rate=50.0, duration=2.0, batch=5)
    # It overruns by at most the send under way and the final one.
    assert 0 < slow.generated < 100 and clock.now - 1000.0 <= 2.0 + 2 * 0.5
    with pytest.raises(Invalid):
        run(fleet, RecordingSink(), rate=0.0)
    with pytest.raises(Invalid):
        run(fleet, RecordingSink(), batch=1001)


def test_simulate_on_the_real_clock_stays_within_its_bounds() -> None:
    fleet = build_fleet(1, seed=15)
    report = simulate(fleet, RecordingSink(), rate=100.0, duration=0.3, speedup=600.0, start=START)
    assert 0 < report.generated <= 30 and report.sent == report.generated


def test_a_faulty_day_shows_its_faults_and_a_healthy_one_does_not() -> None:
    fleet = build_fleet(1, seed=16)
    # A day in 10 s at 240 readings/s: a fridge reports every 24 turns * 36 s = 14.4 min.
    for faults in (True, False):
        sink = RecordingSink()
        report = run(fleet, sink, rate=240.0, duration=10.0, speedup=8640.0, faults=faults)
        by_device: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for reading in sink.readings():
            at = datetime.fromisoformat(reading["measured_at"]).timestamp()
            by_device[reading["device_id"]].append((at, reading["values"][0]["value"]))
        fridge = by_device["sim-p-0001-fridge-1"]
        hot = by_device["sim-p-0001-hot-holding-1"]
        if faults:
            assert {p.fault.name for p in report.faults} == set(curves.FAULT_DESCRIPTIONS)
            assert longest_run(fridge, lambda v: v > 8) > HOUR
            assert longest_run(hot, lambda v: v < 60) > HOUR
            assert 6 <= report.silent <= 10  # fridge-2 silent for 2 h
            assert report.generated + report.silent == 2400
        else:
            assert not report.faults and report.silent == 0
            assert longest_run(fridge, lambda v: v > 8) < HOUR
            assert min(v for _, v in hot) >= 60
        assert report.all_accepted


def test_fast_changing_probes_get_more_turns_evenly_spread() -> None:
    fleet = build_fleet(3, seed=17)
    order = rotation(fleet)
    assert len(order) == 3 * 24
    dishwasher = [i for i, d in enumerate(order) if d.device_id == "sim-p-0002-dishwasher-1"]
    assert len(dishwasher) == 12
    assert {b - a for a, b in zip(dishwasher, dishwasher[1:], strict=False)} <= {3, 6, 9}
    intervals = sampling_intervals(fleet, rate=100.0, speedup=60.0)
    assert intervals["dishwasher"] == pytest.approx(9 * 0.6)
    assert intervals["fridge"] == pytest.approx(72 * 0.6)
    assert intervals["core_probe"] < intervals["hot_holding"] < intervals["fridge"]
    needed = rate_for_rules(fleet, speedup=60.0)
    assert sampling_intervals(fleet, needed, 60.0)["dishwasher"] == pytest.approx(15.0)
    assert sampling_intervals(fleet, needed, 60.0)["core_probe"] <= 60.0


def test_default_start_keeps_every_reading_in_the_past() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert default_start(60, 1.0, now) == now
    assert (now - default_start(60, 1441.0, now)).total_seconds() == 60 * 1440


# --------------------------------------------------------------------------- fleet and keys


def test_the_fleet_has_a_kitchen_device_set_per_restaurant() -> None:
    fleet = build_fleet(3, seed=1, profile="us")
    assert [r.premises_id for r in fleet.restaurants] == ["sim-p-0001", "sim-p-0002", "sim-p-0003"]
    kinds = sorted(d.kind for d in fleet.restaurants[0].devices)
    assert kinds == sorted(kind for _, kind, _ in DEVICE_SET)
    assert kinds.count("fridge") == 2
    assert fleet.restaurants[1].gateway.gateway_id == "sim-p-0002-gw"
    keys = [d.public_key for d in fleet.devices] + [g.public_key for g in fleet.gateways]
    assert len(set(keys)) == len(keys) == 24 and all(len(k) == 32 for k in keys)
    assert [d.public_key for d in build_fleet(3, seed=1).devices] == [
        d.public_key for d in fleet.devices
    ]
    assert build_fleet(1, seed=2).devices[0].public_key != fleet.devices[0].public_key
    with pytest.raises(Invalid):
        build_fleet(0)
    with pytest.raises(Invalid):
        build_fleet(1, profile="uk")


def test_the_keys_file_is_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "sim-keys.json"
    first = build_fleet(2, keys_file=path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = build_fleet(2, seed=99, keys_file=path)  # keys come from the file, not the seed
    assert [d.public_key for d in again.devices] == [d.public_key for d in first.devices]
    assert [g.public_key for g in again.gateways] == [g.public_key for g in first.gateways]
    assert first.devices[0].public_key != build_fleet(2).devices[0].public_key
    grown = build_fleet(3, keys_file=path)  # a third restaurant gets keys added to the file
    assert [d.public_key for d in grown.devices[:14]] == [d.public_key for d in first.devices]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(json.loads(path.read_text())["keys"]) == 24
    assert [p.name for p in tmp_path.iterdir()] == ["sim-keys.json"]

    path.chmod(0o644)
    with pytest.raises(Invalid, match="chmod 600"):
        build_fleet(2, keys_file=path)
    other = tmp_path / "other.json"
    other.write_text("{}")
    other.chmod(0o600)
    with pytest.raises(Invalid, match="not a sunledger-simulator-keys/1"):
        build_fleet(1, keys_file=other)


# --------------------------------------------------------------------------- MQTT


@pytest.fixture
def broker(mosquitto: tuple[str, int]) -> tuple[str, int]:
    """The real Mosquitto (the suite's fixture: under CI=true a missing broker fails)."""
    return mosquitto


@pytest.fixture
def subscriber(broker: tuple[str, int]) -> Iterator[list[tuple[str, bytes]]]:
    """A paho client subscribed to every probe topic; yields what it has received."""
    received: list[tuple[str, bytes]] = []
    subscribed = threading.Event()
    client = mqtt.Client(
        callback_api_version=CallbackAPIVersion.VERSION2,
        client_id=f"sim-test-sub-{uuid.uuid4().hex[:8]}",
    )

    def on_subscribe(*_args: Any) -> None:
        subscribed.set()

    def on_message(_client: Any, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        received.append((message.topic, message.payload))

    client.on_subscribe = on_subscribe
    client.on_message = on_message
    client.connect(*broker)
    client.loop_start()
    client.subscribe("sunledger/probes/+/readings", qos=1)
    assert subscribed.wait(10), "no SUBACK from Mosquitto"
    try:
        yield received
    finally:
        client.disconnect()
        client.loop_stop()


def test_mqtt_sink_publishes_signed_readings_to_the_real_broker(
    broker: tuple[str, int], subscriber: list[tuple[str, bytes]]
) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    fleet = build_fleet(2, seed=21, prefix=prefix)
    keys = {d.device_id: d.public_key for d in fleet.devices}
    sink = MqttSink(*broker)
    try:
        report = run(fleet, sink, rate=70.0, duration=2.0, batch=20)
    finally:
        sink.close()
    assert report.generated == report.sent == report.accepted == 140
    assert report.all_accepted and report.latency_p50 is not None

    def ours() -> list[tuple[str, bytes]]:
        return [(topic, body) for topic, body in list(subscriber) if topic.split("/")[2] in keys]

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(ours()) < report.requests:
        time.sleep(0.05)
    messages = ours()
    assert len(messages) == report.requests
    readings = 0
    for topic, body in messages:
        device_id = topic.split("/")[2]
        assert topic == f"sunledger/probes/{device_id}/readings"
        payload = json.loads(body)
        for reading in payload if isinstance(payload, list) else [payload]:
            assert reading["device_id"] == device_id
            verify(
                keys[device_id], reading["sig"], {k: v for k, v in reading.items() if k != "sig"}
            )
            readings += 1
    assert readings == 140


def test_mqtt_sink_refuses_gateway_batches_and_a_missing_broker(broker: tuple[str, int]) -> None:
    fleet = build_fleet(1, seed=22, prefix=f"t{uuid.uuid4().hex[:8]}")
    sink = MqttSink(*broker)
    try:
        batch = fleet.gateways[0].batch(
            1, [fleet.devices[0].reading(1, "2026-11-25T10:00:00Z", ())]
        )
        with pytest.raises(ValueError, match="HTTP"):
            sink.send([Delivery.from_gateway(batch)])
    finally:
        sink.close()
    from traceability.simulator.transports import SinkUnavailable

    with pytest.raises(SinkUnavailable):
        MqttSink("127.0.0.1", free_port(), connect_attempts=2)


# --------------------------------------------------------------------------- HTTP end to end


@pytest.fixture
def client(settings: Settings) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    app = create_app(settings.model_copy(update={"admin_token": SecretStr(TOKEN)}))
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


def probe_events(client: Any) -> list[dict[str, Any]]:
    from traceability.storage.models import EventRow

    with client.app.state.platform.sessions() as session:
        bodies = session.execute(
            select(EventRow.body).where(EventRow.kind == "probe_reading")
        ).scalars()
        return [json.loads(bytes(body)) for body in bodies]


def test_the_simulator_end_to_end_over_http(client: Any) -> None:
    sessions = client.app.state.platform.sessions
    fleet = build_fleet(1, seed=31)
    registered = register_over_http("http://testserver", TOKEN, fleet, client=client)
    assert (registered.created, registered.existing) == (8, 0)
    again = register_over_http("http://testserver", TOKEN, fleet, client=client)
    assert (again.created, again.existing) == (0, 8)
    assert register_in_process(sessions, fleet).existing == 8
    with pytest.raises(Conflict, match="another key"):
        register_in_process(sessions, build_fleet(1, seed=32))  # same ids, other keys

    sink = HttpSink("http://testserver", client=client)
    start = default_start(3.0, 3600.0)
    report = run(fleet, sink, rate=70.0, duration=3.0, speedup=3600.0, start=start, faults=True)
    assert report.all_accepted, (report.rejected, report.failed, report.details)
    assert report.accepted == report.generated == 210
    logged = probe_events(client)
    assert len(logged) == 210
    first = logged[0]["payload"]
    device = next(d for d in fleet.devices if d.device_id == first["device_id"])
    verify(
        device.public_key,
        first["signature"],
        {k: first[k] for k in ("device_id", "seq", "measured_at", "values")},
    )

    # A restart over the same simulated hours, now through the gateway: still accepted.
    batches = run(fleet, sink, rate=70.0, duration=1.0, speedup=3600.0, start=start, gateway=True)
    assert batches.all_accepted and batches.accepted == 70, batches.details
    assert len(probe_events(client)) == 280
    from traceability.storage.models import GatewayBatchRow

    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(GatewayBatchRow)) == batches.requests

    # Readings signed with keys the platform does not know are rejected, and say why.
    impostor = run(build_fleet(1, seed=32), sink, rate=70.0, duration=1.0, start=start)
    assert not impostor.all_accepted
    assert impostor.rejected == {"bad_signature": 70} and impostor.accepted == 0
    assert len(probe_events(client)) == 280


def recent_kitchen_morning(hours: float) -> datetime:
    """The latest 09:00 in a cn kitchen (01:00 UTC) at least ``hours`` before now."""
    now = datetime.now(UTC)
    morning = now.replace(hour=1, minute=0, second=0, microsecond=0)
    while morning + timedelta(hours=hours) > now:
        morning -= timedelta(days=1)
    return morning


@pytest.mark.slow
def test_a_simulated_day_raises_the_planned_alerts_and_no_false_ones(client: Any) -> None:
    """09:00 to 19:00 in two kitchens, sampled densely enough for the cycle rules."""
    from traceability.storage.models import AlertRow

    sessions = client.app.state.platform.sessions
    healthy, faulty = build_fleet(1, prefix="ok"), build_fleet(1, prefix="bad")
    start = recent_kitchen_morning(10)
    speedup = 3600.0  # 10 simulated hours in 10 s
    rate = math.ceil(rate_for_rules(healthy, speedup))
    sink = HttpSink("http://testserver", client=client)
    for fleet, faults in ((healthy, False), (faulty, True)):
        register_in_process(sessions, fleet)
        report = run(
            fleet, sink, rate=rate, duration=10.0, speedup=speedup, start=start, faults=faults
        )
        assert report.all_accepted, (report.rejected, report.details)
    with sessions() as session:
        alerts = {
            (row.subject.removeprefix("device:"), row.rule)
            for row in session.execute(select(AlertRow)).scalars()
        }
    assert alerts == {
        ("bad-p-0001-fridge-1", "cold_holding"),
        ("bad-p-0001-hot-holding-1", "hot_holding"),
        ("bad-p-0001-hot-holding-1", "danger_zone"),
        ("bad-p-0001-core-probe-1", "core_temperature"),
        ("bad-p-0001-core-probe-1", "cooling"),
        ("bad-p-0001-dishwasher-1", "dishwasher_rinse"),
    }


# --------------------------------------------------------------------------- the command


@pytest.fixture
def cli() -> Callable[..., Any]:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test host for the simulate group."""

    register(app)
    runner = CliRunner()
    plain_env = {k: None for k in os.environ if k.startswith("SUNLEDGER_")}

    def invoke(*args: str) -> Any:
        return runner.invoke(app, ["simulate", "probes", *args], env={**plain_env, "CI": "true"})

    return invoke


def test_the_command_exits_2_on_usage_errors(cli: Callable[..., Any]) -> None:
    assert cli("--gateway", "--transport", "mqtt").exit_code == 2
    assert cli("--restaurants", "0").exit_code == 2
    assert cli("--transport", "pigeon").exit_code == 2
    assert cli("--start", "yesterday").exit_code == 2


def test_the_command_registers_in_process_and_sends_over_mqtt(
    cli: Callable[..., Any], broker: tuple[str, int], tmp_path: Path
) -> None:
    host, port = broker
    keys = tmp_path / "keys.json"
    result = cli(
        *("--restaurants", "1", "--rate", "50", "--duration", "1", "--speedup", "600"),
        *("--transport", "mqtt", "--mqtt-host", host, "--mqtt-port", str(port)),
        *("--data-dir", str(tmp_path / "store"), "--keys-file", str(keys), "--faults"),
    )
    assert result.exit_code == 0, result.output
    assert "registered 8 devices and gateways (0 were already registered)" in result.output
    assert "acknowledged by the broker" in result.output
    assert "expect false alarms; use --rate 120 or more" in result.output
    assert "fault failing_fridge on sim-p-0001-fridge-1" in result.output
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600


def test_the_command_exits_1_when_readings_are_not_delivered(cli: Callable[..., Any]) -> None:
    result = cli(
        *("--restaurants", "1", "--rate", "20", "--duration", "0.2"),
        *("--url", f"http://127.0.0.1:{free_port()}"),
    )
    assert result.exit_code == 1, result.output
    assert "not delivered: 4 readings, unreachable" in result.output
