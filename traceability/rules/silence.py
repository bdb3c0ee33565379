"""Probe silent: no reading for the silence threshold is a breach of its own."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from traceability.rules.state import iso, stored_time
from traceability.rules.verdicts import RuleEvent, Source, in_minutes, whole


class Silence:
    """No reading for the silence threshold: a breach from ``tick``, recovered by a reading."""

    def __init__(self, source: Source, threshold: timedelta) -> None:
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
            minutes = round(in_minutes(at - self._silent_since), 1)
            events.append(
                self._source.event(
                    "recovery",
                    self._silent_since,
                    at,
                    f"probe reporting again after {whole(minutes)} min without readings",
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
        minutes = round(in_minutes(now - since), 1)
        limit = in_minutes(self._threshold)
        return [
            self._source.event(
                "breach",
                since,
                now,
                f"no reading for {whole(minutes)} min (limit {whole(limit)} min)",
                {"minutes_silent": minutes, "silent_minutes": limit},
            )
        ]

    def to_state(self) -> dict[str, Any]:
        return {
            "last_seen": iso(self._last_seen),
            "baseline": iso(self._baseline),
            "silent_since": iso(self._silent_since),
        }

    def load_state(self, state: Mapping[str, Any]) -> None:
        self._last_seen = stored_time(state["last_seen"])
        self._baseline = stored_time(state["baseline"])
        self._silent_since = stored_time(state["silent_since"])
