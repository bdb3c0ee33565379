"""Cycle rules: a cooking run, a dishwasher cycle or a disinfection cycle must reach its target.

A cycle starts at a reading above the rule's start temperature and ends once
readings have stayed at or below it for the end time, or when no reading came
for that long. Consecutive failing cycles are one episode: one breach at the
first, a recovery at the next passing cycle. A target "held for H seconds" is
proven only by readings: consecutive readings at or above it spanning H. With
no hold, one reading suffices.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from traceability.rules.profiles import CoreTemperatureRule, DishwasherRule, DisinfectionRule
from traceability.rules.state import iso, stored_flag, stored_number, stored_time
from traceability.rules.verdicts import TEMPERATURE, RuleEvent, Source, in_minutes

CycleRule = CoreTemperatureRule | DishwasherRule | DisinfectionRule


@dataclass(frozen=True)
class CycleSpec:
    label: str  # "cooking run", "dishwasher cycle", ...
    target_text: str  # "core 74.0 °C held 15 s (poultry, stuffed foods)"
    start_celsius: float
    end_after: timedelta
    target_celsius: float
    hold: timedelta


class Cycle:
    """A run above a start temperature must reach a target (held long enough)."""

    quantity = TEMPERATURE

    def __init__(self, source: Source, spec: CycleSpec) -> None:
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
        run_minutes = round(in_minutes(at - run_start), 1)
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
            "last_at": iso(self._last_at),
            "failing": self._failing,
            "breach_started": iso(self._breach_started),
            "run_start": iso(self._run_start),
            "peak": self._peak,
            "at_target_since": iso(self._at_target_since),
            "best_hold_seconds": self._best_hold.total_seconds(),
            "reached": self._reached,
            "below_since": iso(self._below_since),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_at = stored_time(state["last_at"])
        self._failing = stored_flag(state["failing"])
        self._breach_started = stored_time(state["breach_started"])
        self._run_start = stored_time(state["run_start"])
        self._peak = stored_number(state["peak"])
        self._at_target_since = stored_time(state["at_target_since"])
        self._best_hold = timedelta(seconds=stored_number(state["best_hold_seconds"]) or 0.0)
        self._reached = stored_flag(state["reached"])
        self._below_since = stored_time(state["below_since"])
        if self._failing and self._breach_started is None:
            raise ValueError("an open breach needs its start")
        if self._run_start is not None and self._peak is None:
            raise ValueError("an open run needs its peak")


def _core_temperature(source: Source, rule: CoreTemperatureRule) -> Cycle:
    target = rule.default_target
    hold = 0.0 if target.hold is None else target.hold.seconds
    held = f" held {hold:.0f} s" if hold else ""
    return Cycle(
        source,
        CycleSpec(
            label="cooking run",
            target_text=f"core {target.temperature.value:.1f} °C{held} ({target.foods})",
            start_celsius=rule.operational.start_celsius,
            end_after=timedelta(minutes=rule.operational.end_minutes),
            target_celsius=target.temperature.value,
            hold=timedelta(seconds=hold),
        ),
    )


def _dishwasher(source: Source, rule: DishwasherRule) -> Cycle:
    hold = 0.0 if rule.hold is None else rule.hold.seconds
    held = f" held {hold:.0f} s" if hold else ""
    return Cycle(
        source,
        CycleSpec(
            label="dishwasher cycle",
            target_text=f"final rinse {rule.rinse_temperature.value:.1f} °C{held}",
            start_celsius=rule.operational.start_celsius,
            end_after=timedelta(minutes=rule.operational.end_minutes),
            target_celsius=rule.rinse_temperature.value,
            hold=timedelta(seconds=hold),
        ),
    )


def _disinfection(source: Source, rule: DisinfectionRule) -> Cycle:
    hold = rule.hold.seconds
    held = f"{hold / 60:.0f} min" if hold >= 60 else f"{hold:.0f} s"
    return Cycle(
        source,
        CycleSpec(
            label="disinfection cycle",
            target_text=f"{rule.temperature.value:.1f} °C held {held}",
            start_celsius=rule.operational.start_celsius,
            end_after=timedelta(minutes=rule.operational.end_minutes),
            target_celsius=rule.temperature.value,
            hold=timedelta(seconds=hold),
        ),
    )


def cycle_for(source: Source, rule: CycleRule) -> Cycle:
    """The tracker of a profile's cycle rule."""
    if isinstance(rule, CoreTemperatureRule):
        return _core_temperature(source, rule)
    if isinstance(rule, DishwasherRule):
        return _dishwasher(source, rule)
    return _disinfection(source, rule)
