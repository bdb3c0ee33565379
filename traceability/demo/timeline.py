"""The seeding's simulated week: a clock that ends at the real "now", and the queue of
steps replayed in time order (each handed its instant as ``now``)."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from traceability.errors import Invalid, SunledgerError

WEEK = timedelta(days=7)

Action = Callable[[datetime], None]


class Timeline:
    """The week ending at ``now`` in the city's time zone, and the steps scheduled in it."""

    def __init__(self, now: datetime | None, zone: ZoneInfo) -> None:
        self.now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.start = self.now - WEEK
        self.zone = zone
        self.today = self.now.astimezone(self.zone).date()
        self._queue: list[tuple[datetime, int, str, Action]] = []
        self._order = 0

    def at(self, day: int, hhmm: str) -> datetime:
        """Local ``hh:mm`` on ``day`` (0 today, -1 yesterday) as an aware UTC instant."""
        hour, minute = (int(x) for x in hhmm.split(":"))
        local = datetime.combine(self.today + timedelta(days=day), time(hour, minute), self.zone)
        return local.astimezone(UTC)

    def schedule(self, when: datetime, label: str, action: Action) -> None:
        """Run ``action(when)`` at ``when`` if that lies inside the week (else drop it)."""
        if self.start <= when <= self.now:
            self._order += 1
            heapq.heappush(self._queue, (when, self._order, label, action))

    def replay(self, on_progress: Callable[[int, int], None] | None, extra: int) -> int:
        """Run every step in time order (steps may schedule more); ``extra`` steps the
        caller runs afterwards count in the progress total. Returns that total."""
        total = len(self._queue) + extra
        done = 0
        while self._queue:
            when, _order, label, action = heapq.heappop(self._queue)
            try:
                action(when)
            except SunledgerError as exc:
                raise Invalid(f"demo step {label!r} at {when.isoformat()}: {exc.detail}") from exc
            done += 1
            total = max(total, done + len(self._queue) + extra)
            if on_progress is not None:
                on_progress(done, total)
        return total
