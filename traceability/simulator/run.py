"""Running a simulation: readings at a steady real-time rate, simulated time ``speedup`` times
faster, sent in batches, until the duration or the reading budget is used up.

The i-th reading is due at real second ``i / rate`` and is measured at the
simulated instant ``start + i * speedup / rate``. The probes take turns in a
fixed, weighted rotation (:data:`SAMPLING_WEIGHT`): probes whose readings change
within a minute (a dishwasher's 60 s rinse, a core probe's cooking run) get
more turns than a fridge, because the platform's rules prove "85 °C held 40 s"
or "core 70 °C reached" only from readings. :func:`sampling_intervals` says how
often each kind reports; too sparse, and the rules see rinses and cooking runs
that never reached their target. Simulated instants depend only on ``i``, never
on how late a send was, so a run is reproducible whatever the machine's load;
a sink that cannot keep up makes the run send fewer readings, never longer.

Sequence numbers are the wall clock in microseconds, raised by one when needed
to keep them strictly increasing per device and per gateway. They need no
stored state and keep rising across restarts, whatever simulated times the next
run picks (a run starting earlier in simulated time than the last one ended is
still accepted).
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from traceability.errors import Invalid
from traceability.simulator import curves
from traceability.simulator.curves import FAULT_DESCRIPTIONS, HOUR, Curve, Fault, curve_for
from traceability.simulator.fleet import Fleet, SimDevice
from traceability.simulator.transports import Delivery, Sink, SinkStats

MAX_READINGS = 10_000_000
MAX_BATCH = 1000
FLUSH_EVERY = 1.0
"""Real seconds after which whatever is pending is sent, full batch or not."""
_SLACK = 1e-6

# Turns per rotation, by device kind (see the module docstring).
SAMPLING_WEIGHT: dict[str, int] = {
    "fridge": 1,
    "freezer": 1,
    "sample_fridge": 1,
    "room": 1,
    "hot_holding": 2,
    "disinfection_cabinet": 4,
    "core_probe": 6,
    "dishwasher": 12,
}
# The longest interval (simulated seconds) at which the rules can judge a kind's cycles:
# two readings 40 s apart inside a 60 s rinse; a reading in a cooking run's 3 min peak.
USEFUL_INTERVAL: dict[str, float] = {"dishwasher": 15.0, "core_probe": 60.0}

# (fault, device role, onset in simulated seconds after the start)
FAULT_SCHEDULE: tuple[tuple[str, str, float], ...] = (
    (curves.FAILING_FRIDGE, "fridge-1", 1 * HOUR),
    (curves.HOT_HOLDING_DROP, "hot-holding-1", 2 * HOUR),
    (curves.COOLING_STALL, "core-probe-1", 0.0),
    (curves.SILENT_PROBE, "fridge-2", 3 * HOUR),
    (curves.UNDERCOOKED_RUN, "core-probe-1", 0.0),
    (curves.COLD_RINSE, "dishwasher-1", 1 * HOUR),
)


@dataclass(frozen=True)
class PlannedFault:
    device_id: str
    fault: Fault

    @property
    def description(self) -> str:
        return FAULT_DESCRIPTIONS[self.fault.name]

    @property
    def onset(self) -> datetime:
        return datetime.fromtimestamp(self.fault.onset, UTC)


def plan_faults(fleet: Fleet, start: datetime) -> list[PlannedFault]:
    """The ``--faults`` plan: each fault of :data:`FAULT_SCHEDULE` in the next restaurant, round
    robin (with one restaurant, all in it)."""
    origin = start.timestamp()
    restaurants = fleet.restaurants
    return [
        PlannedFault(
            restaurants[position % len(restaurants)].device(role).device_id,
            Fault(name, origin + offset),
        )
        for position, (name, role, offset) in enumerate(FAULT_SCHEDULE)
    ]


def _smooth_turns(weights: Sequence[int]) -> list[int]:
    """Smooth weighted round robin (as in nginx): each index ``weight`` times per rotation,
    its turns as evenly spread as the other weights allow."""
    total = sum(weights)
    current = [0] * len(weights)
    order = []
    for _ in range(total):
        for position, weight in enumerate(weights):
            current[position] += weight
        chosen = max(range(len(weights)), key=lambda position: (current[position], -position))
        current[chosen] -= total
        order.append(chosen)
    return order


def rotation(fleet: Fleet) -> list[SimDevice]:
    """The order in which probes take turns: each restaurant's probes ``SAMPLING_WEIGHT``
    times per rotation, smoothly spread, the restaurants interleaved."""
    per_restaurant = [
        [
            restaurant.devices[i]
            for i in _smooth_turns([SAMPLING_WEIGHT.get(d.kind, 1) for d in restaurant.devices])
        ]
        for restaurant in fleet.restaurants
    ]
    longest = max(len(turns) for turns in per_restaurant)
    return [turns[j] for j in range(longest) for turns in per_restaurant if j < len(turns)]


def sampling_intervals(fleet: Fleet, rate: float, speedup: float) -> dict[str, float]:
    """The longest simulated time between two readings of one probe, by device kind."""
    order = rotation(fleet)
    seen: dict[str, int] = {}
    first: dict[str, int] = {}
    longest: dict[str, int] = {}
    for index, device in enumerate(order):
        if device.device_id in seen:
            gap = index - seen[device.device_id]
            longest[device.kind] = max(longest.get(device.kind, 0), gap)
        else:
            first[device.device_id] = index
        seen[device.device_id] = index
    for device in fleet.devices:  # the gap across the end of the rotation
        gap = first[device.device_id] + len(order) - seen[device.device_id]
        longest[device.kind] = max(longest.get(device.kind, 0), gap)
    return {kind: gap * speedup / rate for kind, gap in longest.items()}


def rate_for_rules(fleet: Fleet, speedup: float) -> float:
    """The lowest rate at which every kind reports often enough for its cycle rules."""
    intervals = sampling_intervals(fleet, 1.0, speedup)
    return max(
        (intervals[kind] / useful for kind, useful in USEFUL_INTERVAL.items() if kind in intervals),
        default=0.0,
    )


def default_start(duration: float, speedup: float, now: datetime | None = None) -> datetime:
    """A start from which simulated time catches up with the wall clock exactly at the end.

    So no reading is ever measured in the future (servers refuse those): with
    ``speedup`` 1 the run is live; faster, it replays the recent past.
    """
    moment = now or datetime.now(UTC)
    return moment - timedelta(seconds=duration * max(speedup - 1.0, 0.0))


def rfc3339_ms(t: float) -> str:
    """An instant (seconds since the epoch) as RFC 3339 UTC, to the millisecond."""
    ms = round(t * 1000)
    whole = datetime.fromtimestamp(ms // 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{whole}.{ms % 1000:03d}Z" if ms % 1000 else f"{whole}Z"


class SequenceClock:
    """Sequence numbers: microseconds of the wall clock, strictly increasing per owner."""

    def __init__(self, now_us: Callable[[], int] | None = None) -> None:
        self._now_us = now_us or (lambda: time.time_ns() // 1000)
        self._last: dict[str, int] = {}

    def next(self, owner: str) -> int:
        seq = max(self._now_us(), self._last.get(owner, -1) + 1)
        self._last[owner] = seq
        return seq


@dataclass
class SimulationReport:
    """What a run did. Counts are readings; ``requests`` are sends (HTTP requests, publishes)."""

    planned: int
    start: datetime
    generated: int = 0
    silent: int = 0
    sent: int = 0
    accepted: int = 0
    rejected: dict[str, int] = field(default_factory=dict)
    failed: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    real_seconds: float = 0.0
    simulated_seconds: float = 0.0
    latency_p50: float | None = None
    latency_p99: float | None = None
    faults: list[PlannedFault] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def achieved_rate(self) -> float:
        """Readings sent per real second."""
        return self.sent / self.real_seconds if self.real_seconds > 0 else 0.0

    @property
    def all_accepted(self) -> bool:
        return self.sent == self.accepted and not self.rejected and not self.failed


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


class _Tally:
    """The sink's counters at the start of a run, so a reused sink reports this run only."""

    def __init__(self, stats: SinkStats) -> None:
        self.stats = stats
        self.sent, self.accepted, self.requests = stats.sent, stats.accepted, stats.requests
        self.rejected, self.failed = Counter(stats.rejected), Counter(stats.failed)
        self.latencies, self.details = len(stats.latencies), len(stats.details)

    def into(self, report: SimulationReport) -> None:
        stats = self.stats
        report.sent = stats.sent - self.sent
        report.accepted = stats.accepted - self.accepted
        report.requests = stats.requests - self.requests
        report.rejected = dict(+(stats.rejected - self.rejected))
        report.failed = dict(+(stats.failed - self.failed))
        report.details = stats.details[self.details :]

    def latencies_since(self) -> list[float]:
        return self.stats.latencies[self.latencies :]


def simulate(
    fleet: Fleet,
    sink: Sink,
    *,
    rate: float,
    duration: float,
    speedup: float = 1.0,
    start: datetime | None = None,
    faults: bool = False,
    batch: int = 100,
    gateway: bool = False,
    on_progress: Callable[[SimulationReport], None] | None = None,
    max_readings: int | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    sequences: SequenceClock | None = None,
) -> SimulationReport:
    """Send ``rate`` readings per real second for at most ``duration`` real seconds.

    Simulated time starts at ``start`` (default: :func:`default_start`) and runs
    ``speedup`` simulated seconds per real second. At most ``max_readings``
    (default and ceiling :data:`MAX_READINGS`) are generated. Readings are sent
    when ``batch`` of them are pending, or after :data:`FLUSH_EVERY` real
    seconds: per device lists of signed readings, or with ``gateway`` one signed
    batch per restaurant. ``faults`` switches on the :func:`plan_faults` plan.
    ``on_progress`` gets the report after every send. ``clock``, ``sleep`` and
    ``sequences`` are there for tests.
    """
    if not (math.isfinite(rate) and rate > 0):
        raise Invalid("rate must be a positive number of readings per second")
    if not (math.isfinite(duration) and duration > 0):
        raise Invalid("duration must be a positive number of seconds")
    if not (math.isfinite(speedup) and speedup > 0):
        raise Invalid("speedup must be a positive number")
    if not 1 <= batch <= MAX_BATCH:
        raise Invalid(f"batch must be 1..{MAX_BATCH}")
    if start is None:
        start = default_start(duration, speedup)
    elif start.tzinfo is None:
        raise Invalid("start must be an aware datetime")
    budget = MAX_READINGS if max_readings is None else min(max(max_readings, 0), MAX_READINGS)
    planned = min(budget, math.ceil(rate * duration - 1e-9))
    plan = plan_faults(fleet, start) if faults else []
    devices = rotation(fleet)
    probe_curves: dict[str, Curve] = {
        device.device_id: curve_for(
            device.kind,
            device.curve_seed,
            device.profile,
            [p.fault for p in plan if p.device_id == device.device_id],
        )
        for device in fleet.devices
    }
    gateways = {r.premises_id: r.gateway for r in fleet.restaurants}
    sequences = sequences or SequenceClock()
    report = SimulationReport(planned=planned, start=start, faults=plan)
    tally = _Tally(sink.stats)
    origin = start.timestamp()
    step = speedup / rate
    pending: dict[str, list[dict[str, Any]]] = {}  # by device (signed) or premises (gateway)
    pending_count = 0

    def reading_of(device: SimDevice, t: float) -> dict[str, Any]:
        values = probe_curves[device.device_id].values(t)
        unsigned = device.reading(sequences.next(device.device_id), rfc3339_ms(t), values)
        return unsigned if gateway else device.sign(unsigned)

    def flush() -> None:
        nonlocal pending_count
        if not pending_count:
            return
        deliveries: list[Delivery] = []
        for owner, readings in pending.items():
            if not gateway:
                deliveries.append(Delivery.from_device(owner, readings))
                continue
            signer = gateways[owner]
            for offset in range(0, len(readings), MAX_BATCH):
                chunk = readings[offset : offset + MAX_BATCH]
                signed = signer.batch(sequences.next(signer.gateway_id), chunk)
                deliveries.append(Delivery.from_gateway(signed))
        pending.clear()
        pending_count = 0
        sink.send(deliveries)
        tally.into(report)
        if on_progress is not None:
            on_progress(report)

    began = clock()
    last_flush = began
    index = 0
    count = len(devices)
    while index < planned:
        elapsed = clock() - began
        if elapsed >= duration:
            break
        # Readings due by now (a microsecond of slack, so float rounding of the clock can
        # never leave the loop waiting for a reading that is already due).
        due = min(planned, math.floor((elapsed + _SLACK) * rate) + 1)
        while index < due:
            device = devices[index % count]
            t = origin + index * step
            index += 1
            if probe_curves[device.device_id].silent(t):
                report.silent += 1
                continue
            owner = device.premises_id if gateway else device.device_id
            pending.setdefault(owner, []).append(reading_of(device, t))
            pending_count += 1
            report.generated += 1
            if pending_count >= batch:
                flush()
                last_flush = clock()
                if last_flush - began >= duration:  # a slow sink: stop on time, not on count
                    break
        if pending_count and clock() - last_flush >= FLUSH_EVERY:
            flush()
            last_flush = clock()
        if index >= planned:
            break
        now = clock() - began
        wait = min(index / rate - now, FLUSH_EVERY, duration - now)
        if wait > _SLACK:
            sleep(wait)
    flush()
    report.real_seconds = clock() - began
    report.simulated_seconds = max(index - 1, 0) * step
    tally.into(report)
    latencies = tally.latencies_since()
    report.latency_p50 = _percentile(latencies, 0.50)
    report.latency_p99 = _percentile(latencies, 0.99)
    return report
