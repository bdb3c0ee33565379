"""Moving an alert through its lifecycle, each step a row and an ``alert_transition`` event.

- acknowledge: open → acknowledged; by the restaurant or a regulator of the district.
- request rectification: open or acknowledged → rectification_requested; by a
  regulator of the district, with a note and maybe a new due date.
- submit rectification: open, acknowledged or rectification_requested →
  rectification_submitted; by the restaurant, with a note and evidence (hashes of
  attachments uploaded for the premises).
- close: rectification_submitted → closed; by a regulator of the district.
- reopen: rectification_submitted or closed → open; by a regulator of the district,
  with a note; the alert gets a new due date.

Every step takes the log lock before it reads the alert, so two steps on one alert
are serialised and the second sees the first's status. The step's row, its event,
the alert's new state and the webhook outbox rows are written in the caller's
transaction (services flush, the caller commits).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from traceability.alerts import repository as repo
from traceability.alerts import webhooks
from traceability.alerts.queue import transition_json
from traceability.alerts.raising import RECTIFY_WITHIN
from traceability.alerts.status import (
    ACKNOWLEDGED,
    CLOSED,
    OPEN,
    RECTIFICATION_REQUESTED,
    RECTIFICATION_SUBMITTED,
)
from traceability.errors import Conflict, Forbidden, Invalid, NotFound
from traceability.messages import message
from traceability.orgs.registry import Principal, can_supervise, can_write
from traceability.storage.models import AlertRow, AlertTransitionRow
from traceability.transparency.events import AlertTransition, EventKind, as_utc, prepared, rfc3339
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

MAX_NOTE = 2000
MAX_EVIDENCE = 32
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class Step:
    name: str
    sources: tuple[str, ...]
    target: str
    by: tuple[str, ...]


ACKNOWLEDGE = Step("acknowledge", (OPEN,), ACKNOWLEDGED, ("restaurant", "regulator"))
REQUEST_RECTIFICATION = Step(
    "request rectification", (OPEN, ACKNOWLEDGED), RECTIFICATION_REQUESTED, ("regulator",)
)
SUBMIT_RECTIFICATION = Step(
    "submit rectification",
    (OPEN, ACKNOWLEDGED, RECTIFICATION_REQUESTED),
    RECTIFICATION_SUBMITTED,
    ("restaurant",),
)
CLOSE = Step("close", (RECTIFICATION_SUBMITTED,), CLOSED, ("regulator",))
REOPEN = Step("reopen", (RECTIFICATION_SUBMITTED, CLOSED), OPEN, ("regulator",))


def record_transition(
    session: Session,
    ingest: Ingest,
    alert: AlertRow,
    *,
    to_status: str,
    actor: str,
    now: datetime,
    note: str | None = None,
    evidence: Sequence[str] = (),
    escalation: str | None = None,
    due_at: datetime | None = None,
    topic: str = webhooks.TRANSITION,
) -> AlertTransitionRow:
    """Log one step of ``alert`` and store it (row, alert state, webhook outbox).

    The caller holds the log lock and has checked that the step is allowed.
    """
    from_status = alert.status
    payload = AlertTransition.model_validate(
        {
            "alert_id": alert.alert_id,
            "from_status": from_status,
            "to_status": to_status,
            "actor": actor,
            "note": note,
            "evidence_sha256": list(evidence),
            "escalation": escalation,
            "due_at": None if due_at is None else rfc3339(due_at),
        }
    ).model_dump(mode="json")
    payload["due_at"] = None if due_at is None else rfc3339(due_at)  # one spelling per instant
    event = prepared(
        event_id=str(uuid.uuid4()),
        kind=EventKind.ALERT_TRANSITION,
        subject=f"premises:{alert.premises_id}",
        occurred_at=now,
        occurred_text=rfc3339(now),
        recorded_at=now,
        recorded_text=rfc3339(now),
        payload=payload,
    )
    ingest.append(session, [event])
    alert.status = to_status
    alert.updated_at = now
    if due_at is not None:
        alert.due_at = due_at
    if escalation is not None:
        alert.escalation = escalation
        alert.escalated_at = now
    alert.closed_at = now if to_status == CLOSED else None
    row = repo.add_transition(
        session,
        AlertTransitionRow(
            alert_id=alert.alert_id,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            note=note,
            evidence=json.dumps(list(evidence)),
            at=now,
            event_id=event.event_id,
        ),
    )
    webhooks.notify(session, alert, topic, now, transition_json(row, payload))
    return row


def _note(note: str | None, *, required: str | None) -> str | None:
    text = None if note is None else note.strip() or None
    if text is None and required is not None:
        raise Invalid(message("alert.note_required", step=required))
    if text is not None and len(text) > MAX_NOTE:
        raise Invalid(message("alert.note_too_long", length=len(text), max=MAX_NOTE))
    return text


def _evidence(evidence: Sequence[str]) -> list[str]:
    hashes: list[str] = []
    for raw in evidence:
        digest = raw.strip().lower()
        if not _SHA256_HEX.match(digest):
            raise Invalid(message("alert.evidence_not_sha256", value=raw[:80]))
        if digest not in hashes:
            hashes.append(digest)
    if not hashes:
        raise Invalid(message("alert.evidence_required"))
    if len(hashes) > MAX_EVIDENCE:
        raise Invalid(message("alert.evidence_too_many", count=len(hashes), max=MAX_EVIDENCE))
    return hashes


def _due(due_at: datetime | None, now: datetime) -> datetime | None:
    if due_at is None:
        return None
    if due_at.tzinfo is None:
        raise Invalid(message("alert.due_without_zone"))
    if as_utc(due_at) <= as_utc(now):
        raise Invalid(message("alert.due_not_future", due_at=rfc3339(due_at)))
    return as_utc(due_at)


class AlertDesk:
    """The lifecycle steps people take on alerts (the scheduled escalation is apart)."""

    def __init__(self, log: TransparencyLog) -> None:
        self.log = log
        self.ingest = Ingest(log)

    def acknowledge(
        self,
        session: Session,
        principal: Principal,
        alert_id: str,
        *,
        now: datetime,
        note: str | None = None,
    ) -> AlertTransitionRow:
        return self._step(session, principal, alert_id, ACKNOWLEDGE, ACKNOWLEDGED, now, note)

    def request_rectification(
        self,
        session: Session,
        principal: Principal,
        alert_id: str,
        *,
        now: datetime,
        note: str | None,
        due_at: datetime | None = None,
    ) -> AlertTransitionRow:
        text = _note(note, required="request rectification")
        due = _due(due_at, now)
        return self._step(
            session, principal, alert_id, REQUEST_RECTIFICATION, RECTIFICATION_REQUESTED, now, text,
            due_at=due,
        )  # fmt: skip

    def submit_rectification(
        self,
        session: Session,
        principal: Principal,
        alert_id: str,
        *,
        now: datetime,
        note: str | None,
        evidence_sha256: Sequence[str],
    ) -> AlertTransitionRow:
        text = _note(note, required="submit rectification")
        hashes = _evidence(evidence_sha256)
        alert = self._ready(session, principal, alert_id, SUBMIT_RECTIFICATION)
        present = repo.attachments_present(
            session, alert.premises_id, [bytes.fromhex(h) for h in hashes]
        )
        for digest in hashes:
            if bytes.fromhex(digest) not in present:
                raise Invalid(
                    message(
                        "alert.evidence_not_uploaded", sha256=digest, premises_id=alert.premises_id
                    )
                )
        return record_transition(
            session,
            self.ingest,
            alert,
            to_status=RECTIFICATION_SUBMITTED,
            actor=principal.actor,
            now=now,
            note=text,
            evidence=hashes,
        )

    def close(
        self,
        session: Session,
        principal: Principal,
        alert_id: str,
        *,
        now: datetime,
        note: str | None = None,
    ) -> AlertTransitionRow:
        return self._step(session, principal, alert_id, CLOSE, CLOSED, now, note)

    def reopen(
        self,
        session: Session,
        principal: Principal,
        alert_id: str,
        *,
        now: datetime,
        note: str | None,
        due_at: datetime | None = None,
    ) -> AlertTransitionRow:
        """Back to open with a fresh deadline (the one given, else the class's from now);
        cards already given stay."""
        text = _note(note, required="reopen")
        due = _due(due_at, now)
        alert = self._ready(session, principal, alert_id, REOPEN)
        return record_transition(
            session,
            self.ingest,
            alert,
            to_status=OPEN,
            actor=principal.actor,
            now=now,
            note=text,
            due_at=due or as_utc(now) + RECTIFY_WITHIN[alert.alert_class],
        )

    def _step(
        self,
        session: Session,
        principal: Principal,
        alert_id: str,
        step: Step,
        to_status: str,
        now: datetime,
        note: str | None,
        *,
        due_at: datetime | None = None,
    ) -> AlertTransitionRow:
        """Take ``step`` (checks first, log lock held) and record the transition it makes."""
        text = _note(note, required=None)
        alert = self._ready(session, principal, alert_id, step)
        return record_transition(
            session,
            self.ingest,
            alert,
            to_status=to_status,
            actor=principal.actor,
            now=now,
            note=text,
            due_at=due_at,
        )

    def _ready(self, session: Session, principal: Principal, alert_id: str, step: Step) -> AlertRow:
        """The alert, once the caller may take ``step`` on it now (log lock taken first)."""
        self.log.lock(session)
        alert = repo.alert(session, alert_id)
        if alert is None:
            raise NotFound(message("alert.not_found", alert_id=alert_id))
        if principal.role not in step.by:
            raise Forbidden(
                message(
                    "alert.step_role",
                    text=f"to {step.name} an alert needs the role {' or '.join(step.by)}; "
                    f"{principal.org_id} is a {principal.role}",
                    step=step.name,
                    roles=list(step.by),
                    org_id=principal.org_id,
                    role=principal.role,
                )
            )
        premises = repo.premises(session, alert.premises_id)
        allowed = premises is not None and (
            can_write(principal, premises)
            if principal.role == "restaurant"
            else can_supervise(principal, premises)
        )
        if not allowed:
            raise Forbidden(
                message(
                    "alert.step_forbidden",
                    org_id=principal.org_id,
                    step=step.name,
                    alert_id=alert_id,
                    premises_id=alert.premises_id,
                )
            )
        if alert.status not in step.sources:
            if step is CLOSE:
                raise Conflict(
                    message(
                        "alert.close_before_rectification", alert_id=alert_id, status=alert.status
                    )
                )
            raise Conflict(
                message(
                    "alert.step_not_allowed",
                    text=f"alert {alert_id} is {alert.status}; to {step.name} it must be "
                    f"{' or '.join(step.sources)}",
                    alert_id=alert_id,
                    status=alert.status,
                    step=step.name,
                    allowed=list(step.sources),
                )
            )
        return alert
