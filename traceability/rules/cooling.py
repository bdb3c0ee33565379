"""Two-stage cooling of cooked food, judged from a core probe's fall below the start temperature.

A run starts at the last reading at or above the start temperature, when the
next one falls below it within the allowed gap. It must reach stage 1 within
stage 1's time and stage 2 within the total; a core falling faster than food
can cool is a probe pulled out, which ends the run unjudged. Failing runs are
one episode: one breach at the first, a recovery at the next passing run.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from traceability.rules.profiles import CoolingRule
from traceability.rules.state import iso, stored_flag, stored_number, stored_time
from traceability.rules.verdicts import TEMPERATURE, RuleEvent, Source, in_minutes, whole


class Cooling:
    """Two-stage cooling of cooked food, from a fall below the start temperature."""

    quantity = TEMPERATURE

    def __init__(self, source: Source, rule: CoolingRule) -> None:
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
            minutes = max(in_minutes(at - then), 1.0)
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
            "minutes_since_start": round(in_minutes(at - self._run_start), 1),
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
            f"reach {target:.1f} °C within {whole(in_minutes(allowed))} min "
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
            f"{whole(measurements['minutes_since_start'])} min, within both stages"
        )
        return [self._source.event("recovery", started, at, detail, measurements)]

    def to_state(self) -> dict[str, Any]:
        return {
            "last_at": iso(self._last_at),
            "recent": [[t.isoformat(), v] for t, v in self._recent],
            "armed_at": iso(self._armed_at),
            "failing": self._failing,
            "breach_started": iso(self._breach_started),
            "run_start": iso(self._run_start),
            "stage1_at": iso(self._stage1_at),
            "lowest": self._lowest,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_at = stored_time(state["last_at"])
        recent: list[tuple[datetime, float]] = []
        for then, value in state["recent"]:
            moment, number = stored_time(then), stored_number(value)
            if moment is None or number is None:
                raise ValueError("a recent reading needs a time and a value")
            recent.append((moment, number))
        self._recent = recent
        self._armed_at = stored_time(state["armed_at"])
        self._failing = stored_flag(state["failing"])
        self._breach_started = stored_time(state["breach_started"])
        self._run_start = stored_time(state["run_start"])
        self._stage1_at = stored_time(state["stage1_at"])
        self._lowest = stored_number(state["lowest"])
        if self._failing and self._breach_started is None:
            raise ValueError("an open breach needs its start")
        if self._run_start is not None and self._lowest is None:
            raise ValueError("an open cooling run needs its lowest reading")
