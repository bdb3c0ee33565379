"""Logging probe day summaries: a closed one per probe per local day once the day ended, and
a running "today so far" one at most every ``cadence``.

The worker's beat calls ``DaySummaries.tick`` every few minutes; in the embedded mode the
API calls it after a commit (eagerly), and the demo seeder after each hourly upload. A day
is closed at the first tick after its local midnight: readings of that day logged later
are not in it (each summary names the leaf range it covers).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.public_record import summary_repository as repo
from traceability.public_record.probes import (
    SUMMARY_DAYS,
    silence_threshold,
    temperature_band,
)
from traceability.public_record.summaries import (
    CLOSED,
    RUNNING,
    LoggedReading,
    SummaryWindow,
    day_end,
    day_start,
    summarise_day,
)
from traceability.rules.profiles import load_profile
from traceability.storage.models import DeviceRow, ProbeDaySummaryRow
from traceability.transparency.events import EventKind, ProbeDaySummary, prepared, rfc3339
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

CADENCE = timedelta(minutes=15)
DEFAULT_SILENCE = timedelta(minutes=30)


@dataclass
class SummaryReport:
    closed: int = 0
    running: int = 0
    devices: list[str] = field(default_factory=list)


def _rules_of(device: DeviceRow) -> tuple[Any, timedelta]:
    try:
        profile = load_profile(device.profile)
    except Invalid:
        return None, DEFAULT_SILENCE
    return temperature_band(profile, device.kind), silence_threshold(profile, device.kind)


class DaySummaries:
    """Decides which summaries are due and logs them, with their cache rows."""

    def __init__(self, log: TransparencyLog, *, cadence: timedelta = CADENCE) -> None:
        self._log = log
        self._ingest = Ingest(log)
        self.cadence = cadence

    def tick(self, session: Session, now: datetime, *, days: int = SUMMARY_DAYS) -> SummaryReport:
        """Log what is due as of ``now``: closed summaries of the last ``days`` ended days that
        have none, and a running summary of today when the last is ``cadence`` old."""
        now = now.astimezone(UTC)
        self._log.lock(session)  # one ticker at a time; decide on what is logged as of now
        report = SummaryReport()
        probes = repo.active_probes(session)
        # Every probe's cached summaries of the window, 500 probes a query.
        earliest = now.date() - timedelta(days=days + 1)
        cached: dict[tuple[str, date], ProbeDaySummaryRow] = {}
        for start in range(0, len(probes), 500):
            ids = [device.device_id for device, _zone in probes[start : start + 500]]
            for summary in repo.summaries_since(session, ids, earliest):
                cached[(summary.device_id, summary.day)] = summary
        for device, zone in probes:
            today = now.astimezone(ZoneInfo(zone)).date()
            have: dict[date, ProbeDaySummaryRow] = {}
            for offset in range(days + 1):
                found = cached.get((device.device_id, today - timedelta(days=offset)))
                if found is not None:
                    have[found.day] = found
            band, silence = _rules_of(device)
            for offset in range(days, 0, -1):
                day = today - timedelta(days=offset)
                end = day_end(day, zone)
                row = have.get(day)
                if (row is not None and row.status == CLOSED) or end <= device.registered_at:
                    continue
                window = SummaryWindow(device.device_id, day, zone, CLOSED, end, band, silence)
                self._log_summary(session, device, window, row, now)
                report.closed += 1
            row = have.get(today)
            if row is None or now - row.through >= self.cadence:
                window = SummaryWindow(device.device_id, today, zone, RUNNING, now, band, silence)
                self._log_summary(session, device, window, row, now)
                report.running += 1
            report.devices.append(device.device_id)
        return report

    def _log_summary(
        self,
        session: Session,
        device: DeviceRow,
        window: SummaryWindow,
        row: ProbeDaySummaryRow | None,
        now: datetime,
    ) -> None:
        end = min(window.through, day_end(window.day, window.timezone))
        found = repo.readings_between(
            session, device.device_id, day_start(window.day, window.timezone), end
        )
        payload = summarise_day([LoggedReading(i, body) for i, body in found], window)
        ProbeDaySummary.model_validate(payload)
        event = prepared(
            event_id=str(uuid.uuid4()),
            kind=EventKind.PROBE_DAY_SUMMARY,
            subject=f"device:{device.device_id}",
            occurred_at=window.through,
            occurred_text=rfc3339(window.through),
            recorded_at=now,
            recorded_text=rfc3339(now),
            payload=payload,
        )
        self._ingest.append(session, [event])
        if row is None:
            row = ProbeDaySummaryRow(device_id=device.device_id, day=window.day)
            session.add(row)
        row.premises_id = device.premises_id
        row.status = window.status
        row.through = window.through
        row.count = payload["count"]
        row.min = payload["min"]
        row.mean = payload["mean"]
        row.max = payload["max"]
        row.minutes_out_of_range = payload["minutes_out_of_range"]
        row.first_leaf_index = payload["first_leaf_index"]
        row.last_leaf_index = payload["last_leaf_index"]
        row.readings_sha256 = payload["readings_sha256"]
        row.event_id = event.event_id
        session.flush()
