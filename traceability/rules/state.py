"""Reading and writing a rule's JSON-able state, and the one clock check every rule relies on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from traceability.errors import Invalid


def aware_utc(moment: datetime, what: str) -> datetime:
    """``moment`` in UTC; ``Invalid`` naming ``what`` when it carries no timezone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise Invalid(f"{what} must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def stored_time(value: Any) -> datetime | None:
    """A stored ISO 8601 time (or ``None``); ``ValueError`` for anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 time, got {value!r}")
    return aware_utc(datetime.fromisoformat(value), "a stored time")


def stored_number(value: Any) -> float | None:
    """A stored number (or ``None``); ``ValueError`` for anything else, booleans included."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {value!r}")
    return float(value)


def stored_flag(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {value!r}")
    return value
