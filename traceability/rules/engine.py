"""The food-safety rule engine for IoT probes: pure, and judged on time, never one reading.

One ``DeviceMonitor`` per probe turns its readings (``observe``) and the passing
of time (``tick``) into breach and recovery events. All numbers come from a
``JurisdictionProfile``; the device kind picks the rules (``profile.device_kinds``).

How time is judged, for every rule:

- A reading stands for the time until the next reading (zero-order hold), but
  for no longer than the device's silence threshold: the interval between two
  readings is out of range when the reading at its start is.
- Limit rules (cold_holding, frozen, sample_retention, hot_holding,
  danger_zone, chemical_sanitising): an episode starts at the first
  out-of-range reading. Time out of range accumulates within the episode,
  counted over a trailing window when the rule has one; when it reaches the
  tolerance the rule breaches, once per episode. The episode ends only after
  readings have stayed inside the limit by the hysteresis margin for the
  hysteresis minutes; a recovery event follows if it had breached. ``tick``
  also counts the time since the last reading, so a probe stuck on a warm
  reading breaches without new readings.
- Cycle rules (core_temperature, dishwasher_rinse, disinfection, cooling) are
  judged per cycle. Consecutive failing cycles are one episode: one breach at
  the first, a recovery at the next passing cycle.
- A target "held for H seconds" is proven only by readings: consecutive
  readings at or above it spanning H. With no hold, one reading suffices.

Readings older than (or as old as) the last one are ignored. The whole state is
JSON-able (``to_state``/``from_state``) and the same calls on a restored
monitor give the same events as on the original.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, Protocol

from traceability.errors import Invalid
from traceability.rules.device_kinds import DeviceKind
from traceability.rules.profiles import (
    ChemicalSanitisingRule,
    ColdLimitRule,
    CoolingRule,
    CoreTemperatureRule,
    DangerZoneRule,
    DishwasherRule,
    DisinfectionRule,
    HotHoldingRule,
    JurisdictionProfile,
)

STATE_FORMAT = "sunledger-rule-monitor/1"
TEMPERATURE = "Temperature"
CHLORINE = "Chlorine"

AlertClass = Literal[1, 2, 3]
Phase = Literal["breach", "recovery"]


@dataclass(frozen=True)
class Observation:
    """One accepted reading, as the engine sees it.

    ``values`` are keyed by EPCIS sensor type ("Temperature" in °C, "Chlorine"
    in mg/L, ...), units already normalised.
    """

    device_id: str
    measured_at: datetime
    values: Mapping[str, float]


@dataclass(frozen=True)
class RuleEvent:
    phase: Literal["breach", "recovery"]
    rule: str
    alert_class: Literal[1, 2, 3]
    device_id: str
    started_at: datetime
    detected_at: datetime
    detail: str
    measurements: Mapping[str, float]


# --------------------------------------------------------------------------- helpers


def _aware_utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time, got {value!r}")
    return _aware_utc(datetime.fromisoformat(value), "a stored time")


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value


def _minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def _whole(minutes: float) -> str:
    return f"{minutes:.0f}"


@dataclass(frozen=True)
class _Source:
    """Who raises events: the rule, its alert class and the device."""

    rule: str
    alert_class: AlertClass
    device_id: str

    def event(
        self,
        phase: Phase,
        started_at: datetime,
        detected_at: datetime,
        detail: str,
        measurements: Mapping[str, float],
    ) -> RuleEvent:
        return RuleEvent(
            phase=phase,
            rule=self.rule,
            alert_class=self.alert_class,
            device_id=self.device_id,
            started_at=started_at,
            detected_at=detected_at,
            detail=detail,
            measurements=dict(measurements),
        )


class _Tracker(Protocol):
    @property
    def rule(self) -> str: ...

    @property
    def quantity(self) -> str: ...

    @property
    def in_breach(self) -> bool: ...

    def observe(self, at: datetime, value: float) -> list[RuleEvent]: ...

    def tick(self, now: datetime) -> list[RuleEvent]: ...

    def to_state(self) -> dict[str, Any]: ...

    def load_state(self, state: Mapping[str, Any]) -> None: ...


# --------------------------------------------------------------------------- limit rules


@dataclass(frozen=True)
class _EpisodeFacts:
    minutes_out: float  # counted toward the tolerance (within the window)
    total_minutes_out: float  # over the whole episode
    episode_minutes: float
    highest: float
    lowest: float


Wording = Callable[[_EpisodeFacts], tuple[str, dict[str, float]]]


@dataclass(frozen=True)
class _ExcursionSpec:
    quantity: str
    is_out: Callable[[float], bool]
    is_clear: Callable[[float], bool]
    tolerance: timedelta
    window: timedelta | None
    hysteresis: timedelta
    hold_cap: timedelta
    breach_wording: Wording
    recovery_wording: Wording


class _Excursion:
    """Cumulative time out of range within an episode, with hysteresis before recovery."""

    def __init__(self, source: _Source, spec: _ExcursionSpec) -> None:
        self._source = source
        self._spec = spec
        self._last_at: datetime | None = None
        self._last_out = False
        self._reset_episode()

    def _reset_episode(self) -> None:
        self._episode_start: datetime | None = None
        self._intervals: list[tuple[datetime, datetime]] = []
        self._total_out = timedelta(0)
        self._highest: float | None = None
        self._lowest: float | None = None
        self._clear_since: datetime | None = None
        self._breached = False

    @property
    def rule(self) -> str:
        return self._source.rule

    @property
    def quantity(self) -> str:
        return self._spec.quantity

    @property
    def in_breach(self) -> bool:
        return self._breached

    def observe(self, at: datetime, value: float) -> list[RuleEvent]:
        spec = self._spec
        if self._last_at is not None and at <= self._last_at:
            return []
        held_gap = self._last_at is None or at - self._last_at <= spec.hold_cap
        if self._last_at is not None and self._last_out:
            self._add_out(self._last_at, min(at, self._last_at + spec.hold_cap))
        out = spec.is_out(value)
        if out:
            if self._episode_start is None:
                self._episode_start = at
            self._clear_since = None
            self._highest = value if self._highest is None else max(self._highest, value)
            self._lowest = value if self._lowest is None else min(self._lowest, value)
        elif self._episode_start is not None:
            if not spec.is_clear(value):
                self._clear_since = None
            elif self._clear_since is None or not held_gap:
                # A silent gap breaks the streak: nobody saw the time in between.
                self._clear_since = at
        self._last_at = at
        self._last_out = out
        self._prune(at)
        events: list[RuleEvent] = []
        if self._episode_start is not None and not self._breached:
            counted = self._counted(at, None)
            if counted >= spec.tolerance:
                events.append(self._breach(at, counted))
        if (
            self._episode_start is not None
            and self._clear_since is not None
            and at - self._clear_since >= spec.hysteresis
        ):
            events.extend(self._end_episode(at))
        return events

    def tick(self, now: datetime) -> list[RuleEvent]:
        if self._episode_start is None or self._breached or self._last_at is None:
            return []
        if now <= self._last_at:
            return []
        pending = None
        if self._last_out:
            pending = (self._last_at, min(now, self._last_at + self._spec.hold_cap))
        counted = self._counted(now, pending)
        if counted >= self._spec.tolerance:
            return [self._breach(now, counted)]
        return []

    def _add_out(self, start: datetime, end: datetime) -> None:
        if end <= start:
            return
        self._total_out += end - start
        if self._intervals and self._intervals[-1][1] >= start:
            self._intervals[-1] = (self._intervals[-1][0], end)
        else:
            self._intervals.append((start, end))

    def _prune(self, now: datetime) -> None:
        if self._spec.window is not None:
            horizon = now - self._spec.window
            self._intervals = [iv for iv in self._intervals if iv[1] > horizon]

    def _counted(self, now: datetime, pending: tuple[datetime, datetime] | None) -> timedelta:
        horizon = None if self._spec.window is None else now - self._spec.window
        intervals = self._intervals if pending is None else [*self._intervals, pending]
        total = timedelta(0)
        for start, end in intervals:
            begin = start if horizon is None else max(start, horizon)
            finish = min(end, now)
            if finish > begin:
                total += finish - begin
        return total

    def _facts(self, at: datetime, counted: timedelta) -> _EpisodeFacts:
        assert self._episode_start is not None
        assert self._highest is not None and self._lowest is not None
        return _EpisodeFacts(
            minutes_out=round(_minutes(counted), 1),
            total_minutes_out=round(_minutes(max(self._total_out, counted)), 1),
            episode_minutes=round(_minutes(at - self._episode_start), 1),
            highest=self._highest,
            lowest=self._lowest,
        )

    def _breach(self, at: datetime, counted: timedelta) -> RuleEvent:
        assert self._episode_start is not None
        self._breached = True
        detail, measurements = self._spec.breach_wording(self._facts(at, counted))
        return self._source.event("breach", self._episode_start, at, detail, measurements)

    def _end_episode(self, at: datetime) -> list[RuleEvent]:
        assert self._episode_start is not None
        events: list[RuleEvent] = []
        if self._breached:
            detail, measurements = self._spec.recovery_wording(self._facts(at, timedelta(0)))
            events.append(
                self._source.event("recovery", self._episode_start, at, detail, measurements)
            )
        self._reset_episode()
        return events

    def to_state(self) -> dict[str, Any]:
        return {
            "last_at": _iso(self._last_at),
            "last_out": self._last_out,
            "episode_start": _iso(self._episode_start),
            "intervals": [[s.isoformat(), e.isoformat()] for s, e in self._intervals],
            "total_out_seconds": self._total_out.total_seconds(),
            "highest": self._highest,
            "lowest": self._lowest,
            "clear_since": _iso(self._clear_since),
            "breached": self._breached,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_at = _moment(state["last_at"])
        self._last_out = _flag(state["last_out"])
        self._episode_start = _moment(state["episode_start"])
        intervals: list[tuple[datetime, datetime]] = []
        for start, end in state["intervals"]:
            begin, finish = _moment(start), _moment(end)
            if begin is None or finish is None:
                raise ValueError("an out-of-range interval needs a start and an end")
            intervals.append((begin, finish))
        self._intervals = intervals
        self._total_out = timedelta(seconds=_number(state["total_out_seconds"]) or 0.0)
        self._highest = _number(state["highest"])
        self._lowest = _number(state["lowest"])
        self._clear_since = _moment(state["clear_since"])
        self._breached = _flag(state["breached"])
        if self._episode_start is not None and (self._highest is None or self._lowest is None):
            raise ValueError("an open episode needs its extreme readings")


def _cold_limit(
    source: _Source, rule: ColdLimitRule, label: str, hold_cap: timedelta
) -> _Excursion:
    limit = rule.max_temperature.value
    op = rule.operational
    clear_at = limit - op.hysteresis.margin_celsius

    def breach(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"{label} above {limit:.1f} °C for {_whole(f.minutes_out)} min "
            f"(max {f.highest:.1f} °C)",
            {
                "max_celsius": f.highest,
                "minutes_out": f.minutes_out,
                "limit_celsius": limit,
                "tolerance_minutes": op.tolerance_minutes,
            },
        )

    def recovery(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"{label} back at or below {clear_at:.1f} °C for "
            f"{_whole(op.hysteresis.minutes)} min; {_whole(f.total_minutes_out)} min above "
            f"{limit:.1f} °C in {_whole(f.episode_minutes)} min (max {f.highest:.1f} °C)",
            {
                "max_celsius": f.highest,
                "minutes_out": f.total_minutes_out,
                "episode_minutes": f.episode_minutes,
                "limit_celsius": limit,
            },
        )

    return _Excursion(
        source,
        _ExcursionSpec(
            quantity=TEMPERATURE,
            is_out=lambda v: v > limit,
            is_clear=lambda v: v <= clear_at,
            tolerance=timedelta(minutes=op.tolerance_minutes),
            window=None if op.window_minutes is None else timedelta(minutes=op.window_minutes),
            hysteresis=timedelta(minutes=op.hysteresis.minutes),
            hold_cap=hold_cap,
            breach_wording=breach,
            recovery_wording=recovery,
        ),
    )


def _hot_holding(source: _Source, rule: HotHoldingRule, hold_cap: timedelta) -> _Excursion:
    limit = rule.min_temperature.value
    op = rule.operational
    clear_at = limit + op.hysteresis.margin_celsius

    def breach(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"hot holding below {limit:.1f} °C for {_whole(f.minutes_out)} min "
            f"(min {f.lowest:.1f} °C)",
            {
                "min_celsius": f.lowest,
                "minutes_out": f.minutes_out,
                "limit_celsius": limit,
                "tolerance_minutes": op.tolerance_minutes,
            },
        )

    def recovery(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"hot holding back at or above {clear_at:.1f} °C for "
            f"{_whole(op.hysteresis.minutes)} min; {_whole(f.total_minutes_out)} min below "
            f"{limit:.1f} °C in {_whole(f.episode_minutes)} min (min {f.lowest:.1f} °C)",
            {
                "min_celsius": f.lowest,
                "minutes_out": f.total_minutes_out,
                "episode_minutes": f.episode_minutes,
                "limit_celsius": limit,
            },
        )

    return _Excursion(
        source,
        _ExcursionSpec(
            quantity=TEMPERATURE,
            is_out=lambda v: v < limit,
            is_clear=lambda v: v >= clear_at,
            tolerance=timedelta(minutes=op.tolerance_minutes),
            window=None if op.window_minutes is None else timedelta(minutes=op.window_minutes),
            hysteresis=timedelta(minutes=op.hysteresis.minutes),
            hold_cap=hold_cap,
            breach_wording=breach,
            recovery_wording=recovery,
        ),
    )


def _danger_zone(source: _Source, rule: DangerZoneRule, hold_cap: timedelta) -> _Excursion:
    lower, upper = rule.lower.value, rule.upper.value
    op = rule.operational
    clear_at = upper + op.hysteresis.margin_celsius
    limit_minutes = rule.max_duration.seconds / 60

    def breach(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"hot-held food between {lower:.1f} and {upper:.1f} °C for "
            f"{_whole(f.minutes_out)} min (limit {_whole(limit_minutes)} min, "
            f"min {f.lowest:.1f} °C): {rule.action}",
            {
                "min_celsius": f.lowest,
                "minutes_out": f.minutes_out,
                "limit_minutes": limit_minutes,
            },
        )

    def recovery(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"hot holding back at or above {clear_at:.1f} °C for "
            f"{_whole(op.hysteresis.minutes)} min after {_whole(f.total_minutes_out)} min "
            f"between {lower:.1f} and {upper:.1f} °C",
            {
                "min_celsius": f.lowest,
                "minutes_out": f.total_minutes_out,
                "episode_minutes": f.episode_minutes,
            },
        )

    return _Excursion(
        source,
        _ExcursionSpec(
            quantity=TEMPERATURE,
            is_out=lambda v: lower < v < upper,
            is_clear=lambda v: v >= clear_at,
            tolerance=timedelta(seconds=rule.max_duration.seconds),
            window=None,
            hysteresis=timedelta(minutes=op.hysteresis.minutes),
            hold_cap=hold_cap,
            breach_wording=breach,
            recovery_wording=recovery,
        ),
    )


def _chemical(source: _Source, rule: ChemicalSanitisingRule, hold_cap: timedelta) -> _Excursion:
    low = rule.min_chlorine.value
    high = None if rule.max_chlorine is None else rule.max_chlorine.value
    op = rule.operational
    margin = op.hysteresis.margin_mg_per_l
    band = f"{low:.0f}–{high:.0f} mg/L" if high is not None else f"≥ {low:.0f} mg/L"

    def is_out(v: float) -> bool:
        return v < low or (high is not None and v > high)

    def is_clear(v: float) -> bool:
        return v >= low + margin and (high is None or v <= high - margin)

    def breach(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"chlorine outside {band} for {_whole(f.minutes_out)} min "
            f"(lowest {f.lowest:.0f}, highest {f.highest:.0f} mg/L)",
            {
                "min_mg_per_l": f.lowest,
                "max_mg_per_l": f.highest,
                "minutes_out": f.minutes_out,
                "tolerance_minutes": op.tolerance_minutes,
            },
        )

    def recovery(f: _EpisodeFacts) -> tuple[str, dict[str, float]]:
        return (
            f"chlorine back within {band} (with a {margin:.0f} mg/L margin) for "
            f"{_whole(op.hysteresis.minutes)} min after {_whole(f.total_minutes_out)} min outside",
            {
                "min_mg_per_l": f.lowest,
                "max_mg_per_l": f.highest,
                "minutes_out": f.total_minutes_out,
                "episode_minutes": f.episode_minutes,
            },
        )

    return _Excursion(
        source,
        _ExcursionSpec(
            quantity=CHLORINE,
            is_out=is_out,
            is_clear=is_clear,
            tolerance=timedelta(minutes=op.tolerance_minutes),
            window=None if op.window_minutes is None else timedelta(minutes=op.window_minutes),
            hysteresis=timedelta(minutes=op.hysteresis.minutes),
            hold_cap=hold_cap,
            breach_wording=breach,
            recovery_wording=recovery,
        ),
    )


# --------------------------------------------------------------------------- cycle rules


@dataclass(frozen=True)
class _CycleSpec:
    label: str  # "cooking run", "dishwasher cycle", ...
    target_text: str  # "core 74.0 °C held 15 s (poultry, stuffed foods)"
    start_celsius: float
    end_after: timedelta
    target_celsius: float
    hold: timedelta


class _Cycle:
    """A run above a start temperature must reach a target (held long enough)."""

    quantity = TEMPERATURE

    def __init__(self, source: _Source, spec: _CycleSpec) -> None:
        self._source = source
        self._spec = spec
        self._last_at: datetime | None = None
        self._failing = False
        self._breach_started: datetime | None = None
        self._reset_run()

    def _reset_run(self) -> None:
        self._run_start: datetime | None = None
        self._peak: float | None = None
        self._at_target_since: datetime | None = None
        self._best_hold = timedelta(0)
        self._reached = False
        self._below_since: datetime | None = None

    @property
    def rule(self) -> str:
        return self._source.rule

    @property
    def in_breach(self) -> bool:
        return self._failing

    def observe(self, at: datetime, value: float) -> list[RuleEvent]:
        spec = self._spec
        if self._last_at is not None and at <= self._last_at:
            return []
        events: list[RuleEvent] = []
        if (
            self._run_start is not None
            and self._last_at is not None
            and at - self._last_at >= spec.end_after
        ):
            events.extend(self._end_run(at))
        if self._run_start is None:
            if value > spec.start_celsius:
                self._run_start = at
                self._peak = value
                self._track_target(at, value)
        else:
            self._peak = value if self._peak is None else max(self._peak, value)
            self._track_target(at, value)
            if value <= spec.start_celsius:
                if self._below_since is None:
                    self._below_since = at
                if at - self._below_since >= spec.end_after:
                    events.extend(self._end_run(at))
            else:
                self._below_since = None
        self._last_at = at
        return events

    def tick(self, now: datetime) -> list[RuleEvent]:
        if self._run_start is None or self._last_at is None or now <= self._last_at:
            return []
        silent = now - self._last_at >= self._spec.end_after
        fallen = self._below_since is not None and now - self._below_since >= self._spec.end_after
        if silent or fallen:
            return self._end_run(now)
        return []

    def _track_target(self, at: datetime, value: float) -> None:
        if value < self._spec.target_celsius:
            self._at_target_since = None
            return
        if self._at_target_since is None:
            self._at_target_since = at
        held = at - self._at_target_since
        self._best_hold = max(self._best_hold, held)
        if held >= self._spec.hold:
            self._reached = True

    def _end_run(self, at: datetime) -> list[RuleEvent]:
        spec = self._spec
        assert self._run_start is not None and self._peak is not None
        run_start, peak, reached = self._run_start, self._peak, self._reached
        best_hold = self._best_hold.total_seconds()
        run_minutes = round(_minutes(at - run_start), 1)
        self._reset_run()
        measurements = {
            "peak_celsius": peak,
            "target_celsius": spec.target_celsius,
            "hold_seconds": spec.hold.total_seconds(),
            "held_seconds": best_hold,
            "run_minutes": run_minutes,
        }
        if reached and self._failing:
            assert self._breach_started is not None
            started, self._failing, self._breach_started = self._breach_started, False, None
            detail = f"{spec.label} from {run_start:%H:%M} reached {spec.target_text} again"
            return [self._source.event("recovery", started, at, detail, measurements)]
        if not reached and not self._failing:
            self._failing, self._breach_started = True, run_start
            held = f", held {best_hold:.0f} s" if spec.hold > timedelta(0) else ""
            detail = (
                f"{spec.label} from {run_start:%H:%M} UTC peaked at {peak:.1f} °C{held}: "
                f"{spec.target_text} not reached"
            )
            return [self._source.event("breach", run_start, at, detail, measurements)]
        return []

    def to_state(self) -> dict[str, Any]:
        return {
            "last_at": _iso(self._last_at),
            "failing": self._failing,
            "breach_started": _iso(self._breach_started),
            "run_start": _iso(self._run_start),
            "peak": self._peak,
            "at_target_since": _iso(self._at_target_since),
            "best_hold_seconds": self._best_hold.total_seconds(),
            "reached": self._reached,
            "below_since": _iso(self._below_since),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_at = _moment(state["last_at"])
        self._failing = _flag(state["failing"])
        self._breach_started = _moment(state["breach_started"])
        self._run_start = _moment(state["run_start"])
        self._peak = _number(state["peak"])
        self._at_target_since = _moment(state["at_target_since"])
        self._best_hold = timedelta(seconds=_number(state["best_hold_seconds"]) or 0.0)
        self._reached = _flag(state["reached"])
        self._below_since = _moment(state["below_since"])
        if self._failing and self._breach_started is None:
            raise ValueError("an open breach needs its start")
        if self._run_start is not None and self._peak is None:
            raise ValueError("an open run needs its peak")


def _core_temperature(source: _Source, rule: CoreTemperatureRule) -> _Cycle:
    target = rule.default_target
    hold = 0.0 if target.hold is None else target.hold.seconds
    held = f" held {hold:.0f} s" if hold else ""
    return _Cycle(
        source,
        _CycleSpec(
            label="cooking run",
            target_text=f"core {target.temperature.value:.1f} °C{held} ({target.foods})",
            start_celsius=rule.operational.start_celsius,
            end_after=timedelta(minutes=rule.operational.end_minutes),
            target_celsius=target.temperature.value,
            hold=timedelta(seconds=hold),
        ),
    )


def _dishwasher(source: _Source, rule: DishwasherRule) -> _Cycle:
    hold = 0.0 if rule.hold is None else rule.hold.seconds
    held = f" held {hold:.0f} s" if hold else ""
    return _Cycle(
        source,
        _CycleSpec(
            label="dishwasher cycle",
            target_text=f"final rinse {rule.rinse_temperature.value:.1f} °C{held}",
            start_celsius=rule.operational.start_celsius,
            end_after=timedelta(minutes=rule.operational.end_minutes),
            target_celsius=rule.rinse_temperature.value,
            hold=timedelta(seconds=hold),
        ),
    )


def _disinfection(source: _Source, rule: DisinfectionRule) -> _Cycle:
    hold = rule.hold.seconds
    held = f"{hold / 60:.0f} min" if hold >= 60 else f"{hold:.0f} s"
    return _Cycle(
        source,
        _CycleSpec(
            label="disinfection cycle",
            target_text=f"{rule.temperature.value:.1f} °C held {held}",
            start_celsius=rule.operational.start_celsius,
            end_after=timedelta(minutes=rule.operational.end_minutes),
            target_celsius=rule.temperature.value,
            hold=timedelta(seconds=hold),
        ),
    )


class _Cooling:
    """Two-stage cooling of cooked food, from a fall below the start temperature."""

    quantity = TEMPERATURE

    def __init__(self, source: _Source, rule: CoolingRule) -> None:
        self._source = source
        self._start_celsius = rule.start_temperature.value
        self._stage1_celsius = rule.stage1_temperature.value
        self._stage2_celsius = rule.stage2_temperature.value
        self._stage1_within = timedelta(seconds=rule.stage1_within.seconds)
        self._total_within = self._stage1_within + timedelta(seconds=rule.stage2_within.seconds)
        self._max_gap = timedelta(minutes=rule.operational.max_gap_minutes)
        self._withdrawal_rate = rule.operational.withdrawal_celsius_per_minute
        self._last_at: datetime | None = None
        # Readings of the last minute (and always the latest), to spot a probe pulled out.
        self._recent: list[tuple[datetime, float]] = []
        self._armed_at: datetime | None = None  # last reading at or above the start
        self._failing = False
        self._breach_started: datetime | None = None
        self._reset_run()

    def _reset_run(self) -> None:
        self._run_start: datetime | None = None
        self._stage1_at: datetime | None = None
        self._lowest: float | None = None

    @property
    def rule(self) -> str:
        return self._source.rule

    @property
    def in_breach(self) -> bool:
        return self._failing

    def observe(self, at: datetime, value: float) -> list[RuleEvent]:
        if self._last_at is not None and at <= self._last_at:
            return []
        events: list[RuleEvent] = []
        withdrawn = self._withdrawn(at, value)
        if value >= self._start_celsius:
            self._reset_run()  # hot again (reheated, or still cooking): cooling starts later
            self._armed_at = at
        elif self._run_start is not None:
            if withdrawn:
                self._reset_run()
            else:
                self._lowest = value if self._lowest is None else min(self._lowest, value)
                events.extend(self._judge(at, value))
        elif self._armed_at is not None:
            if not withdrawn and at - self._armed_at <= self._max_gap:
                self._run_start = self._armed_at
                self._lowest = value
                events.extend(self._judge(at, value))
            self._armed_at = None
        self._last_at = at
        horizon = at - timedelta(minutes=1)
        self._recent = [(t, v) for t, v in self._recent if t >= horizon] + [(at, value)]
        return events

    def tick(self, now: datetime) -> list[RuleEvent]:
        if self._run_start is None or self._last_at is None or now <= self._last_at:
            return []
        if self._stage1_at is None and now > self._run_start + self._stage1_within:
            return self._fail(now, 1)
        if self._stage1_at is not None and now > self._run_start + self._total_within:
            return self._fail(now, 2)
        return []

    def _withdrawn(self, at: datetime, value: float) -> bool:
        """Did the core fall faster than food can cool (measured over at least a minute)?"""
        for then, earlier in self._recent:
            minutes = max(_minutes(at - then), 1.0)
            if (earlier - value) / minutes > self._withdrawal_rate:
                return True
        return False

    def _judge(self, at: datetime, value: float) -> list[RuleEvent]:
        assert self._run_start is not None
        stage1_deadline = self._run_start + self._stage1_within
        if self._stage1_at is None:
            if value <= self._stage1_celsius and at <= stage1_deadline:
                self._stage1_at = at
            elif at > stage1_deadline:
                return self._fail(at, 1)
        if self._stage1_at is not None:
            if value <= self._stage2_celsius and at <= self._run_start + self._total_within:
                return self._pass(at)
            if at > self._run_start + self._total_within:
                return self._fail(at, 2)
        return []

    def _measurements(self, at: datetime, stage: int) -> dict[str, float]:
        assert self._run_start is not None and self._lowest is not None
        return {
            "stage": float(stage),
            "lowest_celsius": self._lowest,
            "minutes_since_start": round(_minutes(at - self._run_start), 1),
            "stage1_celsius": self._stage1_celsius,
            "stage2_celsius": self._stage2_celsius,
        }

    def _fail(self, at: datetime, stage: int) -> list[RuleEvent]:
        assert self._run_start is not None and self._lowest is not None
        run_start, lowest = self._run_start, self._lowest
        measurements = self._measurements(at, stage)
        self._reset_run()
        if self._failing:
            return []
        self._failing, self._breach_started = True, run_start
        if stage == 1:
            target, allowed = self._stage1_celsius, self._stage1_within
        else:
            target, allowed = self._stage2_celsius, self._total_within
        detail = (
            f"cooling from {self._start_celsius:.1f} °C at {run_start:%H:%M} UTC not shown to "
            f"reach {target:.1f} °C within {_whole(_minutes(allowed))} min "
            f"(stage {stage}; lowest {lowest:.1f} °C)"
        )
        return [self._source.event("breach", run_start, at, detail, measurements)]

    def _pass(self, at: datetime) -> list[RuleEvent]:
        assert self._run_start is not None
        run_start = self._run_start
        measurements = self._measurements(at, 2)
        self._reset_run()
        if not self._failing:
            return []
        assert self._breach_started is not None
        started, self._failing, self._breach_started = self._breach_started, False, None
        detail = (
            f"cooling from {run_start:%H:%M} UTC reached {self._stage2_celsius:.1f} °C in "
            f"{_whole(measurements['minutes_since_start'])} min, within both stages"
        )
        return [self._source.event("recovery", started, at, detail, measurements)]

    def to_state(self) -> dict[str, Any]:
        return {
            "last_at": _iso(self._last_at),
            "recent": [[t.isoformat(), v] for t, v in self._recent],
            "armed_at": _iso(self._armed_at),
            "failing": self._failing,
            "breach_started": _iso(self._breach_started),
            "run_start": _iso(self._run_start),
            "stage1_at": _iso(self._stage1_at),
            "lowest": self._lowest,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_at = _moment(state["last_at"])
        recent: list[tuple[datetime, float]] = []
        for then, value in state["recent"]:
            moment, number = _moment(then), _number(value)
            if moment is None or number is None:
                raise ValueError("a recent reading needs a time and a value")
            recent.append((moment, number))
        self._recent = recent
        self._armed_at = _moment(state["armed_at"])
        self._failing = _flag(state["failing"])
        self._breach_started = _moment(state["breach_started"])
        self._run_start = _moment(state["run_start"])
        self._stage1_at = _moment(state["stage1_at"])
        self._lowest = _number(state["lowest"])
        if self._failing and self._breach_started is None:
            raise ValueError("an open breach needs its start")
        if self._run_start is not None and self._lowest is None:
            raise ValueError("an open cooling run needs its lowest reading")


# --------------------------------------------------------------------------- probe silent


class _Silence:
    """No reading for the silence threshold: a breach from ``tick``, recovered by a reading."""

    def __init__(self, source: _Source, threshold: timedelta) -> None:
        self._source = source
        self._threshold = threshold
        self._last_seen: datetime | None = None
        self._baseline: datetime | None = None  # first tick, while nothing was ever read
        self._silent_since: datetime | None = None

    @property
    def last_seen(self) -> datetime | None:
        return self._last_seen

    @property
    def in_breach(self) -> bool:
        return self._silent_since is not None

    def observe(self, at: datetime) -> list[RuleEvent]:
        events: list[RuleEvent] = []
        if self._silent_since is not None:
            minutes = round(_minutes(at - self._silent_since), 1)
            events.append(
                self._source.event(
                    "recovery",
                    self._silent_since,
                    at,
                    f"probe reporting again after {_whole(minutes)} min without readings",
                    {"minutes_silent": minutes},
                )
            )
            self._silent_since = None
        self._last_seen = at
        return events

    def tick(self, now: datetime) -> list[RuleEvent]:
        since = self._last_seen if self._last_seen is not None else self._baseline
        if since is None:
            self._baseline = now
            return []
        if self._silent_since is not None or now - since < self._threshold:
            return []
        self._silent_since = since
        minutes = round(_minutes(now - since), 1)
        limit = _minutes(self._threshold)
        return [
            self._source.event(
                "breach",
                since,
                now,
                f"no reading for {_whole(minutes)} min (limit {_whole(limit)} min)",
                {"minutes_silent": minutes, "silent_minutes": limit},
            )
        ]

    def to_state(self) -> dict[str, Any]:
        return {
            "last_seen": _iso(self._last_seen),
            "baseline": _iso(self._baseline),
            "silent_since": _iso(self._silent_since),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_seen = _moment(state["last_seen"])
        self._baseline = _moment(state["baseline"])
        self._silent_since = _moment(state["silent_since"])


# --------------------------------------------------------------------------- the monitor

_LABELS = {
    DeviceKind.FRIDGE: "fridge",
    DeviceKind.FREEZER: "freezer",
    DeviceKind.SAMPLE_FRIDGE: "sample fridge",
}


def _silent_minutes(rule_names: list[str], profile: JurisdictionProfile) -> float:
    """The smallest silent_minutes of the rules a device is judged by (probe_silent's if none)."""
    minutes = [
        getattr(profile.rules, name).operational.silent_minutes
        for name in rule_names
        if name != "probe_silent"
    ]
    return min(minutes, default=profile.rules.probe_silent.operational.silent_minutes)


def _tracker(
    name: str, kind: DeviceKind, profile: JurisdictionProfile, device_id: str, cap: timedelta
) -> _Tracker:
    rule = getattr(profile.rules, name)
    source = _Source(name, rule.alert_class, device_id)
    if isinstance(rule, ColdLimitRule):
        return _cold_limit(source, rule, _LABELS.get(kind, kind.value), cap)
    if isinstance(rule, HotHoldingRule):
        return _hot_holding(source, rule, cap)
    if isinstance(rule, DangerZoneRule):
        return _danger_zone(source, rule, cap)
    if isinstance(rule, ChemicalSanitisingRule):
        return _chemical(source, rule, cap)
    if isinstance(rule, CoreTemperatureRule):
        return _core_temperature(source, rule)
    if isinstance(rule, DishwasherRule):
        return _dishwasher(source, rule)
    if isinstance(rule, DisinfectionRule):
        return _disinfection(source, rule)
    if isinstance(rule, CoolingRule):
        return _Cooling(source, rule)
    raise Invalid(f"rule {name!r} cannot be judged from probe readings")


class DeviceMonitor:
    """The rules of one probe, fed its readings in time order and told the time."""

    def __init__(self, device_id: str, kind: DeviceKind, profile: JurisdictionProfile) -> None:
        self._device_id = device_id
        self._kind = DeviceKind(kind)
        self._profile = profile
        rule_names = list(profile.device_kinds[self._kind.value])
        silence = timedelta(minutes=_silent_minutes(rule_names, profile))
        self._trackers: dict[str, _Tracker] = {
            name: _tracker(name, self._kind, profile, device_id, silence) for name in rule_names
        }
        silent_rule = profile.rules.probe_silent
        self._silence = _Silence(
            _Source("probe_silent", silent_rule.alert_class, device_id), silence
        )

    @property
    def device_id(self) -> str:
        return self._device_id

    @property
    def kind(self) -> DeviceKind:
        return self._kind

    @property
    def open_breaches(self) -> frozenset[str]:
        """The rules currently in breach."""
        names = {name for name, tracker in self._trackers.items() if tracker.in_breach}
        if self._silence.in_breach:
            names.add("probe_silent")
        return frozenset(names)

    def observe(self, obs: Observation) -> list[RuleEvent]:
        """Judge one reading; a reading not newer than the last one is ignored (``[]``)."""
        if obs.device_id != self._device_id:
            raise Invalid(
                f"reading of device {obs.device_id!r} given to the monitor of {self._device_id!r}"
            )
        at = _aware_utc(obs.measured_at, "measured_at")
        last = self._silence.last_seen
        if last is not None and at <= last:
            return []
        events = self._silence.observe(at)
        for tracker in self._trackers.values():
            value = obs.values.get(tracker.quantity)
            if value is not None:
                events.extend(tracker.observe(at, float(value)))
        return events

    def tick(self, now: datetime) -> list[RuleEvent]:
        """Time passing without readings: probe silent, and breaches only time can make."""
        now = _aware_utc(now, "now")
        last = self._silence.last_seen
        if last is not None and now <= last:
            return []
        events = self._silence.tick(now)
        for tracker in self._trackers.values():
            events.extend(tracker.tick(now))
        return events

    def to_state(self) -> dict[str, Any]:
        """Everything the monitor remembers, as JSON-able data."""
        return {
            "format": STATE_FORMAT,
            "device_id": self._device_id,
            "kind": self._kind.value,
            "profile": self._profile.name,
            "silence": self._silence.to_state(),
            "rules": {name: tracker.to_state() for name, tracker in self._trackers.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], profile: JurisdictionProfile) -> DeviceMonitor:
        """A monitor restored from ``to_state``; ``Invalid`` for malformed or foreign state."""
        try:
            if state["format"] != STATE_FORMAT:
                raise Invalid(f"unknown rule monitor state format {state['format']!r}")
            if state["profile"] != profile.name:
                raise Invalid(
                    f"rule monitor state of profile {state['profile']!r} "
                    f"restored with profile {profile.name!r}"
                )
            monitor = cls(str(state["device_id"]), DeviceKind(state["kind"]), profile)
            rules = state["rules"]
            if set(rules) != set(monitor._trackers):
                raise Invalid(
                    f"rule monitor state judges {sorted(rules)}, "
                    f"the profile {sorted(monitor._trackers)}"
                )
            monitor._silence.load_state(state["silence"])
            for name, tracker in monitor._trackers.items():
                tracker.load_state(rules[name])
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"malformed rule monitor state: {exc!r}") from exc
        return monitor
