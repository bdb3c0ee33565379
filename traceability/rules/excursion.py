"""Time out of range, judged the same way for every limit rule (``limits.Limit``).

An episode starts at the first out-of-range reading. A reading stands for the
time until the next one, but for no longer than the device's silence threshold
(``hold_cap``). Time out of range accumulates within the episode, counted over
a trailing window when the rule has one; when it reaches the tolerance the rule
breaches, once per episode. The episode ends only after readings have stayed
clear of the limit by the hysteresis margin for the hysteresis time; a recovery
event follows if it had breached. ``tick`` also counts the time since the last
reading, so a probe stuck on a warm reading breaches without new readings.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from traceability.rules.limits import EpisodeFacts, Limit
from traceability.rules.state import iso, stored_flag, stored_number, stored_time
from traceability.rules.verdicts import RuleEvent, Source, in_minutes


class Excursion:
    """Cumulative time out of range within an episode, with hysteresis before recovery."""

    def __init__(self, source: Source, limit: Limit, hold_cap: timedelta) -> None:
        self._source = source
        self._limit = limit
        self._hold_cap = hold_cap
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
        return self._limit.quantity

    @property
    def in_breach(self) -> bool:
        return self._breached

    def observe(self, at: datetime, value: float) -> list[RuleEvent]:
        limit = self._limit
        if self._last_at is not None and at <= self._last_at:
            return []
        held_gap = self._last_at is None or at - self._last_at <= self._hold_cap
        if self._last_at is not None and self._last_out:
            self._add_out(self._last_at, min(at, self._last_at + self._hold_cap))
        out = limit.is_out(value)
        if out:
            if self._episode_start is None:
                self._episode_start = at
            self._clear_since = None
            self._highest = value if self._highest is None else max(self._highest, value)
            self._lowest = value if self._lowest is None else min(self._lowest, value)
        elif self._episode_start is not None:
            if not limit.is_clear(value):
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
            if counted >= limit.tolerance:
                events.append(self._breach(at, counted))
        if (
            self._episode_start is not None
            and self._clear_since is not None
            and at - self._clear_since >= limit.hysteresis
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
            pending = (self._last_at, min(now, self._last_at + self._hold_cap))
        counted = self._counted(now, pending)
        if counted >= self._limit.tolerance:
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
        if self._limit.window is not None:
            horizon = now - self._limit.window
            self._intervals = [iv for iv in self._intervals if iv[1] > horizon]

    def _counted(self, now: datetime, pending: tuple[datetime, datetime] | None) -> timedelta:
        horizon = None if self._limit.window is None else now - self._limit.window
        intervals = self._intervals if pending is None else [*self._intervals, pending]
        total = timedelta(0)
        for start, end in intervals:
            begin = start if horizon is None else max(start, horizon)
            finish = min(end, now)
            if finish > begin:
                total += finish - begin
        return total

    def _facts(self, at: datetime, counted: timedelta) -> EpisodeFacts:
        assert self._episode_start is not None
        assert self._highest is not None and self._lowest is not None
        return EpisodeFacts(
            minutes_out=round(in_minutes(counted), 1),
            total_minutes_out=round(in_minutes(max(self._total_out, counted)), 1),
            episode_minutes=round(in_minutes(at - self._episode_start), 1),
            highest=self._highest,
            lowest=self._lowest,
        )

    def _breach(self, at: datetime, counted: timedelta) -> RuleEvent:
        assert self._episode_start is not None
        self._breached = True
        detail, measurements = self._limit.worded(self._limit.breach, self._facts(at, counted))
        return self._source.event("breach", self._episode_start, at, detail, measurements)

    def _end_episode(self, at: datetime) -> list[RuleEvent]:
        assert self._episode_start is not None
        events: list[RuleEvent] = []
        if self._breached:
            detail, measurements = self._limit.worded(
                self._limit.recovery, self._facts(at, timedelta(0))
            )
            events.append(
                self._source.event("recovery", self._episode_start, at, detail, measurements)
            )
        self._reset_episode()
        return events

    def to_state(self) -> dict[str, Any]:
        return {
            "last_at": iso(self._last_at),
            "last_out": self._last_out,
            "episode_start": iso(self._episode_start),
            "intervals": [[s.isoformat(), e.isoformat()] for s, e in self._intervals],
            "total_out_seconds": self._total_out.total_seconds(),
            "highest": self._highest,
            "lowest": self._lowest,
            "clear_since": iso(self._clear_since),
            "breached": self._breached,
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_at = stored_time(state["last_at"])
        self._last_out = stored_flag(state["last_out"])
        self._episode_start = stored_time(state["episode_start"])
        intervals: list[tuple[datetime, datetime]] = []
        for start, end in state["intervals"]:
            begin, finish = stored_time(start), stored_time(end)
            if begin is None or finish is None:
                raise ValueError("an out-of-range interval needs a start and an end")
            intervals.append((begin, finish))
        self._intervals = intervals
        self._total_out = timedelta(seconds=stored_number(state["total_out_seconds"]) or 0.0)
        self._highest = stored_number(state["highest"])
        self._lowest = stored_number(state["lowest"])
        self._clear_since = stored_time(state["clear_since"])
        self._breached = stored_flag(state["breached"])
        if self._episode_start is not None and (self._highest is None or self._lowest is None):
            raise ValueError("an open episode needs its extreme readings")
