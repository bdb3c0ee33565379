"""Kitchen probe temperature curves: pure, seeded functions of simulated time.

A curve is built from a seed, a jurisdiction profile and any faults, and answers
``values(t)`` for ``t`` in seconds since the Unix epoch (UTC). The answer depends
on nothing else: the same seed gives the same reading for the same instant in
every process, so a restarted simulator carries on the same kitchen day. Random
choices (cycle phases, when doors open, how hot a run peaks) come from
``random.Random`` seeded with the curve seed and the hour or day in question;
sensor noise (a triangular ±``noise`` °C) comes from a hash of the seed and the
instant, and readings are rounded to the 0.1 °C a probe resolves.

Kitchens work in local time: ``cn`` kitchens on UTC+8, ``us`` kitchens on UTC−5.
Service hours are 10:30–13:30 and 17:00–20:30; prep hours 08:00–10:30,
13:30–17:00 and 20:30–22:00 (cleaning); the kitchen is closed at night.

Faults (``--faults``) are named by the constants below; each starts at its
``Fault.onset`` (an instant) and is described in the docstring of the curve it
affects. ``SILENT_PROBE`` affects any curve: see :meth:`Curve.silent`.
"""

from __future__ import annotations

import functools
import math
import random
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MINUTE = 60.0
HOUR = 3_600.0
DAY = 86_400.0

LOCAL_UTC_OFFSET_HOURS: dict[str, float] = {"cn": 8.0, "us": -5.0}

FAILING_FRIDGE = "failing_fridge"
HOT_HOLDING_DROP = "hot_holding_drop"
COOLING_STALL = "cooling_stall"
UNDERCOOKED_RUN = "undercooked_run"
COLD_RINSE = "cold_rinse"
SILENT_PROBE = "silent_probe"

FAULT_DESCRIPTIONS: dict[str, str] = {
    FAILING_FRIDGE: "compressor failing: drifts to ~12 °C over 3 h, 3 h there, repaired over 1 h",
    HOT_HOLDING_DROP: "heating element fails: falls toward 40 °C for 2.5 h, then back in 30 min",
    COOLING_STALL: "the next cooling run stalls near 30 °C (left on the counter)",
    UNDERCOOKED_RUN: "the next cooking run peaks at ~65 °C",
    COLD_RINSE: "weak booster heater for 12 h: final rinse only ~78 °C",
    SILENT_PROBE: "the probe sends nothing for 2 h",
}
SILENCE = 2 * HOUR
"""How long a ``SILENT_PROBE`` stays silent."""

_SERVICE = ((10.5 * HOUR, 13.5 * HOUR), (17.0 * HOUR, 20.5 * HOUR))
_PREP = ((8.0 * HOUR, 10.5 * HOUR), (13.5 * HOUR, 17.0 * HOUR), (20.5 * HOUR, 22.0 * HOUR))

_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15


@dataclass(frozen=True)
class Measurement:
    """One value of a reading: EPCIS sensor type, number, UN/ECE Rec 20 unit."""

    type: str
    value: float
    uom: str

    def wire(self) -> dict[str, str | float]:
        return {"type": self.type, "value": self.value, "uom": self.uom}


@dataclass(frozen=True)
class Fault:
    """A fault of one probe's physical world, from ``onset`` (seconds since the epoch)."""

    name: str
    onset: float


# --------------------------------------------------------------------------- helpers


def _mix(*parts: int) -> int:
    """SplitMix64 over the parts: a fast, stable hash (unlike ``hash()``, never salted)."""
    state = _GOLDEN
    for part in parts:
        state = ((state ^ (part & _MASK)) + _GOLDEN) & _MASK
        z = ((state ^ (state >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        state = z ^ (z >> 31)
    return state


def _rng(*parts: int) -> random.Random:
    return random.Random(_mix(*parts))


def _noise(seed: int, t: float, scale: float) -> float:
    """Triangular noise in [-scale, scale], a pure function of seed and instant (to 1 ms)."""
    ms = round(t * 1000)
    return ((_mix(seed, ms, 1) + _mix(seed, ms, 2)) / 2.0**64 - 1.0) * scale


def _local(t: float, offset_hours: float) -> tuple[int, float]:
    """The local day number and the seconds since local midnight."""
    local = t + offset_hours * HOUR
    day = math.floor(local / DAY)
    return day, local - day * DAY


def _utc(day: int, time_of_day: float, offset_hours: float) -> float:
    return day * DAY + time_of_day - offset_hours * HOUR


def _within(time_of_day: float, windows: Sequence[tuple[float, float]]) -> bool:
    return any(start <= time_of_day < end for start, end in windows)


def service_level(time_of_day: float) -> float:
    """0 outside service, 1 in service, ramping over the 30 minutes either side."""
    level = 0.0
    ramp = 30 * MINUTE
    for start, end in _SERVICE:
        inside = min((time_of_day - (start - ramp)) / ramp, ((end + ramp) - time_of_day) / ramp)
        level = max(level, min(1.0, inside))
    return level


def _kitchen_air(time_of_day: float) -> float:
    """What a probe lying in the kitchen reads: 23 °C, 26 °C in full service."""
    return 23.0 + 3.0 * service_level(time_of_day)


def _envelope(dt: float, ramp: float, hold: float, recover: float) -> float:
    """0 before, rising linearly to 1 over ``ramp``, 1 for ``hold``, back to 0 over ``recover``."""
    if dt <= 0:
        return 0.0
    if dt < ramp:
        return dt / ramp
    dt -= ramp
    if dt < hold:
        return 1.0
    dt -= hold
    if dt < recover:
        return 1.0 - dt / recover
    return 0.0


def _compressor(t: float, period: float, phase: float, low: float, high: float) -> float:
    """A refrigeration cycle: 65 % of the period the compressor is off and the air warms
    (fast at first, then levelling), 35 % it runs and pulls the air down quickly."""
    u = ((t + phase) % period) / period
    span = high - low
    if u < 0.65:
        x = u / 0.65
        return low + span * (1.0 - math.exp(-2.0 * x)) / (1.0 - math.exp(-2.0))
    x = (u - 0.65) / 0.35
    return high - span * (1.0 - math.exp(-3.0 * x)) / (1.0 - math.exp(-3.0))


# Door openings (or food reloads): (start instant, seconds open, amplitude °C).
_Opening = tuple[float, float, float]


@functools.lru_cache(maxsize=1 << 16)
def _hourly_openings(
    seed: int,
    hour: int,
    offset_hours: float,
    service: tuple[int, int],
    prep: tuple[int, int],
    amplitude: tuple[float, float],
) -> tuple[_Opening, ...]:
    """The openings in one local hour (``hour`` counts local hours since the epoch)."""
    midpoint = (hour * HOUR + HOUR / 2) % DAY
    if _within(midpoint, _SERVICE):
        low, high = service
    elif _within(midpoint, _PREP):
        low, high = prep
    else:
        return ()
    rng = _rng(seed, hour, 0xD00F)
    begin = hour * HOUR - offset_hours * HOUR
    return tuple(
        sorted(
            (begin + rng.uniform(0, HOUR), rng.uniform(20, 60), rng.uniform(*amplitude))
            for _ in range(rng.randint(low, high))
        )
    )


def _opening_rise(t: float, openings: Sequence[_Opening], tau: float) -> float:
    """The largest lift any opening gives at ``t``: rising while open, then decaying."""
    best = 0.0
    for start, open_for, amplitude in openings:
        dt = t - start
        if dt < 0:
            continue
        rise = (
            amplitude * math.sqrt(dt / open_for)
            if dt < open_for
            else amplitude * math.exp(-(dt - open_for) / tau)
        )
        best = max(best, rise)
    return best


# --------------------------------------------------------------------------- curves


class Curve(ABC):
    """A probe's reading as a pure function of simulated time (seconds since the epoch)."""

    kind: str = ""
    noise: float = 0.15

    def __init__(self, seed: int, profile: str = "cn", faults: Sequence[Fault] = ()) -> None:
        if profile not in LOCAL_UTC_OFFSET_HOURS:
            raise ValueError(f"unknown profile {profile!r}")
        self.seed = seed
        self.profile = profile
        self.offset = LOCAL_UTC_OFFSET_HOURS[profile]
        self.faults = {fault.name: fault for fault in faults}
        self._params = random.Random(seed)

    @abstractmethod
    def temperature(self, t: float) -> float:
        """The true temperature at ``t``, before sensor noise and rounding."""

    def values(self, t: float) -> tuple[Measurement, ...]:
        """What the probe reports at ``t``: its temperature, noisy, to 0.1 °C."""
        value = round(self.temperature(t) + _noise(self.seed, t, self.noise), 1) + 0.0
        return (Measurement("Temperature", value, "CEL"),)

    def silent(self, t: float) -> bool:
        """Fault ``SILENT_PROBE``: nothing is sent for ``SILENCE`` (2 h) from the onset
        (flat battery, Wi-Fi out); afterwards the probe reports as before."""
        fault = self.faults.get(SILENT_PROBE)
        return fault is not None and fault.onset <= t < fault.onset + SILENCE

    def _openings_around(
        self, t: float, service: tuple[int, int], prep: tuple[int, int], amp: tuple[float, float]
    ) -> list[_Opening]:
        hour = math.floor((t + self.offset * HOUR) / HOUR)
        openings: list[_Opening] = []
        for h in (hour - 1, hour):
            openings.extend(_hourly_openings(self.seed, h, self.offset, service, prep, amp))
        return openings


class Fridge(Curve):
    """Reach-in fridge, air probe.

    Compressor cycles between 2 and 5 °C (``us``: 1 and 4 °C, under the 5 °C
    limit), each fridge shifted by up to ±0.2 °C, with a period of 35–45 min:
    a slow, levelling rise while the compressor is off, a quick pull-down while
    it runs. Door openings: 3–5 an hour in service, 1–2 in prep hours, none at
    night; each lifts the air 4–7 °C while the door is open (20–60 s) and then
    decays with a 100 s time constant, so a spike lasts a few minutes.

    Fault ``FAILING_FRIDGE``: from the onset the compressor loses capacity: the
    cycle's middle drifts linearly to about 12 °C over 3 h while the cycle
    flattens, stays there 3 h, then the fridge is repaired and pulls down over
    1 h. The air is above 8 °C for about 4.5 h.
    """

    kind = "fridge"
    bands: dict[str, tuple[float, float]] = {"cn": (2.0, 5.0), "us": (1.0, 4.0)}
    door_service = (3, 5)
    door_prep = (1, 2)
    door_amplitude = (4.0, 7.0)

    def __init__(self, seed: int, profile: str = "cn", faults: Sequence[Fault] = ()) -> None:
        super().__init__(seed, profile, faults)
        self.period = self._params.uniform(35, 45) * MINUTE
        self.phase = self._params.uniform(0, self.period)
        low, high = self.bands[profile]
        shift = self._params.uniform(-0.2, 0.2)
        self.low, self.high = low + shift, high + shift

    def temperature(self, t: float) -> float:
        cycle = _compressor(t, self.period, self.phase, self.low, self.high)
        fault = self.faults.get(FAILING_FRIDGE)
        if fault is not None:
            failing = _envelope(t - fault.onset, 3 * HOUR, 3 * HOUR, 1 * HOUR)
            middle = (self.low + self.high) / 2
            cycle = middle + (cycle - middle) * (1 - 0.7 * failing) + (12.0 - middle) * failing
        return cycle + self._door(t)

    def _door(self, t: float) -> float:
        openings = self._openings_around(t, self.door_service, self.door_prep, self.door_amplitude)
        return _opening_rise(t, openings, 100.0)


@functools.lru_cache(maxsize=1 << 12)
def _sample_fridge_openings(seed: int, day: int, offset_hours: float) -> tuple[_Opening, ...]:
    rng = _rng(seed, day, 0x5A3)
    openings: list[_Opening] = []
    for when, (low, high) in ((9.5 * HOUR, (1, 1)), (13.67 * HOUR, (1, 2)), (20.67 * HOUR, (1, 2))):
        for _ in range(rng.randint(low, high)):
            start = _utc(day, when + rng.uniform(-10, 10) * MINUTE, offset_hours)
            openings.append((start, rng.uniform(20, 50), rng.uniform(2.0, 3.3)))
    return tuple(sorted(openings))


class SampleFridge(Fridge):
    """Sample-retention fridge (留样柜), air probe: like a fridge, cycling 1.8–4.2 °C
    (``us``: 1–4 °C). Its door opens only when samples go in after each meal
    (about 13:40 and 20:40 local, once or twice) and when 48-hour-old samples are
    cleared (about 09:30): spikes of 2–3.3 °C for a few minutes, so it always
    reads within 0–8 °C. ``FAILING_FRIDGE`` works as for a fridge."""

    kind = "sample_fridge"
    bands = {"cn": (1.8, 4.2), "us": (1.0, 4.0)}

    def _door(self, t: float) -> float:
        day, _ = _local(t, self.offset)
        openings = [
            *_sample_fridge_openings(self.seed, day - 1, self.offset),
            *_sample_fridge_openings(self.seed, day, self.offset),
        ]
        return _opening_rise(t, openings, 100.0)


@functools.lru_cache(maxsize=1 << 12)
def _defrosts(seed: int, day: int, offset_hours: float, shift: float) -> tuple[float, ...]:
    return tuple(_utc(day, hour * HOUR + shift, offset_hours) for hour in (3.0, 11.0, 19.0))


class Freezer(Curve):
    """Upright freezer, product-simulant (glycol-buffered) probe.

    Compressor cycles between −20 and −17 °C (``us``: −24 and −21 °C, under
    the −18 °C industry practice) with a period of 30–40 min. Defrost every 8 h
    (local 03:00, 11:00, 19:00, each freezer shifted by up to 40 min): the
    heater lifts the buffered probe to about −14 °C (``us``: −16 °C) over 10 min,
    it holds there 8 min and recovers over 20 min, so readings stay at or below
    −12.6 °C (``us``: above −18 °C for about 17 min per defrost only). Door
    openings in service hours add 1–2.5 °C for a few minutes.
    """

    kind = "freezer"
    noise = 0.2
    # (low, high, defrost peak) by profile
    bands: dict[str, tuple[float, float, float]] = {
        "cn": (-20.0, -17.0, -14.0),
        "us": (-24.0, -21.0, -16.0),
    }

    def __init__(self, seed: int, profile: str = "cn", faults: Sequence[Fault] = ()) -> None:
        super().__init__(seed, profile, faults)
        self.period = self._params.uniform(30, 40) * MINUTE
        self.phase = self._params.uniform(0, self.period)
        self.shift = self._params.uniform(0, 40) * MINUTE

    def temperature(self, t: float) -> float:
        low, high, peak = self.bands[self.profile]
        cycle = _compressor(t, self.period, self.phase, low, high)
        day, _ = _local(t, self.offset)
        defrost = 0.0
        for d in (day - 1, day):
            for start in _defrosts(self.seed, d, self.offset, self.shift):
                defrost = max(defrost, _envelope(t - start, 10 * MINUTE, 8 * MINUTE, 20 * MINUTE))
        cycle += (peak - cycle) * defrost
        openings = self._openings_around(t, (2, 4), (0, 1), (1.0, 2.5))
        return min(cycle + _opening_rise(t, openings, 150.0), peak + 1.4)


class HotHolding(Curve):
    """Hot-holding unit (bain-marie at the pass), food probe, about 65 °C.

    Thermostat swing of ±0.8 °C with a 15–25 min period. In service hours food
    is added 2–4 times an hour (0–1 in prep hours): a dip of 2–3 °C recovering
    with a 4 min time constant; it never reads below about 61 °C.

    Fault ``HOT_HOLDING_DROP``: at the onset the heating element fails: the food
    falls toward 40 °C with a 1 h time constant for 2.5 h (below 60 °C after
    13 min, about 42 °C at the end), then the element is fixed and the food is
    back above 60 °C within 30 min.
    """

    kind = "hot_holding"
    noise = 0.2

    def __init__(self, seed: int, profile: str = "cn", faults: Sequence[Fault] = ()) -> None:
        super().__init__(seed, profile, faults)
        self.period = self._params.uniform(15, 25) * MINUTE
        self.phase = self._params.uniform(0, 2 * math.pi)
        self.setpoint = self._params.uniform(65.0, 66.0)

    def temperature(self, t: float) -> float:
        swing = 0.8 * math.sin(2 * math.pi * t / self.period + self.phase)
        reloads = self._openings_around(t, (2, 4), (0, 1), (2.0, 3.0))
        normal = self.setpoint + swing - _opening_rise(t, reloads, 240.0)
        fault = self.faults.get(HOT_HOLDING_DROP)
        if fault is None:
            return normal
        dt = t - fault.onset
        failed_for = 2.5 * HOUR
        if dt < 0 or dt >= failed_for + 30 * MINUTE:
            return normal
        deepest = 25.0 * (1 - math.exp(-failed_for / HOUR))
        drop = (
            25.0 * (1 - math.exp(-dt / HOUR))
            if dt < failed_for
            else deepest * (1 - (dt - failed_for) / (30 * MINUTE))
        )
        return normal - drop


@dataclass(frozen=True)
class _Run:
    kind: Literal["cook", "cool"]
    start: float
    peak: float
    heat: float


_COOK_TIMES = (10 + 40 / 60, 11.5, 12 + 20 / 60, 17 + 50 / 60, 18 + 40 / 60, 19.5)
_COOL_TIME = 13.0
_COOL_RUN = 4.5 * HOUR
_HOLD = 3 * MINUTE


@functools.lru_cache(maxsize=1 << 12)
def _core_runs(seed: int, day: int, offset_hours: float) -> tuple[_Run, ...]:
    rng = _rng(seed, day, 0xC0C0)
    runs = [
        _Run(
            "cook",
            _utc(day, hour * HOUR + rng.uniform(-6, 6) * MINUTE, offset_hours),
            rng.uniform(76.0, 88.0),
            rng.uniform(12, 20) * MINUTE,
        )
        for hour in _COOK_TIMES
    ]
    runs.append(
        _Run(
            "cool", _utc(day, _COOL_TIME * HOUR + rng.uniform(0, 10) * MINUTE, offset_hours), 70, 0
        )
    )
    return tuple(sorted(runs, key=lambda run: run.start))


class CoreProbe(Curve):
    """Core (needle) probe on the hot line: cooking runs and a cooling run each day.

    Between runs it lies in the kitchen and reads the air (23 °C, 26 °C in
    service). Cooking runs at about 10:40, 11:30, 12:20, 17:50, 18:40 and 19:30
    local (±6 min): from the kitchen air the core heats toward a peak of
    76–88 °C over 12–20 min, holds it 3 min, and when the probe is pulled out it
    falls back to the air with a 90 s time constant.

    The cooling run starts about 13:00 (+0–10 min): the probe goes into food
    just cooked (76 °C, so the cooking check, which cannot tell a cooling run's
    start from a cooking run, sees 70 °C reached) in a blast chiller (1 °C),
    following Newton's law with k = 0.75/h: below 60 °C after 19 min, 21 °C
    1.44 h after that, 5 °C 3.6 h after 60 °C (within cn 60→21 °C in 2 h, us
    57→21 °C in 2 h, then →5 °C in 4 more). After 4.5 h the probe is pulled out.

    Fault ``UNDERCOOKED_RUN``: the first cooking run starting after the onset
    peaks at only 64–66 °C. Fault ``COOLING_STALL``: the first cooling run
    starting after the onset is left on the counter: it tends to 29.5 °C
    (k = 0.9/h), still about 34 °C after 2 h and stalled near 30 °C at the end.
    """

    kind = "core_probe"
    noise = 0.2

    def __init__(self, seed: int, profile: str = "cn", faults: Sequence[Fault] = ()) -> None:
        super().__init__(seed, profile, faults)
        self.undercooked = self._first_run_after(UNDERCOOKED_RUN, "cook")
        self.stalled = self._first_run_after(COOLING_STALL, "cool")

    def _first_run_after(self, fault_name: str, kind: str) -> float | None:
        fault = self.faults.get(fault_name)
        if fault is None:
            return None
        day, _ = _local(fault.onset, self.offset)
        for d in range(day, day + 3):
            for run in _core_runs(self.seed, d, self.offset):
                if run.kind == kind and run.start >= fault.onset:
                    return run.start
        return None

    def temperature(self, t: float) -> float:
        day, time_of_day = _local(t, self.offset)
        air = _kitchen_air(time_of_day)
        for run in reversed(_core_runs(self.seed, day, self.offset)):
            dt = t - run.start
            if dt < 0:
                continue
            if run.kind == "cook" and dt < run.heat + _HOLD + 15 * MINUTE:
                peak = (
                    65.0 + (run.peak - 82.0) / 12.0 if run.start == self.undercooked else run.peak
                )
                return self._cooking(dt, air, peak, run.heat)
            if run.kind == "cool" and dt < _COOL_RUN + 20 * MINUTE:
                return self._cooling(dt, air, stalled=run.start == self.stalled)
            break
        return air

    @staticmethod
    def _cooking(dt: float, air: float, peak: float, heat: float) -> float:
        if dt < heat:
            x = dt / heat
            return air + (peak - air) * (1 - math.exp(-4 * x)) / (1 - math.exp(-4))
        if dt < heat + _HOLD:
            return peak + 0.3 * math.sin((dt - heat) / 20.0)
        return air + (peak - air) * math.exp(-(dt - heat - _HOLD) / 90.0)

    @staticmethod
    def _cooling(dt: float, air: float, *, stalled: bool) -> float:
        start = 76.0
        if dt < MINUTE:  # the probe going into the food
            return air + (start - air) * dt / MINUTE
        surroundings, k = (29.5, 0.9) if stalled else (1.0, 0.75)

        def food(seconds: float) -> float:
            return surroundings + (start - surroundings) * math.exp(-k * seconds / HOUR)

        if dt < _COOL_RUN:
            return food(dt - MINUTE)
        last = food(_COOL_RUN - MINUTE)
        return air + (last - air) * math.exp(-(dt - _COOL_RUN) / 300.0)


@functools.lru_cache(maxsize=1 << 16)
def _wash_cycles(seed: int, hour: int, offset_hours: float) -> tuple[float, ...]:
    """Rinse start instants in one local hour."""
    midpoint = (hour * HOUR + HOUR / 2) % DAY
    rng = _rng(seed, hour, 0xD15)
    if _within(midpoint, ((11 * HOUR, 14.5 * HOUR), (18 * HOUR, 22.5 * HOUR))):
        count = rng.randint(5, 8)
    elif 10 * HOUR <= midpoint < 23 * HOUR:
        count = rng.randint(1, 2)
    else:
        return ()
    begin = hour * HOUR - offset_hours * HOUR
    slot = HOUR / count
    # One cycle per slot, so cycles never overlap; the rinse follows a 75 s wash.
    return tuple(begin + i * slot + rng.uniform(0, slot - 150) + 75 for i in range(count))


class Dishwasher(Curve):
    """Door-type dishwasher, final-rinse probe.

    The machine is on from 10:00 to 23:00 local: between cycles the rinse line
    idles at about 55 °C (reached within minutes of switching on); switched off
    it cools toward 25 °C with a 40 min time constant. Cycles: 5–8 an hour from
    11:00 to 14:30 and 18:00 to 22:30, 1–2 an hour otherwise while on; each
    washes 75 s (not seen by this probe), then rinses: up to 85.6–87.8 °C within
    8 s, held 60 s, then back toward idle with a 40 s time constant. Proving
    "85 °C for 40 s" from readings takes one every 15 s or less.

    Fault ``COLD_RINSE``: for 12 h from the onset the booster heater is weak and
    rinses reach only 77.5–78.5 °C.
    """

    kind = "dishwasher"
    noise = 0.3

    def temperature(self, t: float) -> float:
        _, time_of_day = _local(t, self.offset)
        if 10 * HOUR <= time_of_day < 23 * HOUR:
            idle = 55.0 - 30.0 * math.exp(-(time_of_day - 10 * HOUR) / (5 * MINUTE))
        else:
            off_for = (time_of_day - 23 * HOUR) % DAY
            idle = 25.0 + 30.0 * math.exp(-off_for / (40 * MINUTE))
        hour = math.floor((t + self.offset * HOUR) / HOUR)
        value = idle
        fault = self.faults.get(COLD_RINSE)
        for h in (hour - 1, hour):
            for rinse in _wash_cycles(self.seed, h, self.offset):
                dt = t - rinse
                if dt < 0:
                    continue
                cold = fault is not None and fault.onset <= rinse < fault.onset + 12 * HOUR
                jitter = _mix(self.seed, round(rinse)) / 2.0**64
                top = 77.5 + jitter if cold else 85.6 + 2.2 * jitter
                if dt < 8:
                    value = max(value, idle + (top - idle) * dt / 8)
                elif dt < 68:
                    value = max(value, top)
                else:
                    value = max(value, idle + (top - idle) * math.exp(-(dt - 68) / 40.0))
        return value


@functools.lru_cache(maxsize=1 << 12)
def _cabinet_cycles(seed: int, day: int, offset_hours: float) -> tuple[float, ...]:
    rng = _rng(seed, day, 0xCAB)
    return tuple(
        _utc(day, hour * HOUR + rng.uniform(0, 15) * MINUTE, offset_hours)
        for hour in (14.75, 22.25)
    )


class DisinfectionCabinet(Curve):
    """Hot-air tableware disinfection cabinet (消毒柜), chamber probe.

    Two cycles a day, after lunch (about 14:45 local) and after dinner (about
    22:15): heats from the kitchen air to 122 °C over 15 min, holds 121–123 °C
    for 25 min (the commonly cited 120 °C for 20 min, with margin), then cools
    toward the kitchen air with a 25 min time constant. Between cycles it reads
    the kitchen air.
    """

    kind = "disinfection_cabinet"
    noise = 0.5

    def temperature(self, t: float) -> float:
        day, time_of_day = _local(t, self.offset)
        air = _kitchen_air(time_of_day)
        heat, hold, top = 15 * MINUTE, 25 * MINUTE, 122.0
        for d in (day, day - 1):
            for start in reversed(_cabinet_cycles(self.seed, d, self.offset)):
                dt = t - start
                if dt < 0 or dt > heat + hold + 3 * HOUR:
                    continue
                if dt < heat:
                    x = dt / heat
                    return air + (top - air) * (1 - math.exp(-3 * x)) / (1 - math.exp(-3))
                if dt < heat + hold:
                    return top + 0.7 * math.sin((dt - heat) / 60.0)
                return air + (top - air) * math.exp(-(dt - heat - hold) / (25 * MINUTE))
        return air


class Room(Curve):
    """Kitchen or store-room air: 21 °C ±2.5 °C over the day (warmest at 15:00
    local), plus up to 2 °C of cooking heat in service hours; always 18–26 °C."""

    kind = "room"

    def __init__(self, seed: int, profile: str = "cn", faults: Sequence[Fault] = ()) -> None:
        super().__init__(seed, profile, faults)
        self.base = self._params.uniform(20.5, 21.5)

    def temperature(self, t: float) -> float:
        _, time_of_day = _local(t, self.offset)
        daily = 2.5 * math.sin(2 * math.pi * (time_of_day / HOUR - 9.0) / 24.0)
        value = self.base + daily + 2.0 * service_level(time_of_day)
        return min(max(value, 18.2), 25.8)


CURVES: dict[str, type[Curve]] = {
    curve.kind: curve
    for curve in (
        Fridge,
        Freezer,
        HotHolding,
        CoreProbe,
        Dishwasher,
        DisinfectionCabinet,
        SampleFridge,
        Room,
    )
}


def curve_for(kind: str, seed: int, profile: str = "cn", faults: Sequence[Fault] = ()) -> Curve:
    """The curve of a probe of ``kind`` (one of the registry's device kinds)."""
    try:
        return CURVES[kind](seed, profile, faults)
    except KeyError:
        raise ValueError(f"no curve for device kind {kind!r}") from None
