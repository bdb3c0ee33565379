"""Reading the alert queue: who sees which alerts, the list with its filters, one alert's
timeline, and the JSON every channel (API, webhooks, stream) shows of an alert."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability.alerts import repository as repo
from traceability.alerts.repository import AlertQuery, Reach
from traceability.alerts.status import AWAITING_RESTAURANT, ESCALATIONS, SOURCES, STATUSES
from traceability.errors import Forbidden, Invalid, NotFound
from traceability.messages import message
from traceability.orgs.registry import Principal, can_read
from traceability.storage.models import AlertRow, AlertTransitionRow
from traceability.transparency.events import as_utc, rfc3339


def proof_link(event_id: str) -> str:
    return f"/v1/proofs/{event_id}"


def reach_of(principal: Principal) -> Reach:
    if principal.role in ("admin", "auditor"):
        return Reach(everything=True)
    if principal.role == "regulator":
        return Reach(districts=principal.districts)
    return Reach(org_id=principal.org_id)


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else rfc3339(moment)


def is_overdue(alert: AlertRow, now: datetime) -> bool:
    return (
        alert.due_at is not None
        and as_utc(alert.due_at) <= as_utc(now)
        and alert.status in AWAITING_RESTAURANT
    )


def alert_json(alert: AlertRow, now: datetime) -> dict[str, Any]:
    """What every channel shows of an alert (no personal data is ever in an alert)."""
    return {
        "alert_id": alert.alert_id,
        "premises_id": alert.premises_id,
        "subject": alert.subject,
        "source": alert.source,
        "rule": alert.rule,
        "class": alert.alert_class,
        "status": alert.status,
        "detail": alert.detail,
        "started_at": _time(alert.started_at),
        "opened_at": _time(alert.opened_at),
        "due_at": _time(alert.due_at),
        "overdue": is_overdue(alert, now),
        "escalation": alert.escalation,
        "escalated_at": _time(alert.escalated_at),
        "updated_at": _time(alert.updated_at),
        "closed_at": _time(alert.closed_at),
        "recovered_at": _time(alert.recovered_at),
        "breach_event_id": alert.breach_event_id,
        "proof": proof_link(alert.breach_event_id),
    }


def transition_json(row: AlertTransitionRow, payload: dict[str, Any] | None) -> dict[str, Any]:
    """One step of the timeline; ``payload`` is its logged event's payload when known."""
    payload = payload or {}
    return {
        "id": row.id,
        "alert_id": row.alert_id,
        "from_status": row.from_status,
        "to_status": row.to_status,
        "actor": row.actor,
        "note": row.note,
        "evidence_sha256": json.loads(row.evidence),
        "escalation": payload.get("escalation"),
        "due_at": payload.get("due_at"),
        "at": _time(row.at),
        "event_id": row.event_id,
        "proof": proof_link(row.event_id),
    }


def payloads(session: Session, event_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """The logged payload of each event (the log is the record of who did what)."""
    out: dict[str, dict[str, Any]] = {}
    for event_id, body in repo.event_bodies(session, event_ids).items():
        payload = json.loads(body).get("payload")
        if isinstance(payload, dict):
            out[event_id] = payload
    return out


@dataclass(frozen=True)
class AlertFilter:
    """The list's filters, as the API takes them; ``check`` names the one that is wrong."""

    district: str | None = None
    alert_class: int | None = None
    status: str | None = None
    source: str | None = None
    premises_id: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    escalation: str | None = None
    overdue: bool = False

    def to_query(self, now: datetime) -> AlertQuery:
        if self.alert_class is not None and self.alert_class not in (1, 2, 3):
            raise Invalid(message("alert.filter_class", value=self.alert_class))
        if self.status is not None and self.status not in STATUSES:
            raise Invalid(
                message("alert.filter_status", value=self.status, choices=", ".join(STATUSES))
            )
        if self.source is not None and self.source not in SOURCES:
            raise Invalid(
                message("alert.filter_source", value=self.source, choices=", ".join(SOURCES))
            )
        if self.escalation is not None and self.escalation not in ESCALATIONS:
            raise Invalid(
                message(
                    "alert.filter_escalation", value=self.escalation, choices=", ".join(ESCALATIONS)
                )
            )
        opened_from = None if self.opened_from is None else as_utc(self.opened_from)
        opened_to = None if self.opened_to is None else as_utc(self.opened_to)
        if opened_from is not None and opened_to is not None and opened_to < opened_from:
            raise Invalid(message("alert.filter_dates"))
        return AlertQuery(
            district=self.district,
            alert_class=self.alert_class,
            status=self.status,
            source=self.source,
            premises_id=self.premises_id,
            opened_from=opened_from,
            opened_to=opened_to,
            escalation=self.escalation,
            overdue_at=as_utc(now) if self.overdue else None,
            awaiting=AWAITING_RESTAURANT,
        )


def list_alerts(
    session: Session,
    principal: Principal,
    wanted: AlertFilter,
    *,
    now: datetime,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    """The alerts the caller may see that match the filters, newest first."""
    rows = repo.alerts(
        session, reach_of(principal), wanted.to_query(now), offset=offset, limit=limit
    )
    return [
        {**alert_json(row.alert, now), **_premises_json(row.premises_name, row.premises_timezone)}
        for row in rows
    ]


def _premises_json(name: str | None, timezone: str | None) -> dict[str, str | None]:
    """What the queue and the kitchen show of an alert's premises besides its id: the name,
    and the zone its times are shown in (null for unregistered premises)."""
    return {"premises_name": name, "premises_timezone": timezone}


def readable_alert(session: Session, principal: Principal, alert_id: str) -> AlertRow:
    """The alert, if the caller may read it: ``NotFound`` when there is none, ``Forbidden``
    when it belongs to premises out of the caller's reach (or to unregistered premises,
    which only admins and auditors see)."""
    alert = repo.alert(session, alert_id)
    if alert is None:
        raise NotFound(message("alert.not_found", alert_id=alert_id))
    if reach_of(principal).everything:
        return alert
    premises = repo.premises(session, alert.premises_id)
    if premises is None or not can_read(principal, premises):
        raise Forbidden(message("alert.read_forbidden", org_id=principal.org_id, alert_id=alert_id))
    return alert


def alert_detail(
    session: Session, principal: Principal, alert_id: str, now: datetime
) -> dict[str, Any]:
    """The alert with its timeline: the breach, every transition with its proof link,
    and the recovery when the rule saw the premises come back in range."""
    alert = readable_alert(session, principal, alert_id)
    premises = repo.premises(session, alert.premises_id)
    steps = repo.transitions(session, alert_id)
    logged = payloads(session, [s.event_id for s in steps])
    # The opening step points at the breach event: its rule's numbers let the pages word
    # the alert in the reader's language (the row's ``detail`` is the rule's English).
    breach = logged.get(alert.breach_event_id) or {}
    return {
        **alert_json(alert, now),
        **_premises_json(
            None if premises is None else premises.name,
            None if premises is None else premises.timezone,
        ),
        "breach": {
            "event_id": alert.breach_event_id,
            "proof": proof_link(alert.breach_event_id),
            "measurements": breach.get("measurements") or {},
            "device_id": breach.get("device_id"),
        },
        "recovery": (
            None
            if alert.recovery_event_id is None
            else {
                "event_id": alert.recovery_event_id,
                "at": _time(alert.recovered_at),
                "proof": proof_link(alert.recovery_event_id),
            }
        ),
        "timeline": [transition_json(s, logged.get(s.event_id)) for s in steps],
    }
