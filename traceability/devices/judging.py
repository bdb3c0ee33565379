"""Running the food-safety rules on probe readings, and turning their verdicts into alerts.

A breach opens an alert and logs a ``violation`` event (phase "breach"); the
device coming back into range logs the same alert's "recovery". The rule
state of each device is stored with the device, so judgements span batches
and restarts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability.alerts import repository as alerts_repo
from traceability.alerts.raising import open_alert, violation_event
from traceability.rules.device_kinds import DeviceKind
from traceability.rules.engine import DeviceMonitor, Observation, RuleEvent
from traceability.rules.profiles import load_profile
from traceability.storage.models import DeviceRow
from traceability.transparency.events import PreparedEvent

# A reading's values as received: [{"type", "value", "uom"}, ...]
ReadingValues = Sequence[Mapping[str, Any]]


@dataclass
class Judgement:
    states: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[PreparedEvent] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)


def monitor_for(device: DeviceRow) -> DeviceMonitor:
    profile = load_profile(device.profile)
    if device.rule_state:
        return DeviceMonitor.from_state(json.loads(device.rule_state), profile)
    return DeviceMonitor(device.device_id, DeviceKind(device.kind), profile)


class ProbeRules:
    """Feeds readings and clock ticks to each device's monitor; records what they decide."""

    def judge(
        self,
        session: Session,
        batches: Sequence[tuple[DeviceRow, Sequence[tuple[datetime, ReadingValues]]]],
        now: datetime,
    ) -> Judgement:
        judgement = Judgement()
        for device, readings in batches:
            monitor = monitor_for(device)
            verdicts: list[RuleEvent] = []
            for measured_at, values in readings:
                observation = Observation(
                    device.device_id,
                    measured_at,
                    {str(v["type"]): float(v["value"]) for v in values},
                )
                verdicts.extend(monitor.observe(observation))
            judgement.states[device.device_id] = monitor.to_state()
            for verdict in verdicts:
                self._record(session, device, verdict, now, judgement)
        return judgement

    def tick(self, session: Session, devices: Sequence[DeviceRow], now: datetime) -> Judgement:
        """Time passing: silent probes, and breaches that only time can make."""
        judgement = Judgement()
        for device in devices:
            monitor = monitor_for(device)
            verdicts = monitor.tick(now)
            judgement.states[device.device_id] = monitor.to_state()
            for verdict in verdicts:
                self._record(session, device, verdict, now, judgement)
        return judgement

    def _record(
        self,
        session: Session,
        device: DeviceRow,
        verdict: RuleEvent,
        now: datetime,
        judgement: Judgement,
    ) -> None:
        subject = f"device:{device.device_id}"
        if verdict.phase == "breach":
            opened = open_alert(
                session,
                premises_id=device.premises_id,
                subject=subject,
                source="probe",
                rule=verdict.rule,
                alert_class=verdict.alert_class,
                detail=verdict.detail,
                started_at=verdict.started_at,
                now=now,
                measurements=verdict.measurements,
                device_id=device.device_id,
            )
            judgement.opened.append(opened.alert.alert_id)
            judgement.events.append(opened.event)
            return
        alert = alerts_repo.unrecovered_alert(session, subject, verdict.rule)
        event = _violation_event(device, verdict, None if alert is None else alert.alert_id, now)
        if alert is not None:
            alert.recovered_at = verdict.detected_at
            alert.recovery_event_id = event.event_id
            judgement.recovered.append(alert.alert_id)
        judgement.events.append(event)


def _violation_event(
    device: DeviceRow, verdict: RuleEvent, alert_id: str | None, now: datetime
) -> PreparedEvent:
    return violation_event(
        premises_id=device.premises_id,
        rule=verdict.rule,
        alert_class=verdict.alert_class,
        source="probe",
        description=verdict.detail,
        phase=verdict.phase,
        alert_id=alert_id,
        detected_at=verdict.detected_at,
        started_at=verdict.started_at,
        now=now,
        measurements=verdict.measurements,
        device_id=device.device_id,
    )
