"""Live probe compliance and daily temperature summaries, read from the log's readings.

A probe's acceptable range is what its jurisdiction profile judges for its
kind: the upper limit of a cold-holding rule (fridge, freezer, sample fridge),
the lower limit of hot holding. Kinds judged per cycle (core probe,
dishwasher, disinfection cabinet) or not at all (room) have no steady range;
their ``value_in_range`` is null. As in the rule engine, a reading stands for
the time until the next one, for at most the probe's silence threshold; the
minutes out of range of a day are those intervals that start on that day
with an out-of-range reading.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.events import rfc3339
from traceability.models import AlertRow, DeviceRow
from traceability.public_record import repository as repo
from traceability.rules.profiles import (
    ColdLimitRule,
    HotHoldingRule,
    JurisdictionProfile,
    load_profile,
)

TEMPERATURE = "Temperature"
CELSIUS = "CEL"
SUMMARY_DAYS = 7
# The page is public and unauthenticated: bound the work one request can cause. A
# probe reporting once a minute fits; a chattier one is summarised from its newest
# readings and marked "truncated".
MAX_PROBES = 30
MAX_READINGS_PER_PROBE = 10_080
MAX_PROBE_ALERTS = 200


@dataclass(frozen=True)
class Band:
    low: float | None
    high: float | None

    def holds(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


def temperature_band(profile: JurisdictionProfile, kind: str) -> Band | None:
    """The steady temperature range the profile holds a probe of this kind to, if any."""
    low: float | None = None
    high: float | None = None
    for name in profile.device_kinds.get(kind, []):
        rule = getattr(profile.rules, name)
        if isinstance(rule, ColdLimitRule):
            limit = rule.max_temperature.value
            high = limit if high is None else min(high, limit)
        elif isinstance(rule, HotHoldingRule):
            limit = rule.min_temperature.value
            low = limit if low is None else max(low, limit)
    if low is None and high is None:
        return None
    return Band(low, high)


def silence_threshold(profile: JurisdictionProfile, kind: str) -> timedelta:
    """The smallest ``silent_minutes`` of the rules judging this kind (probe_silent's if none),
    as the rule engine counts it."""
    minutes = []
    for name in profile.device_kinds.get(kind, []):
        operational = getattr(getattr(profile.rules, name), "operational", None)
        value = getattr(operational, "silent_minutes", None)
        if isinstance(value, int | float):
            minutes.append(float(value))
    default = profile.rules.probe_silent.operational.silent_minutes
    return timedelta(minutes=min(minutes, default=default))


def temperature_of(body: bytes) -> float | None:
    """The Celsius temperature of a logged probe reading, if it has one."""
    payload = json.loads(body).get("payload", {})
    for value in payload.get("values", []):
        if value.get("type") == TEMPERATURE and value.get("uom") == CELSIUS:
            return float(value["value"])
    return None


def _device_profile(device: DeviceRow) -> JurisdictionProfile | None:
    try:
        return load_profile(device.profile)
    except Invalid:
        return None


def _band_json(band: Band | None) -> dict[str, float | None] | None:
    return None if band is None else {"min": band.low, "max": band.high}


def _daily(
    readings: Sequence[tuple[datetime, float]],
    band: Band | None,
    silence: timedelta,
    zone: ZoneInfo,
    days: list[date],
    now: datetime,
) -> list[dict[str, Any]]:
    by_day: dict[date, list[float]] = defaultdict(list)
    out_minutes: dict[date, float] = defaultdict(float)
    for i, (at, value) in enumerate(readings):
        day = at.astimezone(zone).date()
        by_day[day].append(value)
        if band is not None and not band.holds(value):
            until = readings[i + 1][0] if i + 1 < len(readings) else now
            out_minutes[day] += max(min(until - at, silence), timedelta(0)).total_seconds() / 60
    summaries = []
    for day in days:
        values = by_day.get(day, [])
        summaries.append(
            {
                "date": day.isoformat(),
                "count": len(values),
                "min": min(values) if values else None,
                "max": max(values) if values else None,
                "mean": round(sum(values) / len(values), 2) if values else None,
                "minutes_out_of_range": (
                    None if band is None else round(out_minutes.get(day, 0.0), 1)
                ),
            }
        )
    return summaries


def probe_sections(
    session: Session, premises_id: str, timezone: str, now: datetime
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(live probe compliance now, last seven days of temperature summaries per probe)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(SUMMARY_DAYS - 1, -1, -1)]
    since = datetime.combine(days[0], datetime.min.time(), zone)
    devices = repo.active_devices(session, premises_id, limit=MAX_PROBES)
    alerts_by_subject: dict[str, list[AlertRow]] = defaultdict(list)
    for alert in repo.unrecovered_probe_alerts(session, premises_id, limit=MAX_PROBE_ALERTS):
        alerts_by_subject[alert.subject].append(alert)
    live: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    for device in devices:
        profile = _device_profile(device)
        band = None if profile is None else temperature_band(profile, device.kind)
        silence = (
            timedelta(minutes=30) if profile is None else silence_threshold(profile, device.kind)
        )
        last = repo.last_reading(session, device.device_id)
        last_at = None if last is None else last.occurred_at
        last_value = None if last is None else temperature_of(last.body)
        reporting = last_at is not None and now - last_at <= silence
        value_in_range = None if band is None or last_value is None else band.holds(last_value)
        open_alerts = alerts_by_subject.get(f"device:{device.device_id}", [])
        live.append(
            {
                "device_id": device.device_id,
                "kind": device.kind,
                "location": device.location,
                "range_celsius": _band_json(band),
                "last_reading_at": None if last_at is None else rfc3339(last_at),
                "last_value_celsius": last_value,
                "silent_after_minutes": silence.total_seconds() / 60,
                "reporting": reporting,
                "value_in_range": value_in_range,
                "open_alerts": [
                    {
                        "alert_id": a.alert_id,
                        "rule": a.rule,
                        "class": a.alert_class,
                        "opened_at": rfc3339(a.opened_at),
                    }
                    for a in open_alerts
                ],
                "in_range": reporting and value_in_range is not False and not open_alerts,
            }
        )
        rows = repo.readings_since(
            session, device.device_id, since, limit=MAX_READINGS_PER_PROBE + 1
        )
        truncated = len(rows) > MAX_READINGS_PER_PROBE
        readings = [
            (at, value)
            for at, body in rows[-MAX_READINGS_PER_PROBE:]
            if (value := temperature_of(body)) is not None
        ]
        summaries.append(
            {
                "device_id": device.device_id,
                "kind": device.kind,
                "location": device.location,
                "range_celsius": _band_json(band),
                "truncated": truncated,
                "days": _daily(readings, band, silence, zone, days, now),
            }
        )
    compliance = {
        "registered": len(devices),
        "reporting": sum(1 for p in live if p["reporting"]),
        "in_range": sum(1 for p in live if p["in_range"]),
        "probes": live,
    }
    return compliance, summaries
