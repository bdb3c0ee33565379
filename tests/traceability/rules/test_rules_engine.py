"""Tests of ``traceability.rules.engine`` on realistic synthetic probe curves.

The curves are small generators below: compressor cycles, door openings,
failing fridges and freezers, hot-holding units, cooking and cooling runs,
dishwasher and disinfection cycles. Times are minutes after ``T0``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traceability.errors import Invalid
from traceability.rules.device_kinds import DeviceKind
from traceability.rules.engine import (
    DeviceMonitor,
    Observation,
    RuleEvent,
)
from traceability.rules.profiles import JurisdictionProfile, load_profile

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

T0 = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
CN = load_profile("cn")
US = load_profile("us")
DEVICE = "probe-1"

Reading = tuple[datetime, float]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def minutes_of(moment: datetime) -> float:
    return (moment - T0).total_seconds() / 60


def monitor(kind: DeviceKind, profile: JurisdictionProfile = CN) -> DeviceMonitor:
    return DeviceMonitor(DEVICE, kind, profile)


def feed(
    m: DeviceMonitor, readings: Iterable[Reading], key: str = "Temperature"
) -> list[RuleEvent]:
    events: list[RuleEvent] = []
    for moment, value in readings:
        events.extend(m.observe(Observation(DEVICE, moment, {key: value})))
    return events


def sample(
    curve: Callable[[float], float], start: float, end: float, step: float = 1.0
) -> list[Reading]:
    """Readings of ``curve`` (minutes → value) every ``step`` minutes in [start, end)."""
    count = round((end - start) / step)
    return [(at(start + i * step), curve(start + i * step)) for i in range(count)]


def summary(events: Sequence[RuleEvent]) -> list[tuple[str, str, int]]:
    return [(e.phase, e.rule, e.alert_class) for e in events]


# --------------------------------------------------------------------------- curve generators


def compressor(minute: float, low: float = 2.0, high: float = 5.0, period: float = 40.0) -> float:
    """A fridge's air temperature cycling with its compressor."""
    middle, amplitude = (low + high) / 2, (high - low) / 2
    return middle + amplitude * math.sin(2 * math.pi * minute / period)


# (minute within the hour, duration): four door openings of 2–4 min each hour.
DOOR_PATTERN = ((7.0, 2.0), (21.0, 3.0), (38.0, 4.0), (52.0, 3.0))


def door_rise(minute: float, rise: float = 6.0, until: float = math.inf) -> float:
    """+``rise`` °C while a door is open (before ``until``)."""
    if minute >= until:
        return 0.0
    within = minute % 60
    return rise if any(s <= within < s + d for s, d in DOOR_PATTERN) else 0.0


def fridge_with_doors(low: float = 2.0, high: float = 5.0) -> Callable[[float], float]:
    return lambda m: compressor(m, low, high) + door_rise(m)


def failing_fridge(minute: float) -> float:
    """Normal (with doors) for 2 h, drifts to 12 °C over 3 h, stays 2 h, repaired over 30 min."""
    if minute < 120:
        return compressor(minute) + door_rise(minute)
    if minute < 300:
        return 3.5 + (12.0 - 3.5) * (minute - 120) / 180
    if minute < 420:
        return 12.0
    if minute < 450:
        return 12.0 - (12.0 - 3.5) * (minute - 420) / 30
    return compressor(minute)


def freezer(minute: float, failing_from: float = math.inf) -> float:
    """−24…−20 °C compressor cycles, a 25 min defrost every 6 h; optionally failing."""
    value = compressor(minute, -24.0, -20.0)
    if (minute % 360) < 25:
        value = -8.0  # defrost heater on
    if minute >= failing_from:
        value = min(-5.0, -22.0 + (minute - failing_from) / 10)
    return value


def hot_holding(minute: float, fail_at: float, fail_for: float, low: float = 50.0) -> float:
    """65 °C with lid openings (58 °C for 3 min every 20 min); fails to ``low`` for a while."""
    if fail_at <= minute < fail_at + fail_for:
        return max(low, 65.0 - (minute - fail_at))  # 1 °C per minute down to ``low``
    value = 65.0 + 0.8 * math.sin(minute / 7)
    if minute < fail_at - 15 and (minute % 20) < 3:
        value = 58.0
    return value


def cooking(peak: float, withdraw_at: float = 40.0) -> Callable[[float], float]:
    """Core of chilled food heated to ``peak`` in 30 min and held, then the probe is pulled out."""

    def curve(minute: float) -> float:
        if minute < withdraw_at:
            rise = (1 - math.exp(-min(minute, 30.0) / 8)) / (1 - math.exp(-30.0 / 8))
            return 4.0 + (peak - 4.0) * rise
        return 25.0 + (peak - 25.0) * math.exp(-(minute - withdraw_at) / 0.5)

    return curve


def newton_cooling(start: float, ambient: float, tau: float) -> Callable[[float], float]:
    return lambda m: ambient + (start - ambient) * math.exp(-m / tau)


def dishwasher(
    cycles: Sequence[tuple[float, float]], rinse_seconds: float = 50.0
) -> Callable[[float], float]:
    """Cycles (start minute, rinse peak): 60 s wash at 62 °C, rinse at the peak, drain."""

    def curve(minute: float) -> float:
        for start, peak in cycles:
            second = (minute - start) * 60
            if 0 <= second < 60:
                return 62.0
            if 60 <= second < 70:
                return 62.0 + (peak - 62.0) * (second - 60) / 10
            if 70 <= second < 70 + rinse_seconds:
                return peak
            if 70 + rinse_seconds <= second < 130 + rinse_seconds:
                return 45.0
        return 30.0

    return curve


def cabinet(cycles: Sequence[tuple[float, float]], top: float = 125.0) -> Callable[[float], float]:
    """Cycles (start minute, hold minutes): 10 min heating, hold at ``top``, 20 min cooling."""

    def curve(minute: float) -> float:
        for start, hold in cycles:
            t = minute - start
            if 0 <= t < 10:
                return 25.0 + (top - 25.0) * t / 10
            if 10 <= t < 10 + hold:
                return top
            if 10 + hold <= t < 30 + hold:
                return top - (top - 25.0) * (t - 10 - hold) / 20
        return 25.0

    return curve


# --------------------------------------------------------------------------- cold holding


def test_compressor_cycles_and_door_openings_raise_nothing() -> None:
    m = monitor(DeviceKind.FRIDGE)
    readings = sample(fridge_with_doors(), 0, 8 * 60)
    assert max(v for _, v in readings) > 8.0  # the doors do push the air above the limit
    events = feed(m, readings)
    events += m.tick(at(8 * 60))
    assert events == []
    assert m.open_breaches == frozenset()


def test_door_openings_raise_nothing_in_us_either() -> None:
    m = monitor(DeviceKind.FRIDGE, US)
    assert feed(m, sample(fridge_with_doors(1.0, 4.0), 0, 8 * 60)) == []


def test_failing_fridge_breaches_once_then_recovers_after_repair() -> None:
    m = monitor(DeviceKind.FRIDGE)
    events = feed(m, sample(failing_fridge, 0, 600))
    assert summary(events) == [("breach", "cold_holding", 1), ("recovery", "cold_holding", 1)]
    breach, recovery = events
    # 8 °C is crossed at 215.3 min: first warm reading at 216, 30 min tolerance.
    assert minutes_of(breach.started_at) == 216
    assert minutes_of(breach.detected_at) == 246
    assert breach.measurements["minutes_out"] == 30
    assert breach.measurements["limit_celsius"] == 8.0
    assert breach.detail.startswith("fridge above 8.0 °C for 30 min (max ")
    # Back at or below 7 °C from 438 min; 15 min of hysteresis.
    assert recovery.started_at == breach.started_at
    assert minutes_of(recovery.detected_at) == 453
    assert recovery.measurements["max_celsius"] == 12.0
    assert m.open_breaches == frozenset()


def test_breach_is_open_during_the_episode() -> None:
    m = monitor(DeviceKind.FRIDGE)
    feed(m, sample(failing_fridge, 0, 300))
    assert m.open_breaches == frozenset({"cold_holding"})


def test_six_degrees_is_fine_in_cn_and_a_breach_in_us() -> None:
    steady = sample(lambda _: 6.0, 0, 120)
    assert feed(monitor(DeviceKind.FRIDGE, CN), steady) == []
    events = feed(monitor(DeviceKind.FRIDGE, US), steady)
    assert summary(events) == [("breach", "cold_holding", 1)]
    assert minutes_of(events[0].detected_at) == 30
    assert "above 5.0 °C" in events[0].detail


def test_a_short_warm_spell_below_tolerance_raises_nothing() -> None:
    m = monitor(DeviceKind.FRIDGE)
    curve = lambda t: 10.0 if 60 <= t < 85 else compressor(t)  # noqa: E731
    assert feed(m, sample(curve, 0, 180)) == []


def test_a_stuck_warm_probe_breaches_from_tick() -> None:
    m = monitor(DeviceKind.FRIDGE)
    feed(m, sample(compressor, 0, 60))
    feed(m, [(at(60), 12.0)])
    assert m.tick(at(89)) == []
    events = m.tick(at(90))
    assert sorted(summary(events)) == [
        ("breach", "cold_holding", 1),
        ("breach", "probe_silent", 2),
    ]
    assert m.open_breaches == {"cold_holding", "probe_silent"}


# --------------------------------------------------------------------------- frozen


def test_freezer_defrost_raises_nothing_in_either_profile() -> None:
    for profile in (CN, US):
        m = monitor(DeviceKind.FREEZER, profile)
        assert feed(m, sample(freezer, 0, 24 * 60, 2)) == []


def test_failing_freezer_breaches_class_1() -> None:
    m = monitor(DeviceKind.FREEZER)
    events = feed(m, sample(lambda t: freezer(t, failing_from=60), 0, 8 * 60))
    assert summary(events) == [("breach", "frozen", 1)]
    # −12 °C is passed 100 min into the failure: first reading above at 161, 60 min tolerance.
    assert minutes_of(events[0].started_at) == 161
    assert minutes_of(events[0].detected_at) == 221
    assert events[0].detail.startswith("freezer above -12.0 °C")


def test_minus_15_is_frozen_in_cn_but_not_in_us() -> None:
    steady = sample(lambda _: -15.0, 0, 180, 5)
    assert feed(monitor(DeviceKind.FREEZER, CN), steady) == []
    events = feed(monitor(DeviceKind.FREEZER, US), steady)
    assert summary(events) == [("breach", "frozen", 1)]
    assert minutes_of(events[0].detected_at) == 60


# --------------------------------------------------------------------------- hot holding


def test_hot_holding_with_lid_openings_raises_nothing() -> None:
    m = monitor(DeviceKind.HOT_HOLDING)
    assert feed(m, sample(lambda t: hot_holding(t, math.inf, 0), 0, 6 * 60)) == []


def test_hot_holding_drop_then_danger_zone_in_cn() -> None:
    m = monitor(DeviceKind.HOT_HOLDING)
    curve = lambda t: hot_holding(t, fail_at=120, fail_for=150)  # noqa: E731
    events = feed(m, sample(curve, 0, 330))
    assert summary(events) == [
        ("breach", "hot_holding", 2),
        ("breach", "danger_zone", 1),
        ("recovery", "hot_holding", 2),
        ("recovery", "danger_zone", 1),
    ]
    hot, danger, hot_back, danger_back = events
    # Below 60 °C from 126 min (65 − 1 °C per minute).
    assert minutes_of(hot.started_at) == 126
    assert minutes_of(hot.detected_at) == 156
    assert minutes_of(danger.started_at) == 126
    assert minutes_of(danger.detected_at) == 126 + 120
    assert "reheat to ≥ 70 °C or discard" in danger.detail
    assert danger.measurements["limit_minutes"] == 120
    assert hot_back.detected_at == danger_back.detected_at
    assert minutes_of(hot_back.detected_at) == 270 + 10
    assert m.open_breaches == frozenset()


def test_danger_zone_allows_4_hours_in_us() -> None:
    curve = lambda t: hot_holding(t, fail_at=60, fail_for=300)  # noqa: E731
    m = monitor(DeviceKind.HOT_HOLDING, US)
    events = feed(m, sample(curve, 0, 200))
    assert summary(events) == [("breach", "hot_holding", 2)]  # 2 h in: no danger zone yet
    events = feed(m, sample(curve, 200, 360))
    assert summary(events) == [("breach", "danger_zone", 1)]
    # Below 57 °C from 69 min; 4 h.
    assert minutes_of(events[0].started_at) == 69
    assert minutes_of(events[0].detected_at) == 69 + 240
    assert "discard" in events[0].detail


# --------------------------------------------------------------------------- cooking


@pytest.mark.parametrize("profile", [CN, US], ids=["cn", "us"])
def test_cooking_run_reaching_75_raises_nothing(profile: JurisdictionProfile) -> None:
    m = monitor(DeviceKind.CORE_PROBE, profile)
    readings = sample(cooking(75.0), 0, 90, 1 / 6)  # every 10 s
    assert max(v for _, v in readings) == pytest.approx(75.0)
    events = feed(m, readings)
    events += m.tick(at(6 * 60))  # hours later: no cooling run was tracked for the pulled probe
    assert events == []


@pytest.mark.parametrize("profile", [CN, US], ids=["cn", "us"])
def test_cooking_run_peaking_at_65_is_class_1(profile: JurisdictionProfile) -> None:
    m = monitor(DeviceKind.CORE_PROBE, profile)
    readings = sample(cooking(65.0), 0, 90, 1 / 6)
    assert 64.0 < max(v for _, v in readings) <= 65.0
    events = feed(m, readings)
    assert summary(events) == [("breach", "core_temperature", 1)]
    breach = events[0]
    # Above 40 °C from 7 min; pulled at 40 min, at or below 40 °C from 40.5; 10 min.
    assert minutes_of(breach.started_at) == pytest.approx(7.0)
    assert 50.0 <= minutes_of(breach.detected_at) < 51.0
    assert breach.measurements["peak_celsius"] == pytest.approx(65.0)
    assert "not reached" in breach.detail
    assert m.open_breaches == {"core_temperature"}
    # The next run that reaches the target closes it.
    later = [
        (moment + timedelta(hours=2), value)
        for moment, value in sample(cooking(75.0), 0, 90, 1 / 6)
    ]
    events = feed(m, later)
    assert summary(events) == [("recovery", "core_temperature", 1)]
    assert events[0].started_at == breach.started_at
    assert m.open_breaches == frozenset()


def test_us_needs_the_core_held_for_15_seconds() -> None:
    spike = [60.0, 66.0, 70.0, 73.5, 74.2, 73.8, 72.0, 65.0] + [30.0] * 70
    readings = [(at(i / 6), v) for i, v in enumerate(spike)]  # every 10 s, one reading ≥ 74
    assert feed(monitor(DeviceKind.CORE_PROBE, CN), readings) == []
    events = feed(monitor(DeviceKind.CORE_PROBE, US), readings)
    assert summary(events) == [("breach", "core_temperature", 1)]
    assert events[0].measurements["held_seconds"] == 0
    assert events[0].measurements["hold_seconds"] == 15


def test_a_probe_that_stops_mid_run_is_judged_by_tick() -> None:
    m = monitor(DeviceKind.CORE_PROBE)
    feed(m, sample(cooking(65.0), 0, 30, 1 / 6))
    assert m.tick(at(35)) == []
    events = m.tick(at(41))
    assert summary(events) == [("breach", "core_temperature", 1)]


# --------------------------------------------------------------------------- cooling


@pytest.mark.parametrize("profile", [CN, US], ids=["cn", "us"])
def test_cooling_that_meets_both_stages_raises_nothing(profile: JurisdictionProfile) -> None:
    m = monitor(DeviceKind.CORE_PROBE, profile)
    events = feed(m, sample(newton_cooling(80.0, 3.0, 60.0), 0, 8 * 60))
    events += m.tick(at(10 * 60))
    assert events == []


def test_cooling_that_stalls_at_30_breaches_stage_1() -> None:
    m = monitor(DeviceKind.CORE_PROBE)
    events = feed(m, sample(newton_cooling(80.0, 30.0, 30.0), 0, 4 * 60))
    assert summary(events) == [("breach", "cooling", 1)]
    breach = events[0]
    # The last reading at or above 60 °C is at 15 min; 21 °C is due 2 h later.
    assert minutes_of(breach.started_at) == 15
    assert minutes_of(breach.detected_at) == 136
    assert breach.measurements["stage"] == 1
    assert 30.0 < breach.measurements["lowest_celsius"] < 31.0
    assert "21.0 °C within 120 min" in breach.detail


def test_cooling_stalled_at_12_breaches_stage_2_in_us() -> None:
    m = monitor(DeviceKind.CORE_PROBE, US)
    events = feed(m, sample(newton_cooling(80.0, 12.0, 30.0), 0, 8 * 60))
    assert summary(events) == [("breach", "cooling", 1)]
    breach = events[0]
    # Last reading at or above 57 °C at 12 min; 5 °C due within a total of 6 h.
    assert minutes_of(breach.started_at) == 12
    assert minutes_of(breach.detected_at) == 12 + 360 + 1
    assert breach.measurements["stage"] == 2


def test_cooling_deadline_passes_in_silence_via_tick() -> None:
    m = monitor(DeviceKind.CORE_PROBE)
    feed(m, sample(newton_cooling(80.0, 30.0, 30.0), 0, 60))
    assert m.tick(at(135)) == []
    assert summary(m.tick(at(136))) == [("breach", "cooling", 1)]


def test_a_failed_cooling_recovers_with_the_next_good_run() -> None:
    m = monitor(DeviceKind.CORE_PROBE)
    stalled = newton_cooling(80.0, 30.0, 30.0)
    good = newton_cooling(80.0, 3.0, 60.0)
    events = feed(m, sample(stalled, 0, 200))
    events += feed(m, [(at(200 + t), good(t)) for t in range(0, 300)])
    assert summary(events) == [("breach", "cooling", 1), ("recovery", "cooling", 1)]
    assert events[1].started_at == events[0].started_at


# --------------------------------------------------------------------------- dishwasher


def test_dishwasher_good_and_bad_cycles() -> None:
    m = monitor(DeviceKind.DISHWASHER)
    cycles = [(10.0, 86.0), (20.0, 80.0), (30.0, 80.0), (40.0, 80.0), (50.0, 86.0)]
    events = feed(m, sample(dishwasher(cycles), 0, 60, 1 / 12))  # every 5 s
    assert summary(events) == [
        ("breach", "dishwasher_rinse", 2),
        ("recovery", "dishwasher_rinse", 2),
    ]
    breach, recovery = events
    assert minutes_of(breach.started_at) == 20  # the wash (62 °C) starts the cycle
    assert breach.measurements["peak_celsius"] == 80.0
    assert "final rinse 85.0 °C held 40 s" in breach.detail
    assert recovery.started_at == breach.started_at
    assert 50 < minutes_of(recovery.detected_at) < 56


def test_dishwasher_at_83_passes_in_us_and_fails_in_cn() -> None:
    readings = sample(dishwasher([(5.0, 83.0)]), 0, 15, 1 / 12)
    assert feed(monitor(DeviceKind.DISHWASHER, US), readings) == []
    events = feed(monitor(DeviceKind.DISHWASHER, CN), readings)
    assert summary(events) == [("breach", "dishwasher_rinse", 2)]


def test_dishwasher_rinse_too_short_fails_the_hold_in_cn() -> None:
    readings = sample(dishwasher([(5.0, 86.0)], rinse_seconds=30), 0, 15, 1 / 12)
    events = feed(monitor(DeviceKind.DISHWASHER, CN), readings)
    assert summary(events) == [("breach", "dishwasher_rinse", 2)]
    assert 20 <= events[0].measurements["held_seconds"] < 40


@pytest.mark.parametrize(
    ("profile", "good", "bad"),
    [(CN, 300.0, 200.0), (US, 75.0, 120.0), (US, 75.0, 30.0)],
    ids=["cn-weak", "us-strong", "us-weak"],
)
def test_chlorine_out_of_range(profile: JurisdictionProfile, good: float, bad: float) -> None:
    m = monitor(DeviceKind.DISHWASHER, profile)
    curve = lambda t: bad if 60 <= t < 80 else good  # noqa: E731
    events: list[RuleEvent] = []
    for moment, value in sample(curve, 0, 120):
        events += m.observe(Observation(DEVICE, moment, {"Temperature": 30.0, "Chlorine": value}))
    assert summary(events) == [
        ("breach", "chemical_sanitising", 2),
        ("recovery", "chemical_sanitising", 2),
    ]
    assert minutes_of(events[0].detected_at) == 65
    assert minutes_of(events[1].detected_at) == 90
    assert "chlorine outside" in events[0].detail


def test_a_brief_chlorine_dip_raises_nothing() -> None:
    m = monitor(DeviceKind.DISHWASHER)
    curve = lambda t: 200.0 if 60 <= t < 63 else 300.0  # noqa: E731
    assert feed(m, sample(curve, 0, 120), key="Chlorine") == []


# --------------------------------------------------------------------------- disinfection


def test_disinfection_cabinet_cycles() -> None:
    m = monitor(DeviceKind.DISINFECTION_CABINET)
    curve = cabinet([(0.0, 25.0), (120.0, 10.0), (240.0, 25.0)])
    events = feed(m, sample(curve, 0, 360))
    assert summary(events) == [("breach", "disinfection", 2), ("recovery", "disinfection", 2)]
    assert minutes_of(events[0].started_at) == 123  # first reading above 50 °C
    assert "125.0 °C" in events[0].detail and "120.0 °C held 20 min" in events[0].detail


# --------------------------------------------------------------------------- sample fridge, room


def test_sample_fridge_failure_is_class_2_in_cn_and_not_judged_in_us() -> None:
    readings = sample(failing_fridge, 0, 600)
    cn_events = feed(monitor(DeviceKind.SAMPLE_FRIDGE, CN), readings)
    assert summary(cn_events) == [
        ("breach", "sample_retention", 2),
        ("recovery", "sample_retention", 2),
    ]
    assert cn_events[0].detail.startswith("sample fridge above 8.0 °C")
    assert feed(monitor(DeviceKind.SAMPLE_FRIDGE, US), readings) == []


def test_room_probe_is_only_watched_for_silence() -> None:
    m = monitor(DeviceKind.ROOM)
    assert feed(m, sample(lambda _: 40.0, 0, 120)) == []
    assert summary(m.tick(at(150))) == [("breach", "probe_silent", 2)]


# --------------------------------------------------------------------------- probe silent


def test_probe_silent_via_tick_then_recovery_on_next_reading() -> None:
    m = monitor(DeviceKind.FRIDGE)
    feed(m, sample(compressor, 0, 61))
    assert m.tick(at(60 + 29)) == []
    events = m.tick(at(60 + 30))
    assert summary(events) == [("breach", "probe_silent", 2)]
    assert minutes_of(events[0].started_at) == 60
    assert events[0].measurements["minutes_silent"] == 30
    assert m.tick(at(100)) == []  # one breach, no repeats
    assert m.open_breaches == {"probe_silent"}
    events = feed(m, [(at(110), 3.0)])
    assert summary(events) == [("recovery", "probe_silent", 2)]
    assert minutes_of(events[0].started_at) == 60
    assert minutes_of(events[0].detected_at) == 110
    assert m.open_breaches == frozenset()


def test_a_probe_that_never_reported_is_silent_from_the_first_tick() -> None:
    m = monitor(DeviceKind.FRIDGE)
    assert m.tick(at(0)) == []
    assert m.tick(at(20)) == []
    events = m.tick(at(30))
    assert summary(events) == [("breach", "probe_silent", 2)]
    assert events[0].started_at == T0


def test_idle_cycle_devices_are_silent_only_after_a_day() -> None:
    m = monitor(DeviceKind.DISHWASHER)
    feed(m, [(at(0), 30.0)])
    assert m.tick(at(23 * 60)) == []
    assert summary(m.tick(at(24 * 60))) == [("breach", "probe_silent", 2)]


# --------------------------------------------------------------------------- order and input


def test_out_of_order_and_repeated_readings_are_ignored() -> None:
    m = monitor(DeviceKind.FRIDGE)
    feed(m, sample(lambda _: 12.0, 0, 20))
    before = m.to_state()
    assert m.observe(Observation(DEVICE, at(5), {"Temperature": 30.0})) == []
    assert m.observe(Observation(DEVICE, at(19), {"Temperature": 30.0})) == []
    assert m.tick(at(10)) == []
    assert m.to_state() == before
    events = feed(m, sample(lambda _: 12.0, 20, 40))
    assert summary(events) == [("breach", "cold_holding", 1)]
    assert minutes_of(events[0].detected_at) == 30


def test_readings_of_another_device_or_without_timezone_are_refused() -> None:
    m = monitor(DeviceKind.FRIDGE)
    with pytest.raises(Invalid, match="other"):
        m.observe(Observation("other", at(0), {"Temperature": 3.0}))
    with pytest.raises(Invalid, match="timezone"):
        m.observe(Observation(DEVICE, datetime(2026, 11, 25), {"Temperature": 3.0}))


def test_readings_in_other_time_zones_are_compared_in_utc() -> None:
    shanghai = timezone(timedelta(hours=8))
    m = monitor(DeviceKind.FRIDGE)
    feed(m, [(at(10), 3.0)])
    earlier = at(5).astimezone(shanghai)
    assert m.observe(Observation(DEVICE, earlier, {"Temperature": 30.0})) == []
    assert json.loads(json.dumps(m.to_state()))["silence"]["last_seen"].endswith("+00:00")


# --------------------------------------------------------------------------- state round trip


def restored(m: DeviceMonitor, profile: JurisdictionProfile) -> DeviceMonitor:
    return DeviceMonitor.from_state(json.loads(json.dumps(m.to_state())), profile)


def test_round_trip_mid_episode_gives_the_same_future() -> None:
    readings = sample(failing_fridge, 0, 600)
    reference = monitor(DeviceKind.FRIDGE)
    resumed = monitor(DeviceKind.FRIDGE)
    split = 230  # inside the episode, before the breach
    feed(reference, readings[:split])
    feed(resumed, readings[:split])
    resumed = restored(resumed, CN)
    assert resumed.to_state() == reference.to_state()
    assert feed(resumed, readings[split:]) == feed(reference, readings[split:])


def test_state_of_another_profile_or_format_is_refused() -> None:
    state = monitor(DeviceKind.FRIDGE).to_state()
    with pytest.raises(Invalid, match="profile"):
        DeviceMonitor.from_state(state, US)
    with pytest.raises(Invalid, match="format"):
        DeviceMonitor.from_state({**state, "format": "other/9"}, CN)
    with pytest.raises(Invalid, match="malformed"):
        DeviceMonitor.from_state({k: v for k, v in state.items() if k != "silence"}, CN)
    broken: dict[str, Any] = json.loads(json.dumps(state))
    broken["rules"]["cold_holding"]["last_at"] = 42
    with pytest.raises(Invalid, match="malformed"):
        DeviceMonitor.from_state(broken, CN)


# Value ranges that make each kind of probe cross its limits now and then.
RANGES = {
    DeviceKind.FRIDGE: (-2.0, 14.0),
    DeviceKind.FREEZER: (-26.0, 0.0),
    DeviceKind.HOT_HOLDING: (30.0, 75.0),
    DeviceKind.CORE_PROBE: (0.0, 90.0),
    DeviceKind.DISHWASHER: (20.0, 95.0),
    DeviceKind.DISINFECTION_CABINET: (20.0, 130.0),
    DeviceKind.SAMPLE_FRIDGE: (-2.0, 14.0),
    DeviceKind.ROOM: (10.0, 35.0),
}

steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=50 * 60),  # seconds to the next reading
        st.floats(min_value=-1.0, max_value=1.0),  # step of the random walk (share of range)
        st.one_of(st.none(), st.integers(min_value=0, max_value=60 * 60)),  # a tick after it
        st.floats(min_value=0.0, max_value=320.0),  # chlorine
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(list(DeviceKind)),
    profile=st.sampled_from([CN, US]),
    start=st.floats(min_value=0.0, max_value=1.0),
    walk=steps,
    split=st.integers(min_value=0, max_value=120),
)
def test_round_trip_anywhere_gives_the_same_events(
    kind: DeviceKind,
    profile: JurisdictionProfile,
    start: float,
    walk: list[tuple[int, float, int | None, float]],
    split: int,
) -> None:
    low, high = RANGES[kind]
    calls: list[tuple[str, Any]] = []
    moment, share = T0, start
    for gap, step, tick_after, chlorine in walk:
        moment += timedelta(seconds=gap)
        share = min(1.0, max(0.0, share + step * 0.3))
        value = low + share * (high - low)
        calls.append(
            ("observe", Observation(DEVICE, moment, {"Temperature": value, "Chlorine": chlorine}))
        )
        if tick_after is not None:
            calls.append(("tick", moment + timedelta(seconds=tick_after)))
    split = min(split, len(calls))

    def play(m: DeviceMonitor, part: Sequence[tuple[str, Any]]) -> list[RuleEvent]:
        events: list[RuleEvent] = []
        for name, argument in part:
            events += m.observe(argument) if name == "observe" else m.tick(argument)
        return events

    reference = monitor(kind, profile)
    before = play(reference, calls[:split])
    after = play(reference, calls[split:])

    resumed = monitor(kind, profile)
    assert play(resumed, calls[:split]) == before
    resumed = restored(resumed, profile)
    assert play(resumed, calls[split:]) == after
    assert resumed.to_state() == reference.to_state()
    assert resumed.open_breaches == reference.open_breaches
    # Phases alternate per rule: never two breaches of a rule without a recovery between.
    open_rules: set[str] = set()
    for event in before + after:
        if event.phase == "breach":
            assert event.rule not in open_rules
            open_rules.add(event.rule)
        else:
            assert event.rule in open_rules
            open_rules.remove(event.rule)
    assert open_rules == reference.open_breaches
