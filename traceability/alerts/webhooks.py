"""Alert notifications by webhook: an outbox written with the alert's change, sent after commit.

Each organisation may point a webhook at a URL (``Directory.set_webhook``). When an
alert opens, moves or escalates, one outbox row per interested organisation (the
restaurant owning the premises, each regulator of its district) is written in the
same transaction. ``deliver_due`` sends due rows after the commit:

    POST <url>
    Content-Type: application/json
    X-Sunledger-Event: alert.opened | alert.transition | alert.escalated
    X-Sunledger-Delivery: <outbox row id>
    X-Sunledger-Timestamp: <unix seconds>
    X-Sunledger-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

A 2xx answer delivers it; anything else (or no answer) is retried after
30 s × 2^(attempts-1), and after ``MAX_ATTEMPTS`` the row is ``failed`` with the
last error. The receiver should check the signature and reject stale timestamps.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from traceability.alerts import repository as repo
from traceability.alerts.queue import alert_json
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, WebhookDeliveryRow
from traceability.transparency.events import as_utc, rfc3339

OPENED = "alert.opened"
TRANSITION = "alert.transition"
ESCALATED = "alert.escalated"
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
# While one sender holds a delivery, others skip it; a sender that dies mid-send
# leaves it to be retried after this long.
CLAIM_FOR = timedelta(minutes=2)
TIMEOUT_SECONDS = 5.0


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``timestamp + "." + body`` under the secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return FIRST_RETRY * int(2 ** max(attempts - 1, 0))


def notify(
    session: Session,
    alert: AlertRow,
    topic: str,
    now: datetime,
    transition: dict[str, Any] | None = None,
) -> list[WebhookDeliveryRow]:
    """Write one outbox row per organisation that wants to hear about this alert.

    Alerts of unregistered premises notify nobody: without the premises there is
    neither an owner nor a district to look up.
    """
    premises = repo.premises(session, alert.premises_id)
    if premises is None:
        return []
    body = json.dumps(
        {
            "topic": topic,
            "at": rfc3339(now),
            # Class 1 (pest, cold chain, core temperature) is an immediate notice.
            "immediate": alert.alert_class == 1,
            "alert": alert_json(alert, now),
            "transition": transition,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    rows = []
    for org in repo.webhook_recipients(session, premises.org_id, premises.district):
        row = WebhookDeliveryRow(
            org_id=org.org_id,
            topic=topic,
            body=body,
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        repo.add_delivery(session, row)
        rows.append(row)
    if rows:
        session.flush()
    return rows


@dataclass
class DeliveryReport:
    delivered: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class _Claimed:
    delivery_id: int
    topic: str
    body: bytes
    url: str | None
    secret: str | None


def deliver_due(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    client: httpx.Client | None = None,
    limit: int = 100,
) -> DeliveryReport:
    """Send the deliveries due at ``now``; record each outcome. No transaction is open
    while a request is in flight."""
    claimed = _claim(sessions, as_utc(now), limit)
    report = DeliveryReport()
    if not claimed:
        return report
    own_client = client is None
    http = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
    try:
        outcomes = [(c, _send(http, c, now)) for c in claimed]
    finally:
        if own_client:
            http.close()
    with transaction(sessions) as session:
        for sent, error in outcomes:
            delivery_id = sent.delivery_id
            row = repo.delivery(session, delivery_id)
            if row is None:
                continue
            row.attempts += 1
            if error is None:
                row.status = "delivered"
                row.delivered_at = now
                row.last_error = None
                report.delivered.append(delivery_id)
            elif row.attempts >= MAX_ATTEMPTS or sent.url is None:
                row.status = "failed"
                row.last_error = error
                report.failed.append(delivery_id)
            else:
                row.last_error = error
                row.next_attempt_at = as_utc(now) + retry_delay(row.attempts)
                report.retrying.append(delivery_id)
        session.flush()
    return report


def _claim(sessions: sessionmaker[Session], now: datetime, limit: int) -> list[_Claimed]:
    claimed = []
    with transaction(sessions) as session:
        for row in repo.due_deliveries(session, now, limit):
            if not repo.claim_delivery(session, row.id, now, now + CLAIM_FOR):
                continue
            org = repo.organisation(session, row.org_id)
            claimed.append(
                _Claimed(
                    delivery_id=row.id,
                    topic=row.topic,
                    body=row.body.encode(),
                    url=None if org is None else org.webhook_url,
                    secret=None if org is None else org.webhook_secret,
                )
            )
    return claimed


def _send(http: httpx.Client, claimed: _Claimed, now: datetime) -> str | None:
    """POST one delivery; None when the receiver took it (2xx), else why not."""
    if claimed.url is None or claimed.secret is None:
        return "the organisation has no webhook any more"
    timestamp = str(int(as_utc(now).timestamp()))
    headers = {
        "Content-Type": "application/json",
        "X-Sunledger-Event": claimed.topic,
        "X-Sunledger-Delivery": str(claimed.delivery_id),
        "X-Sunledger-Timestamp": timestamp,
        "X-Sunledger-Signature": signature(claimed.secret, timestamp, claimed.body),
    }
    try:
        answer = http.post(claimed.url, content=claimed.body, headers=headers)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:2000]
    if 200 <= answer.status_code < 300:
        return None
    return f"HTTP {answer.status_code}: {answer.text[:200]}"
