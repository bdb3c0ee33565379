"""Overdue alerts escalate: a yellow card when the deadline passes, a red one a full
deadline period later.

The rule: an alert still awaiting the restaurant (open, acknowledged or
rectification requested) whose ``due_at`` has passed gets a yellow card; if it
is still awaiting the restaurant at ``due_at + RECTIFY_WITHIN[class]`` (another
full period: 72 h more for class 1, 10 days for class 2, 30 for class 3) it gets
a red one. An alert whose rectification was submitted waits on the regulator, so
its clock is stopped. A run that finds both thresholds passed gives both cards,
each its own step. Each card is a transition by ``system`` (row and event) that
keeps the status; a card is never given twice, so running again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from traceability.alerts import repository as repo
from traceability.alerts import webhooks
from traceability.alerts.lifecycle import record_transition
from traceability.alerts.raising import RECTIFY_WITHIN
from traceability.alerts.status import AWAITING_RESTAURANT, SYSTEM_ACTOR
from traceability.storage.models import AlertRow
from traceability.transparency.events import as_utc, rfc3339
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog


@dataclass(frozen=True)
class Escalated:
    alert_id: str
    card: str
    transition_id: int
    event_id: str


def card_due(alert: AlertRow, now: datetime) -> str:
    """The card an alert should hold at ``now``: none, yellow or red."""
    if alert.due_at is None or alert.status not in AWAITING_RESTAURANT:
        return "none"
    due = as_utc(alert.due_at)
    now = as_utc(now)
    if now >= due + RECTIFY_WITHIN[alert.alert_class]:
        return "red"
    if now >= due:
        return "yellow"
    return "none"


def escalate_overdue(session: Session, log: TransparencyLog, now: datetime) -> list[Escalated]:
    """Give every overdue alert the cards it is owed at ``now``; return what was given."""
    ingest = Ingest(log)
    log.lock(session)  # read after the lock: a concurrent run waits, then sees our cards
    given: list[Escalated] = []
    for alert in repo.overdue(session, as_utc(now), AWAITING_RESTAURANT):
        owed = card_due(alert, now)
        cards = {"none": [], "yellow": ["yellow"], "red": ["yellow", "red"]}[owed]
        for card in cards:
            if card == alert.escalation or (card == "yellow" and alert.escalation == "red"):
                continue
            assert alert.due_at is not None
            row = record_transition(
                session,
                ingest,
                alert,
                to_status=alert.status,
                actor=SYSTEM_ACTOR,
                now=now,
                note=f"{card} card: overdue since {rfc3339(alert.due_at)}",
                escalation=card,
                topic=webhooks.ESCALATED,
            )
            given.append(Escalated(alert.alert_id, card, row.id, row.event_id))
    return given
