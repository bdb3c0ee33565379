"""All SQL of the alert queue: alerts, their transitions, evidence and the webhook outbox."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, true, update
from sqlalchemy.orm import Session

from traceability.storage.models import (
    AlertRow,
    AlertTransitionRow,
    AttachmentRow,
    EventRow,
    OrganisationRow,
    PremisesRow,
    WebhookDeliveryRow,
)


@dataclass(frozen=True)
class Reach:
    """Which alerts a caller may see: all, those of an organisation's premises, or those
    of premises in some districts. Alerts of unregistered premises only under ``everything``."""

    everything: bool = False
    org_id: str | None = None
    districts: frozenset[str] = frozenset()


@dataclass(frozen=True)
class AlertQuery:
    district: str | None = None
    alert_class: int | None = None
    status: str | None = None
    source: str | None = None
    premises_id: str | None = None
    opened_from: datetime | None = None
    opened_to: datetime | None = None
    escalation: str | None = None
    overdue_at: datetime | None = None
    """When set: only alerts past due at this instant and still awaiting the restaurant."""
    awaiting: tuple[str, ...] = ()


def _reach(reach: Reach) -> ColumnElement[bool]:
    """What ``reach`` may see, for a query that outer-joins ``PremisesRow``."""
    if reach.everything:
        return true()
    if reach.org_id is not None:
        return PremisesRow.org_id == reach.org_id
    return PremisesRow.district.in_(sorted(reach.districts))


def alert(session: Session, alert_id: str) -> AlertRow | None:
    """The alert as stored now (re-read, so a decision after the log lock sees the latest)."""
    return session.execute(
        select(AlertRow)
        .where(AlertRow.alert_id == alert_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def premises(session: Session, premises_id: str) -> PremisesRow | None:
    return session.get(PremisesRow, premises_id)


@dataclass(frozen=True)
class ListedAlert:
    """An alert with what the queue shows of its premises: the name and the IANA time zone
    its times are read in; both None for unregistered premises (seen only by everyone-reach
    callers)."""

    alert: AlertRow
    premises_name: str | None
    premises_timezone: str | None


def alerts(
    session: Session, reach: Reach, query: AlertQuery, *, offset: int, limit: int
) -> Sequence[ListedAlert]:
    """The alerts in ``reach`` matching ``query``, newest first, each with its premises'
    name and zone from the same query (the join that scopes the list)."""
    stmt = select(AlertRow, PremisesRow.name, PremisesRow.timezone).outerjoin(
        PremisesRow, PremisesRow.premises_id == AlertRow.premises_id
    )
    stmt = stmt.where(_reach(reach))
    if query.district is not None:
        stmt = stmt.where(PremisesRow.district == query.district)
    if query.alert_class is not None:
        stmt = stmt.where(AlertRow.alert_class == query.alert_class)
    if query.status is not None:
        stmt = stmt.where(AlertRow.status == query.status)
    if query.source is not None:
        stmt = stmt.where(AlertRow.source == query.source)
    if query.premises_id is not None:
        stmt = stmt.where(AlertRow.premises_id == query.premises_id)
    if query.opened_from is not None:
        stmt = stmt.where(AlertRow.opened_at >= query.opened_from)
    if query.opened_to is not None:
        stmt = stmt.where(AlertRow.opened_at < query.opened_to)
    if query.escalation is not None:
        stmt = stmt.where(AlertRow.escalation == query.escalation)
    if query.overdue_at is not None:
        stmt = stmt.where(
            AlertRow.due_at.is_not(None),
            AlertRow.due_at <= query.overdue_at,
            AlertRow.status.in_(query.awaiting),
        )
    stmt = stmt.order_by(AlertRow.opened_at.desc(), AlertRow.alert_id).offset(offset).limit(limit)
    return [ListedAlert(row, name, zone) for row, name, zone in session.execute(stmt)]


def transitions(session: Session, alert_id: str) -> Sequence[AlertTransitionRow]:
    return list(
        session.execute(
            select(AlertTransitionRow)
            .where(AlertTransitionRow.alert_id == alert_id)
            .order_by(AlertTransitionRow.id)
        ).scalars()
    )


def event_bodies(session: Session, event_ids: Sequence[str]) -> dict[str, bytes]:
    if not event_ids:
        return {}
    rows = session.execute(
        select(EventRow.event_id, EventRow.body).where(EventRow.event_id.in_(list(event_ids)))
    )
    return {event_id: bytes(body) for event_id, body in rows}


def add_transition(session: Session, row: AlertTransitionRow) -> AlertTransitionRow:
    session.add(row)
    session.flush()
    return row


def attachments_present(session: Session, premises_id: str, digests: Sequence[bytes]) -> set[bytes]:
    """Which of these SHA-256 digests are attachments uploaded for the premises."""
    if not digests:
        return set()
    rows = session.execute(
        select(AttachmentRow.sha256).where(
            AttachmentRow.premises_id == premises_id, AttachmentRow.sha256.in_(list(digests))
        )
    ).scalars()
    return {bytes(d) for d in rows}


def overdue(session: Session, now: datetime, awaiting: Sequence[str]) -> Sequence[AlertRow]:
    """Alerts past due and awaiting the restaurant that have not had their red card yet."""
    return list(
        session.execute(
            select(AlertRow)
            .where(
                AlertRow.due_at.is_not(None),
                AlertRow.due_at <= now,
                AlertRow.status.in_(list(awaiting)),
                AlertRow.escalation != "red",
            )
            .order_by(AlertRow.due_at, AlertRow.alert_id)
            .execution_options(populate_existing=True)
        ).scalars()
    )


# -- the event stream ---------------------------------------------------------


def last_transition_id(session: Session) -> int:
    last = session.execute(select(func.max(AlertTransitionRow.id))).scalar()
    return 0 if last is None else int(last)


def transitions_after(
    session: Session, reach: Reach, after_id: int, limit: int
) -> Sequence[tuple[AlertTransitionRow, AlertRow]]:
    stmt = (
        select(AlertTransitionRow, AlertRow)
        .join(AlertRow, AlertRow.alert_id == AlertTransitionRow.alert_id)
        .outerjoin(PremisesRow, PremisesRow.premises_id == AlertRow.premises_id)
        .where(AlertTransitionRow.id > after_id)
    )
    stmt = stmt.where(_reach(reach)).order_by(AlertTransitionRow.id).limit(limit)
    return [(t, a) for t, a in session.execute(stmt)]


# -- webhooks -----------------------------------------------------------------


def webhook_recipients(session: Session, owner_org: str, district: str) -> list[OrganisationRow]:
    """The owning organisation and every regulator of the district, if they set a webhook."""
    rows = session.execute(
        select(OrganisationRow).where(
            OrganisationRow.webhook_url.is_not(None),
            OrganisationRow.status == "active",
            (OrganisationRow.org_id == owner_org) | (OrganisationRow.role == "regulator"),
        )
    ).scalars()
    return [row for row in rows if row.org_id == owner_org or district in _districts(row)]


def _districts(row: OrganisationRow) -> set[str]:
    return set(json.loads(row.districts)) if row.role == "regulator" else set()


def add_delivery(session: Session, row: WebhookDeliveryRow) -> None:
    session.add(row)


def due_deliveries(session: Session, now: datetime, limit: int) -> Sequence[WebhookDeliveryRow]:
    return list(
        session.execute(
            select(WebhookDeliveryRow)
            .where(
                WebhookDeliveryRow.status == "pending", WebhookDeliveryRow.next_attempt_at <= now
            )
            .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id)
            .limit(limit)
        ).scalars()
    )


def claim_delivery(session: Session, delivery_id: int, now: datetime, until: datetime) -> bool:
    """Move a due delivery's next attempt to ``until`` so no other sender takes it meanwhile;
    False when another sender claimed it first."""
    result = session.execute(
        update(WebhookDeliveryRow)
        .where(
            WebhookDeliveryRow.id == delivery_id,
            WebhookDeliveryRow.status == "pending",
            WebhookDeliveryRow.next_attempt_at <= now,
        )
        .values(next_attempt_at=until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


def delivery(session: Session, delivery_id: int) -> WebhookDeliveryRow | None:
    return session.execute(
        select(WebhookDeliveryRow)
        .where(WebhookDeliveryRow.id == delivery_id)
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def organisation(session: Session, org_id: str) -> OrganisationRow | None:
    return session.get(OrganisationRow, org_id)


def deliveries(session: Session, org_id: str | None = None) -> Sequence[WebhookDeliveryRow]:
    query = select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)
    if org_id is not None:
        query = query.where(WebhookDeliveryRow.org_id == org_id)
    return list(session.execute(query).scalars())


# -- what other domains ask of the alerts table ------------------------------------------


@dataclass(frozen=True)
class AlertCount:
    """How many alerts share a class, a status and an escalation card (for the metrics)."""

    alert_class: int
    status: str
    escalation: str
    count: int


def alert_counts(session: Session) -> list[AlertCount]:
    """The number of alerts per class, status and escalation card; combinations without
    alerts are absent. Ordered by class, status and card so the output is stable."""
    rows = session.execute(
        select(AlertRow.alert_class, AlertRow.status, AlertRow.escalation, func.count())
        .group_by(AlertRow.alert_class, AlertRow.status, AlertRow.escalation)
        .order_by(AlertRow.alert_class, AlertRow.status, AlertRow.escalation)
    )
    return [
        AlertCount(int(alert_class), str(status), str(escalation), int(count))
        for alert_class, status, escalation, count in rows
    ]


def unrecovered_alert(session: Session, subject: str, rule: str) -> AlertRow | None:
    """The alert of ``subject`` and ``rule`` whose condition has not recovered yet (a probe
    rule keeps at most one)."""
    return session.execute(
        select(AlertRow).where(
            AlertRow.subject == subject, AlertRow.rule == rule, AlertRow.recovered_at.is_(None)
        )
    ).scalar_one_or_none()


def unclosed_alert(session: Session, subject: str, rule: str) -> AlertRow | None:
    """The newest alert of this subject and rule that is not closed yet (to avoid a
    duplicate, e.g. of a camera's)."""
    return session.execute(
        select(AlertRow)
        .where(AlertRow.subject == subject, AlertRow.rule == rule, AlertRow.status != "closed")
        .order_by(AlertRow.opened_at.desc())
        .limit(1)
    ).scalar_one_or_none()


def alert_raised(session: Session, premises_id: str, rule: str, started_at: datetime) -> bool:
    """Whether an alert of ``rule`` for the condition that started at ``started_at`` exists."""
    found = session.execute(
        select(AlertRow.alert_id)
        .where(
            AlertRow.premises_id == premises_id,
            AlertRow.rule == rule,
            AlertRow.started_at == started_at,
        )
        .limit(1)
    ).first()
    return found is not None


def unrecovered_probe_alerts(
    session: Session, premises_id: str, *, limit: int
) -> Sequence[AlertRow]:
    """Probe alerts not closed whose device has not come back into range."""
    return list(
        session.execute(
            select(AlertRow)
            .where(
                AlertRow.premises_id == premises_id,
                AlertRow.source == "probe",
                AlertRow.status != "closed",
                AlertRow.recovered_at.is_(None),
            )
            .order_by(AlertRow.opened_at.desc())
            .limit(limit)
        ).scalars()
    )


def alerts_since(
    session: Session, premises_id: str, since: datetime, *, limit: int
) -> Sequence[AlertRow]:
    """The premises' alerts opened since ``since``, newest first."""
    return list(
        session.execute(
            select(AlertRow)
            .where(AlertRow.premises_id == premises_id, AlertRow.opened_at >= since)
            .order_by(AlertRow.opened_at.desc())
            .limit(limit)
        ).scalars()
    )


def transitions_of(
    session: Session, alert_ids: Sequence[str], *, limit: int
) -> Sequence[AlertTransitionRow]:
    """The transitions of these alerts, oldest first."""
    if not alert_ids:
        return []
    return list(
        session.execute(
            select(AlertTransitionRow)
            .where(AlertTransitionRow.alert_id.in_(sorted(set(alert_ids))))
            .order_by(AlertTransitionRow.at, AlertTransitionRow.id)
            .limit(limit)
        ).scalars()
    )


def latest_alert_of_class(
    session: Session, premises_id: str, alert_class: int, since: datetime, until: datetime
) -> AlertRow | None:
    """The newest alert of that class opened at the premises in [since, until]."""
    return session.execute(
        select(AlertRow)
        .where(
            AlertRow.premises_id == premises_id,
            AlertRow.alert_class == alert_class,
            AlertRow.opened_at >= since,
            AlertRow.opened_at <= until,
        )
        .order_by(AlertRow.opened_at.desc())
        .limit(1)
    ).scalar_one_or_none()
