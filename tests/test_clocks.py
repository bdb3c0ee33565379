"""The pinned clocks cover the hours and dates that once broke the suite, and pinning works."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from clocks import PINNED_CLOCK_ENV, PINNED_CLOCKS, PREMISES_ZONE, TestClock


def _local(instant: str) -> datetime:
    return datetime.fromisoformat(instant).astimezone(PREMISES_ZONE)


def test_the_pinned_clocks_cover_midnight_late_evening_month_end_and_new_year() -> None:
    local = {name: _local(instant) for name, (instant, _tz) in PINNED_CLOCKS.items()}
    assert any(t.hour == 0 and t.minute < 5 for t in local.values()), "just after local midnight"
    assert any(t.hour == 23 and t.minute == 59 for t in local.values()), "23:59 local"
    assert any((t + timedelta(days=1)).month != t.month for t in local.values()), "month end"
    assert any(
        t.year != datetime.fromisoformat(i).astimezone(UTC).year
        for t, (i, _tz) in zip(local.values(), PINNED_CLOCKS.values(), strict=True)
    ), "a local new year while UTC is still in the old one"
    assert any(t.hour == 11 and t.minute == 29 for t in local.values()), "11:29 local"
    zones = [tz for _instant, tz in PINNED_CLOCKS.values()]
    assert "UTC" not in zones and len(set(zones)) >= 4, "the process TZ is never the premises' day"


@pytest.mark.skipif(not os.environ.get(PINNED_CLOCK_ENV), reason="the run is not pinned")
def test_a_pinned_run_starts_every_test_at_the_pinned_instant(clock: TestClock) -> None:
    pinned = datetime.fromisoformat(os.environ[PINNED_CLOCK_ENV])
    assert timedelta(0) <= clock.now() - pinned < timedelta(minutes=1)
    assert clock.today() == pinned.astimezone(PREMISES_ZONE).date()


pytestmark = pytest.mark.clock_sensitive  # runs in `make clocks` too: proves the pin took
