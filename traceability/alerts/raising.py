"""Opening an alert: one row in the queue and one ``violation`` event in the log.

Every source (probe rules, record checks, vision) opens alerts through
``open_alert`` so that deadlines, notifications and the log entry are the
same whatever raised it. The caller appends the returned event (it usually
holds the log lock already and appends other events in the same batch).

Opening also writes the alert's first timeline step (no status → ``open``, by
``system``, pointing at the breach event) so that the console's stream sees new
alerts and transitions in one sequence, and the webhook outbox rows of the
organisations to notify (sent after the caller commits).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from traceability.alerts import repository as repo
from traceability.alerts import webhooks
from traceability.alerts.queue import transition_json
from traceability.alerts.status import OPEN, SOURCES, SYSTEM_ACTOR
from traceability.storage.models import AlertRow, AlertTransitionRow
from traceability.transparency.events import EventKind, PreparedEvent, prepared, rfc3339

__all__ = ["RECTIFY_WITHIN", "SOURCES", "OpenedAlert", "open_alert", "violation_event"]

# FOOD_SAFETY_RULES.md, "Alert classes and deadlines". Class 3 is "routine
# supervision" there, with no deadline; we give it 30 days so that it can
# escalate too (an assumption, stated in the issue notes).
RECTIFY_WITHIN: dict[int, timedelta] = {
    1: timedelta(hours=72),
    2: timedelta(days=10),
    3: timedelta(days=30),
}


@dataclass(frozen=True)
class OpenedAlert:
    alert: AlertRow
    event: PreparedEvent


def open_alert(
    session: Session,
    *,
    premises_id: str,
    subject: str,
    source: str,
    rule: str,
    alert_class: int,
    detail: str,
    started_at: datetime,
    now: datetime,
    evidence_sha256: Sequence[str] = (),
    measurements: Mapping[str, float] | None = None,
    device_id: str | None = None,
) -> OpenedAlert:
    """Insert an open alert (due by its class's deadline) and build its breach event."""
    if source not in SOURCES:
        raise ValueError(f"unknown alert source {source!r}")
    if alert_class not in RECTIFY_WITHIN:
        raise ValueError(f"unknown alert class {alert_class!r}")
    alert_id = str(uuid.uuid4())
    event = violation_event(
        premises_id=premises_id,
        rule=rule,
        alert_class=alert_class,
        source=source,
        description=detail,
        phase="breach",
        alert_id=alert_id,
        detected_at=now,
        started_at=started_at,
        now=now,
        evidence_sha256=evidence_sha256,
        measurements=measurements,
        device_id=device_id,
    )
    row = AlertRow(
        alert_id=alert_id,
        premises_id=premises_id,
        subject=subject,
        source=source,
        rule=rule,
        alert_class=alert_class,
        status=OPEN,
        detail=detail,
        started_at=started_at,
        opened_at=now,
        breach_event_id=event.event_id,
        due_at=now + RECTIFY_WITHIN[alert_class],
        escalation="none",
        updated_at=now,
    )
    session.add(row)
    session.flush()
    opening = repo.add_transition(
        session,
        AlertTransitionRow(
            alert_id=alert_id,
            from_status=None,
            to_status=OPEN,
            actor=SYSTEM_ACTOR,
            note=None,
            evidence="[]",
            at=now,
            event_id=event.event_id,
        ),
    )
    webhooks.notify(
        session,
        row,
        webhooks.OPENED,
        now,
        transition_json(opening, None),
    )
    return OpenedAlert(row, event)


def violation_event(
    *,
    premises_id: str,
    rule: str,
    alert_class: int,
    source: str,
    description: str,
    phase: str,
    alert_id: str | None,
    detected_at: datetime,
    started_at: datetime | None,
    now: datetime,
    evidence_sha256: Sequence[str] = (),
    measurements: Mapping[str, float] | None = None,
    device_id: str | None = None,
) -> PreparedEvent:
    """The ``violation`` event of a breach or a recovery (no personal data in it)."""
    payload: dict[str, Any] = {
        "rule": rule,
        "alert_class": alert_class,
        "source": source,
        "description": description,
        "evidence_sha256": list(evidence_sha256),
        "phase": phase,
        "alert_id": alert_id,
        "device_id": device_id,
        "started_at": None if started_at is None else rfc3339(started_at),
        "measurements": {k: float(v) for k, v in (measurements or {}).items()},
    }
    return prepared(
        event_id=str(uuid.uuid4()),
        kind=EventKind.VIOLATION,
        subject=f"premises:{premises_id}",
        occurred_at=detected_at,
        occurred_text=rfc3339(detected_at),
        recorded_at=now,
        recorded_text=rfc3339(now),
        payload=payload,
    )
