"""The alert lifecycle, escalation and webhooks, against the real database and real HTTP."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from local_ports import free_port
from seeded_city import CITY_ORGS, City
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.alerts.escalation import escalate_overdue
from traceability.alerts.lifecycle import AlertDesk
from traceability.alerts.raising import RECTIFY_WITHIN, open_alert
from traceability.alerts.webhooks import MAX_ATTEMPTS, deliver_due, retry_delay
from traceability.entrypoints.worker import ALERT_ESCALATION, WEBHOOK_DELIVERY, celery_for
from traceability.errors import Conflict, Forbidden, Invalid, NotFound
from traceability.orgs.registry import Directory, Principal
from traceability.storage.db import transaction
from traceability.storage.models import (
    AlertRow,
    AlertTransitionRow,
    AttachmentRow,
    EventRow,
    WebhookDeliveryRow,
)
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def principal(city: City, org_id: str) -> Principal:
    role, districts = CITY_ORGS[org_id]
    return Principal(
        org_id=org_id, role=role, key_id=city.key_ids[org_id], districts=frozenset(districts)
    )


def raise_alert(
    city: City, premises_id: str = "p-1", alert_class: int = 2, now: datetime = NOW
) -> str:
    platform = city.app.state.platform
    with transaction(platform.sessions) as session:
        opened = open_alert(
            session,
            premises_id=premises_id,
            subject=f"premises:{premises_id}",
            source="probe",
            rule="cold_holding",
            alert_class=alert_class,
            detail="fridge at 9.1 °C for 40 min",
            started_at=now - timedelta(minutes=40),
            now=now,
        )
        Ingest(platform.log).append(session, [opened.event])
        return opened.alert.alert_id


def upload(city: City, premises_id: str, content: bytes) -> str:
    digest = hashlib.sha256(content).digest()
    with transaction(city.app.state.platform.sessions) as session:
        session.add(
            AttachmentRow(
                sha256=digest,
                media_type="image/jpeg",
                size=len(content),
                data=content,
                premises_id=premises_id,
                uploaded_by="rest",
                uploaded_at=NOW,
            )
        )
    return digest.hex()


def transition_events(session: Session, alert_id: str) -> list[dict[str, Any]]:
    bodies = session.execute(
        select(EventRow.body)
        .where(EventRow.kind == "alert_transition")
        .order_by(EventRow.leaf_index)
    ).scalars()
    payloads = [json.loads(body)["payload"] for body in bodies]
    return [p for p in payloads if p["alert_id"] == alert_id]


def stored_counts(city: City) -> tuple[int, int, int]:
    with city.app.state.platform.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(AlertTransitionRow)) or 0,
            session.scalar(select(func.count()).select_from(EventRow)) or 0,
            session.scalar(select(func.count()).select_from(WebhookDeliveryRow)) or 0,
        )


def step(city: City, action: str, org_id: str, alert_id: str, **kwargs: Any) -> AlertTransitionRow:
    platform = city.app.state.platform
    desk = AlertDesk(platform.log)
    with transaction(platform.sessions) as session:
        method = getattr(desk, action)
        row: AlertTransitionRow = method(
            session, principal(city, org_id), alert_id, now=kwargs.pop("now", NOW), **kwargs
        )
        return row


def test_the_whole_lifecycle_is_logged_step_by_step(city: City) -> None:
    alert_id = raise_alert(city)
    photo = upload(city, "p-1", b"clean fridge photo")
    photo2 = upload(city, "p-1", b"thermometer log photo")
    step(city, "acknowledge", "rest-1", alert_id, note="seen, moving stock")
    step(city, "request_rectification", "reg-1", alert_id, note="fix the door seal",
         due_at=NOW + timedelta(days=2))  # fmt: skip
    step(city, "submit_rectification", "rest-1", alert_id, note="seal replaced",
         evidence_sha256=[photo])  # fmt: skip
    step(city, "reopen", "reg-1", alert_id, note="photo does not show the seal")
    step(city, "submit_rectification", "rest-1", alert_id, note="close-up attached",
         evidence_sha256=[photo2.upper(), photo2, photo])  # fmt: skip
    closing = step(city, "close", "reg-1", alert_id, note="verified on site")

    with city.app.state.platform.sessions() as session:
        logged = transition_events(session, alert_id)
        rows = session.execute(
            select(AlertTransitionRow)
            .where(AlertTransitionRow.alert_id == alert_id)
            .order_by(AlertTransitionRow.id)
        ).scalars().all()  # fmt: skip
        alert = session.get(AlertRow, alert_id)
        assert alert is not None
        logged_ids = set(session.execute(select(EventRow.event_id)).scalars())
    assert [(p["from_status"], p["to_status"]) for p in logged] == [
        ("open", "acknowledged"),
        ("acknowledged", "rectification_requested"),
        ("rectification_requested", "rectification_submitted"),
        ("rectification_submitted", "open"),
        ("open", "rectification_submitted"),
        ("rectification_submitted", "closed"),
    ]
    rest, reg = principal(city, "rest-1").actor, principal(city, "reg-1").actor
    assert [p["actor"] for p in logged] == [rest, reg, rest, reg, rest, reg]
    assert logged[1]["due_at"] == "2026-11-27T10:00:00.000000Z"
    assert logged[2]["evidence_sha256"] == [photo]
    assert logged[4]["evidence_sha256"] == [photo2, photo]  # lower-cased, de-duplicated
    # The opening step points at the breach event; every row's event is in the log.
    assert [r.to_status for r in rows][0] == "open" and rows[0].actor == "system"
    assert rows[0].event_id == alert.breach_event_id
    assert all(r.event_id in logged_ids for r in rows)
    assert rows[-1].id == closing.id and json.loads(rows[3].evidence) == [photo]
    assert alert.status == "closed" and alert.closed_at == NOW
    # Reopening gave a fresh deadline: the class's period from the reopening.
    assert alert.due_at == NOW + RECTIFY_WITHIN[2]


def test_steps_the_status_does_not_allow_are_refused_and_store_nothing(city: City) -> None:
    alert_id = raise_alert(city)
    before = stored_counts(city)
    with pytest.raises(Conflict, match="is open: a regulator closes an alert only after"):
        step(city, "close", "reg-1", alert_id)
    with pytest.raises(Conflict, match="is open; to reopen it must be"):
        step(city, "reopen", "reg-1", alert_id, note="why")
    assert stored_counts(city) == before
    step(city, "acknowledge", "reg-1", alert_id)
    with pytest.raises(Conflict, match="is acknowledged; to acknowledge it must be open"):
        step(city, "acknowledge", "rest-1", alert_id)
    with pytest.raises(NotFound, match="no alert nope"):
        step(city, "acknowledge", "rest-1", "nope")


def test_concurrent_steps_on_one_alert_are_serialised(city: City) -> None:
    alert_id = raise_alert(city)
    barrier = threading.Barrier(2, timeout=30)
    outcomes: list[str] = []

    def acknowledge(org_id: str) -> None:
        barrier.wait()
        try:
            step(city, "acknowledge", org_id, alert_id)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.detail)

    threads = [threading.Thread(target=acknowledge, args=(o,)) for o in ("rest-1", "reg-1")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes)[1] == "ok" and "is acknowledged" in sorted(outcomes)[0]
    with city.app.state.platform.sessions() as session:
        assert len(transition_events(session, alert_id)) == 1


def test_rectification_needs_evidence_uploaded_for_the_premises(city: City) -> None:
    alert_id = raise_alert(city)
    elsewhere = upload(city, "p-2", b"photo of another kitchen")
    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    before = stored_counts(city)
    for evidence, reason in (
        ([], "needs evidence"),
        (["abc"], "not a SHA-256"),
        ([unknown], f"evidence {unknown} is not an attachment uploaded for premises p-1"),
        ([elsewhere], f"evidence {elsewhere} is not an attachment uploaded for premises p-1"),
    ):
        with pytest.raises(Invalid, match=reason):
            step(city, "submit_rectification", "rest-1", alert_id, note="done",
                 evidence_sha256=evidence)  # fmt: skip
    with pytest.raises(Invalid, match="a note is required"):
        step(city, "submit_rectification", "rest-1", alert_id, note="  ",
             evidence_sha256=[elsewhere])  # fmt: skip
    assert stored_counts(city) == before
    with city.app.state.platform.sessions() as session:
        alert = session.get(AlertRow, alert_id)
        assert alert is not None and alert.status == "open"


def test_who_may_take_which_step(city: City) -> None:
    alert_id = raise_alert(city)  # p-1, district d1
    photo = upload(city, "p-1", b"photo")
    before = stored_counts(city)
    refusals = [
        ("acknowledge", "reg-2", {}, "reg-2 may not acknowledge alert"),
        ("acknowledge", "rest-2", {}, "rest-2 may not acknowledge alert"),
        ("acknowledge", "auditor", {}, "needs the role restaurant or regulator"),
        ("acknowledge", "admin", {}, "needs the role restaurant or regulator"),
        ("request_rectification", "rest-1", {"note": "x"}, "needs the role regulator"),
        ("submit_rectification", "reg-1", {"note": "x", "evidence_sha256": [photo]},
         "needs the role restaurant"),
        ("submit_rectification", "rest-2", {"note": "x", "evidence_sha256": [photo]},
         "rest-2 may not submit rectification"),
        ("close", "rest-1", {}, "needs the role regulator"),
        ("reopen", "reg-2", {"note": "x"}, "reg-2 may not reopen"),
    ]  # fmt: skip
    for action, org_id, kwargs, reason in refusals:
        with pytest.raises(Forbidden, match=reason):
            step(city, action, org_id, alert_id, **kwargs)
    assert stored_counts(city) == before
    step(city, "submit_rectification", "rest-1", alert_id, note="done", evidence_sha256=[photo])
    with pytest.raises(Forbidden, match="needs the role regulator"):
        step(city, "close", "rest-1", alert_id)
    with pytest.raises(Forbidden, match="reg-2 may not close"):
        step(city, "close", "reg-2", alert_id)
    step(city, "close", "reg-1", alert_id)


def test_overdue_alerts_get_a_yellow_then_a_red_card_once(city: City) -> None:
    platform = city.app.state.platform
    urgent = raise_alert(city, alert_class=1)  # due NOW + 72 h; red at NOW + 144 h
    routine = raise_alert(city, "p-2", alert_class=2)  # due NOW + 10 days
    submitted = raise_alert(city, alert_class=1)
    step(city, "submit_rectification", "rest-1", submitted, note="fixed",
         evidence_sha256=[upload(city, "p-1", b"fixed")])  # fmt: skip
    closed = raise_alert(city, alert_class=1)
    step(city, "submit_rectification", "rest-1", closed, note="fixed",
         evidence_sha256=[upload(city, "p-1", b"fixed too")])  # fmt: skip
    step(city, "close", "reg-1", closed)

    def run(at: datetime) -> list[tuple[str, str]]:
        with transaction(platform.sessions) as session:
            return [(g.alert_id, g.card) for g in escalate_overdue(session, platform.log, at)]

    assert run(NOW + timedelta(hours=71)) == []
    assert run(NOW + timedelta(hours=73)) == [(urgent, "yellow")]
    assert run(NOW + timedelta(hours=73)) == []
    assert run(NOW + timedelta(hours=143)) == []
    assert run(NOW + timedelta(hours=145)) == [(urgent, "red")]
    assert run(NOW + timedelta(hours=146)) == []
    # Far in the future: the routine alert is owed both cards at once, each its own step;
    # alerts waiting on the regulator (submitted) or closed are left alone.
    far = NOW + timedelta(days=365)
    assert run(far) == [(routine, "yellow"), (routine, "red")]
    assert run(far) == []

    with platform.sessions() as session:
        logged = transition_events(session, urgent)
        assert [(p["escalation"], p["actor"], p["to_status"]) for p in logged] == [
            ("yellow", "system", "open"),
            ("red", "system", "open"),
        ]
        row = session.get(AlertRow, urgent)
        assert row is not None and row.escalation == "red" and row.status == "open"
        assert row.escalated_at == NOW + timedelta(hours=145)
        for untouched in (submitted, closed):
            quiet = session.get(AlertRow, untouched)
            assert quiet is not None and quiet.escalation == "none"
            assert transition_events(session, untouched)[-1]["escalation"] is None


def test_the_escalation_task_runs_eagerly(city: City) -> None:
    alert_id = raise_alert(city, alert_class=3)
    task = celery_for(city.app.state.platform).tasks[ALERT_ESCALATION]
    far = (NOW + timedelta(days=100)).isoformat()
    result = task.delay(now=far).get(timeout=30)
    assert result == {
        "escalated": [
            {"alert_id": alert_id, "card": "yellow"},
            {"alert_id": alert_id, "card": "red"},
        ]
    }
    assert task.delay(now=far).get(timeout=30) == {"escalated": []}


# -- webhooks -----------------------------------------------------------------


class Receiver:
    """A real HTTP server on 127.0.0.1 answering with the given statuses, in order
    (then 200), and keeping what it received."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


def set_webhook(city: City, org_id: str, url: str) -> str:
    with transaction(city.app.state.platform.sessions) as session:
        secret = Directory().set_webhook(session, org_id, url)
    assert secret is not None
    return secret


def deliveries(city: City) -> list[WebhookDeliveryRow]:
    with city.app.state.platform.sessions() as session:
        return list(
            session.execute(select(WebhookDeliveryRow).order_by(WebhookDeliveryRow.id)).scalars()
        )


def test_signed_webhooks_reach_the_restaurant_and_its_regulators(
    city: City, receiver: Receiver
) -> None:
    secrets = {org: set_webhook(city, org, f"{receiver.url}?org={org}") for org in
               ("rest-1", "reg-1", "reg-2", "rest-2")}  # fmt: skip
    alert_id = raise_alert(city, alert_class=1)
    outbox = deliveries(city)
    assert sorted(d.org_id for d in outbox) == ["reg-1", "rest-1"]  # not d2's, not rest-2
    assert {d.status for d in outbox} == {"pending"} and {d.topic for d in outbox} == {
        "alert.opened"
    }

    report = deliver_due(city.app.state.platform.sessions, NOW)
    assert sorted(report.delivered) == sorted(d.id for d in outbox)
    assert len(receiver.received) == 2
    for headers, body in receiver.received:
        delivery = next(d for d in outbox if str(d.id) == headers["x-sunledger-delivery"])
        secret = secrets[delivery.org_id]
        expected = hmac.new(
            secret.encode(), headers["x-sunledger-timestamp"].encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        assert headers["x-sunledger-signature"] == f"sha256={expected}"
        assert headers["x-sunledger-event"] == "alert.opened"
        assert headers["x-sunledger-timestamp"] == str(int(NOW.timestamp()))
        message = json.loads(body)
        assert message["alert"]["alert_id"] == alert_id and message["immediate"] is True
        assert message["transition"]["to_status"] == "open"
    # A tampered body does not verify under the same signature.
    headers, body = receiver.received[0]
    forged = hmac.new(b"x", headers["x-sunledger-timestamp"].encode() + b"." + body, "sha256")
    assert headers["x-sunledger-signature"] != f"sha256={forged.hexdigest()}"
    assert {d.status for d in deliveries(city)} == {"delivered"}
    assert deliver_due(city.app.state.platform.sessions, NOW).delivered == []

    # A step notifies too, with its own topic.
    step(city, "acknowledge", "reg-1", alert_id, note="on it")
    deliver_due(city.app.state.platform.sessions, NOW)
    topics = [h["x-sunledger-event"] for h, _ in receiver.received[2:]]
    assert topics == ["alert.transition", "alert.transition"]


def test_a_failing_receiver_is_retried_with_backoff_until_it_answers(city: City) -> None:
    with Receiver([500]) as flaky:
        set_webhook(city, "rest-1", flaky.url)
        raise_alert(city)
        sessions = city.app.state.platform.sessions
        first = deliver_due(sessions, NOW)
        [delivery] = deliveries(city)
        assert first.retrying == [delivery.id] and delivery.attempts == 1
        assert delivery.status == "pending" and delivery.last_error is not None
        assert "HTTP 500" in delivery.last_error
        assert delivery.next_attempt_at == NOW + timedelta(seconds=30)
        assert deliver_due(sessions, NOW + timedelta(seconds=29)).retrying == []  # not due yet
        second = deliver_due(sessions, NOW + timedelta(seconds=30))
        [delivery] = deliveries(city)
        assert second.delivered == [delivery.id]
        assert delivery.status == "delivered" and delivery.attempts == 2
        assert len(flaky.received) == 2
        # Both attempts carried the same delivery id and body.
        assert flaky.received[0][1] == flaky.received[1][1]
        assert {h["x-sunledger-delivery"] for h, _ in flaky.received} == {str(delivery.id)}


def test_an_unreachable_receiver_fails_after_the_last_attempt(city: City) -> None:
    set_webhook(city, "reg-1", f"http://127.0.0.1:{free_port()}/hook")  # nothing listens
    raise_alert(city)
    sessions = city.app.state.platform.sessions
    at = NOW
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = deliver_due(sessions, at)
        [delivery] = deliveries(city)
        assert delivery.attempts == attempt and delivery.last_error
        if attempt < MAX_ATTEMPTS:
            assert report.retrying == [delivery.id] and delivery.status == "pending"
            assert delivery.next_attempt_at == at + retry_delay(attempt)
            assert retry_delay(attempt) == timedelta(seconds=30 * 2 ** (attempt - 1))
            at = delivery.next_attempt_at
        else:
            assert report.failed == [delivery.id] and delivery.status == "failed"
    assert "ConnectError" in (deliveries(city)[0].last_error or "")
    assert deliver_due(sessions, at + timedelta(days=30)).failed == []  # no further attempts


def test_the_delivery_task_runs_eagerly(city: City, receiver: Receiver) -> None:
    set_webhook(city, "rest-1", receiver.url)
    raise_alert(city)
    task = celery_for(city.app.state.platform).tasks[WEBHOOK_DELIVERY]
    result = task.delay(now=NOW.isoformat()).get(timeout=30)
    [delivery] = deliveries(city)
    assert result["delivered"] == [delivery.id] and delivery.status == "delivered"
    assert len(receiver.received) == 1
