"""A probe's day as a logged fact: the pure derivation of a ``probe_day_summary`` payload.

``summarise_day(readings, window)`` is a pure function of logged bytes: given the
probe readings (leaf index and exact event bytes) and the summary's window, it
returns the payload the platform logs. ``recompute(payload, readings)`` reads the
window back out of a logged payload, so an auditor holding the readings the
summary names (same device, leaf index between ``first_leaf_index`` and
``last_leaf_index``) recomputes it and compares. docs/public-record.md states the
same rules in prose:

- a reading belongs to the summary when its event is a ``probe_reading`` of
  ``device:{device_id}``, carries a Celsius ``Temperature`` value, and its
  ``occurred_at`` lies in ``[start of the local day, through)``;
- ``count``, ``min``, ``max`` and ``mean`` (rounded to 2 decimals) are over
  those values;
- a reading outside ``range_celsius`` stands for the time until the next reading,
  at most ``silent_after_minutes`` and never past ``through``; ``minutes_out_of_range``
  is the sum of those spans in minutes, rounded to 1 decimal (null without a range);
- ``readings_sha256`` is SHA-256 over the concatenated 32-byte RFC 9162 leaf
  hashes of those readings in leaf-index order (SHA-256 of nothing for none).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from traceability import merkle
from traceability.errors import Invalid
from traceability.public_record.probes import Band
from traceability.transparency.events import EventKind, ProbeDaySummary, rfc3339

TEMPERATURE = "Temperature"
CELSIUS = "CEL"
CLOSED = "closed"
RUNNING = "running"


@dataclass(frozen=True)
class LoggedReading:
    """A logged event as anyone can fetch it: its leaf index and its exact bytes."""

    leaf_index: int
    body: bytes


@dataclass(frozen=True)
class SummaryWindow:
    """Which readings a summary covers and the rules it judges them by."""

    device_id: str
    day: date
    timezone: str
    status: str
    through: datetime
    band: Band | None
    silent_after: timedelta

    @property
    def start(self) -> datetime:
        return day_start(self.day, self.timezone)

    @classmethod
    def of(cls, payload: Mapping[str, Any]) -> SummaryWindow:
        """The window a logged payload states (validated as the log's schema)."""
        model = ProbeDaySummary.model_validate(payload)
        band = (
            None
            if model.range_celsius is None
            else Band(model.range_celsius.min, model.range_celsius.max)
        )
        return cls(
            device_id=model.device_id,
            day=model.date,
            timezone=model.timezone,
            status=model.status,
            through=model.through.astimezone(UTC),
            band=band,
            silent_after=timedelta(minutes=model.silent_after_minutes),
        )


def day_start(day: date, timezone: str) -> datetime:
    """Local midnight starting ``day``, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(timezone)).astimezone(UTC)


def day_end(day: date, timezone: str) -> datetime:
    """Local midnight ending ``day`` (the next day's start), in UTC."""
    return day_start(day + timedelta(days=1), timezone)


def _parse_instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _temperature(payload: Mapping[str, Any]) -> float | None:
    for value in payload.get("values", []):
        if value.get("type") == TEMPERATURE and value.get("uom") == CELSIUS:
            return float(value["value"])
    return None


@dataclass(frozen=True)
class _Point:
    leaf_index: int
    leaf_hash: bytes
    at: datetime
    value: float


def _points(readings: Iterable[LoggedReading], window: SummaryWindow) -> list[_Point]:
    subject = f"device:{window.device_id}"
    start, through = window.start, window.through
    points = []
    for reading in readings:
        try:
            event = json.loads(reading.body)
            if event.get("kind") != EventKind.PROBE_READING.value:
                continue
            if event.get("subject") != subject:
                continue
            at = _parse_instant(str(event["occurred_at"]))
            value = _temperature(event.get("payload") or {})
        except (ValueError, KeyError, TypeError, AttributeError):
            raise Invalid(f"leaf {reading.leaf_index} is not a readable logged event") from None
        if value is None or not start <= at < through:
            continue
        points.append(_Point(reading.leaf_index, merkle.leaf_hash(reading.body), at, value))
    return points


def _minutes_out(points: list[_Point], window: SummaryWindow) -> float | None:
    band = window.band
    if band is None:
        return None
    in_time = sorted(points, key=lambda p: (p.at, p.leaf_index))
    total = timedelta(0)
    for i, point in enumerate(in_time):
        if band.holds(point.value):
            continue
        until = in_time[i + 1].at if i + 1 < len(in_time) else window.through
        until = min(until, point.at + window.silent_after, window.through)
        total += max(until - point.at, timedelta(0))
    return round(total.total_seconds() / 60, 1)


def summarise_day(readings: Iterable[LoggedReading], window: SummaryWindow) -> dict[str, Any]:
    """The ``probe_day_summary`` payload of ``window`` over ``readings`` (others ignored)."""
    points = _points(readings, window)
    by_leaf = sorted(points, key=lambda p: p.leaf_index)
    values = [p.value for p in points]
    band = window.band
    return {
        "device_id": window.device_id,
        "date": window.day.isoformat(),
        "timezone": window.timezone,
        "status": window.status,
        "through": rfc3339(window.through),
        "range_celsius": None if band is None else {"min": band.low, "max": band.high},
        "silent_after_minutes": window.silent_after.total_seconds() / 60,
        "count": len(values),
        "min": min(values) if values else None,
        "mean": round(sum(values) / len(values), 2) if values else None,
        "max": max(values) if values else None,
        "minutes_out_of_range": _minutes_out(points, window),
        "first_leaf_index": by_leaf[0].leaf_index if by_leaf else None,
        "last_leaf_index": by_leaf[-1].leaf_index if by_leaf else None,
        "readings_sha256": hashlib.sha256(b"".join(p.leaf_hash for p in by_leaf)).hexdigest(),
    }


def recompute(payload: Mapping[str, Any], readings: Iterable[LoggedReading]) -> dict[str, Any]:
    """A logged summary recomputed from readings; equal to ``payload`` when it is true.

    Pass the device's readings with leaf index in ``[first_leaf_index, last_leaf_index]``.
    """
    first, last = payload.get("first_leaf_index"), payload.get("last_leaf_index")
    named = [
        r
        for r in readings
        if first is not None and last is not None and first <= r.leaf_index <= last
    ]
    return summarise_day(named, SummaryWindow.of(payload))
