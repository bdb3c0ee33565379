"""The date range an export covers: inclusive days, bounded so one request stays small."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from traceability.errors import Invalid

# Days the log can hold; beyond them a day's bounds in some time zone would not even be
# representable (date.max + 1 day).
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2999, 12, 31)


@dataclass(frozen=True)
class Period:
    """``first`` to ``last``, both days included."""

    first: date
    last: date

    def instants(self, timezone: str = "UTC") -> tuple[datetime, datetime]:
        """[start, end) in UTC of these days as kept in ``timezone`` (a premises' zone):
        a restaurant's day is its local day."""
        zone = UTC if timezone == "UTC" else ZoneInfo(timezone)
        start = datetime.combine(self.first, time(0), tzinfo=zone)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def period(first: date, last: date, *, max_days: int) -> Period:
    """Check a requested range: ``from`` not after ``to``, at most ``max_days`` days, within
    ``FIRST_DAY``..``LAST_DAY``."""
    for name, day in (("from", first), ("to", last)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise Invalid(
                f"{name} ({day.isoformat()}) must be between {FIRST_DAY.isoformat()} "
                f"and {LAST_DAY.isoformat()}"
            )
    if first > last:
        raise Invalid(f"from ({first.isoformat()}) is after to ({last.isoformat()})")
    days = (last - first).days + 1
    if days > max_days:
        raise Invalid(
            f"the range {first.isoformat()}..{last.isoformat()} covers {days} days; "
            f"at most {max_days} per export"
        )
    return Period(first, last)
