"""Live probe compliance, and the daily temperature summaries as logged.

A probe's acceptable range is what its jurisdiction profile judges for its
kind: the upper limit of a cold-holding rule (fridge, freezer, sample fridge),
the lower limit of hot holding. Kinds judged per cycle (core probe,
dishwasher, disinfection cabinet) or not at all (room) have no steady range;
their ``value_in_range`` is null. The live figures (last reading, reporting, in
range) are the platform's view now, not a logged fact: the page labels them so.
The daily summaries are ``probe_day_summary`` events (see ``summaries``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from traceability.alerts import repository as alerts_repo
from traceability.errors import Invalid
from traceability.public_record import repository as repo
from traceability.public_record import summary_repository as summary_repo
from traceability.public_record.coverage import AnchorCoverage
from traceability.public_record.excursions import excursion_allowances
from traceability.rules.profiles import (
    ColdLimitRule,
    HotHoldingRule,
    JurisdictionProfile,
    load_profile,
)
from traceability.storage.models import AlertRow, DeviceRow
from traceability.transparency.events import rfc3339

TEMPERATURE = "Temperature"
CELSIUS = "CEL"
SUMMARY_DAYS = 7
# The page is public and unauthenticated: bound the work one request can cause.
MAX_PROBES = 30
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


def _day_json(day: date, row: Any, coverage: AnchorCoverage) -> dict[str, Any]:
    """One day of a probe as its logged summary says (all null before one is logged)."""
    if row is None:
        return {
            "date": day.isoformat(),
            "status": None,
            "count": 0,
            "min": None,
            "max": None,
            "mean": None,
            "minutes_out_of_range": None,
            "event": None,
        }
    return {
        "date": day.isoformat(),
        "status": row.status,
        "through": rfc3339(row.through),
        "count": row.count,
        "min": row.min,
        "max": row.max,
        "mean": row.mean,
        "minutes_out_of_range": row.minutes_out_of_range,
        "first_leaf_index": row.first_leaf_index,
        "last_leaf_index": row.last_leaf_index,
        "readings_sha256": row.readings_sha256,
        "event": coverage.proof(row.event_id),
    }


def probe_sections(
    session: Session,
    premises_id: str,
    timezone: str,
    now: datetime,
    also: Iterable[str] = (),
) -> tuple[dict[str, Any], list[dict[str, Any]], AnchorCoverage]:
    """(live probe compliance now, last seven days of temperature summaries per probe).

    The days are the probes' logged ``probe_day_summary`` events (their cache rows): no
    raw reading is rescanned, so the cost does not grow with history."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    days = [today - timedelta(days=n) for n in range(SUMMARY_DAYS - 1, -1, -1)]
    devices = repo.active_devices(session, premises_id, limit=MAX_PROBES)
    lasts = repo.last_readings(session, devices)
    logged = {
        (row.device_id, row.day): row
        for row in summary_repo.day_summaries(session, [d.device_id for d in devices], days[0])
    }
    coverage = AnchorCoverage.of(session, [*also, *(row.event_id for row in logged.values())])
    alerts_by_subject: dict[str, list[AlertRow]] = defaultdict(list)
    for alert in alerts_repo.unrecovered_probe_alerts(session, premises_id, limit=MAX_PROBE_ALERTS):
        alerts_by_subject[alert.subject].append(alert)
    live: list[dict[str, Any]] = []
    summaries: list[dict[str, Any]] = []
    for device in devices:
        profile = _device_profile(device)
        band = None if profile is None else temperature_band(profile, device.kind)
        silence = (
            timedelta(minutes=30) if profile is None else silence_threshold(profile, device.kind)
        )
        last = lasts.get(device.device_id)
        last_at = None if last is None else last[0]
        last_value = None if last is None else temperature_of(last[1])
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
        summaries.append(
            {
                "device_id": device.device_id,
                "kind": device.kind,
                "location": device.location,
                "range_celsius": _band_json(band),
                # What the rules tolerate out of range before an alert (profile, not logged).
                "allowances": [] if profile is None else excursion_allowances(profile, device.kind),
                "days": [
                    _day_json(day, logged.get((device.device_id, day)), coverage) for day in days
                ],
            }
        )
    compliance = {
        "registered": len(devices),
        "reporting": sum(1 for p in live if p["reporting"]),
        "in_range": sum(1 for p in live if p["in_range"]),
        "probes": live,
    }
    return compliance, summaries, coverage
