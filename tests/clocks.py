"""The test clock, and the pinned clocks ``make test`` runs the time-sensitive modules under.

A test never builds an instant from the wall clock plus a fixed time of day:
it takes ``clock.now()`` and derives local days and times from it in the
premises' zone, or uses fixed instants. ``make test`` then runs every module
marked ``clock_sensitive`` again under each of ``PINNED_CLOCKS`` (with the
process ``TZ`` set to something other than UTC), so a test that only passes at
some hours fails at every hour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

PINNED_CLOCK_ENV = "SUNLEDGER_TEST_CLOCK"
PREMISES_ZONE = ZoneInfo("Asia/Shanghai")  # the zone the test city's premises keep

# name: (instant in UTC, TZ of the test process). Local times are Asia/Shanghai (+08:00).
# CI once failed at 10:20 local (a lunch sample at 11:30 "in the future"): every clock
# before 11:25 local catches that, the first one here among them.
PINNED_CLOCKS: dict[str, tuple[str, str]] = {
    "just-after-local-midnight": ("2026-03-14T16:00:30+00:00", "America/New_York"),
    "local-11-29": ("2026-07-01T03:29:00+00:00", "Pacific/Kiritimati"),
    "local-23-59": ("2026-09-09T15:59:00+00:00", "Asia/Kolkata"),
    "last-day-of-month": ("2026-02-28T15:58:00+00:00", "Europe/London"),
    "year-boundary": ("2026-12-31T16:00:10+00:00", "America/Los_Angeles"),
}


@dataclass(frozen=True)
class TestClock:
    """Reads the process clock once per call; pinned by time-machine when the run is."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def now(self) -> datetime:
        return datetime.now(UTC)

    def today(self, zone: ZoneInfo = PREMISES_ZONE) -> date:
        """Today in the premises' zone (never the machine's)."""
        return self.now().astimezone(zone).date()

    def local(
        self, day: date, hour: int, minute: int = 0, zone: ZoneInfo = PREMISES_ZONE
    ) -> datetime:
        return datetime.combine(day, time(hour, minute), zone)


if __name__ == "__main__":  # `python tests/clocks.py` prints NAME INSTANT TZ lines for the Makefile
    for name, (instant, tz) in PINNED_CLOCKS.items():
        print(name, instant, tz)
