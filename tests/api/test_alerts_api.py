"""The alert queue over HTTP: scope, filters, lifecycle, roles, webhooks and the SSE stream."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from clocks import TestClock
from seeded_city import City
from sqlalchemy import func, select

from traceability.alerts.raising import open_alert
from traceability.storage.db import transaction
from traceability.storage.models import (
    AlertTransitionRow,
    AttachmentRow,
    EventRow,
    WebhookDeliveryRow,
)
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)


def raise_alert(
    city: City,
    premises_id: str,
    *,
    alert_class: int = 2,
    source: str = "probe",
    opened_at: datetime | None = None,
) -> str:
    platform = city.app.state.platform
    now = opened_at or datetime.now(UTC)
    with transaction(platform.sessions) as session:
        opened = open_alert(
            session,
            premises_id=premises_id,
            subject=f"premises:{premises_id}",
            source=source,
            rule="cold_holding" if source == "probe" else "missing_morning_check",
            alert_class=alert_class,
            detail="a rule was broken",
            started_at=now,
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
                media_type="image/png",
                size=len(content),
                data=content,
                premises_id=premises_id,
                uploaded_by="rest-1",
                uploaded_at=datetime.now(UTC),
            )
        )
    return digest.hex()


def counts(city: City) -> tuple[int, int]:
    with city.app.state.platform.sessions() as session:
        return (
            session.scalar(select(func.count()).select_from(AlertTransitionRow)) or 0,
            session.scalar(select(func.count()).select_from(EventRow)) or 0,
        )


def post(city: City, who: str, alert_id: str, action: str, body: Any = None) -> Any:
    return city.client.post(f"/v1/alerts/{alert_id}/{action}", headers=city.headers(who), json=body)


def test_the_lifecycle_over_http_with_its_timeline(city: City) -> None:
    alert_id = raise_alert(city, "p-1", alert_class=1)
    photo = upload(city, "p-1", b"rectified")
    assert post(city, "rest-1", alert_id, "acknowledge").status_code == 200
    answer = post(city, "reg-1", alert_id, "request-rectification",
                  {"note": "replace the seal", "due_at": "2030-01-01T00:00:00+08:00"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert answer.json()["alert"]["status"] == "rectification_requested"
    assert answer.json()["alert"]["due_at"] == "2029-12-31T16:00:00.000000Z"
    answer = post(city, "rest-1", alert_id, "rectification",
                  {"note": "replaced", "evidence_sha256": [photo]})  # fmt: skip
    assert answer.status_code == 200, answer.text
    answer = post(city, "reg-1", alert_id, "close", {"note": "checked"})
    assert answer.status_code == 200, answer.text
    closed = answer.json()["alert"]
    assert closed["status"] == "closed" and closed["closed_at"] is not None

    detail = city.client.get(f"/v1/alerts/{alert_id}", headers=city.headers("auditor")).json()
    steps = detail["timeline"]
    assert [(s["from_status"], s["to_status"]) for s in steps] == [
        (None, "open"),
        ("open", "acknowledged"),
        ("acknowledged", "rectification_requested"),
        ("rectification_requested", "rectification_submitted"),
        ("rectification_submitted", "closed"),
    ]
    rest = f"rest-1/{city.key_ids['rest-1']}"
    reg = f"reg-1/{city.key_ids['reg-1']}"
    assert [s["actor"] for s in steps] == ["system", rest, reg, rest, reg]
    assert steps[3]["evidence_sha256"] == [photo] and steps[3]["note"] == "replaced"
    assert steps[0]["event_id"] == detail["breach"]["event_id"] == detail["breach_event_id"]
    for item in steps:
        assert item["proof"] == f"/v1/proofs/{item['event_id']}"
    with city.app.state.platform.sessions() as session:
        logged = {
            event_id: json.loads(body)
            for event_id, body in session.execute(select(EventRow.event_id, EventRow.body))
        }
    for item in steps[1:]:
        event = logged[item["event_id"]]
        assert event["kind"] == "alert_transition" and event["subject"] == "premises:p-1"
        assert event["payload"]["actor"] == item["actor"]
        assert event["payload"]["to_status"] == item["to_status"]
    assert sum(1 for e in logged.values() if e["kind"] == "alert_transition") == 4
    assert logged[steps[0]["event_id"]]["kind"] == "violation"


def test_refused_steps_answer_409_or_422_and_store_nothing(city: City) -> None:
    alert_id = raise_alert(city, "p-1")
    before = counts(city)
    answer = post(city, "reg-1", alert_id, "close")
    assert answer.status_code == 409
    assert answer.json()["error"] == "Conflict" and "is open" in answer.json()["detail"]
    answer = post(city, "reg-1", alert_id, "reopen", {"note": "again"})
    assert answer.status_code == 409 and "is open" in answer.json()["detail"]
    unknown = hashlib.sha256(b"never uploaded").hexdigest()
    answer = post(city, "rest-1", alert_id, "rectification",
                  {"note": "done", "evidence_sha256": [unknown]})  # fmt: skip
    assert answer.status_code == 422 and unknown in answer.json()["detail"]
    answer = post(
        city, "rest-1", alert_id, "rectification", {"note": "done", "evidence_sha256": []}
    )
    assert answer.status_code == 422 and "evidence_sha256" in answer.json()["detail"]
    answer = post(city, "reg-1", alert_id, "request-rectification",
                  {"note": "x", "due_at": "2001-01-01T00:00:00Z"})  # fmt: skip
    assert answer.status_code == 422 and "not in the future" in answer.json()["detail"]
    answer = post(city, "reg-1", alert_id, "request-rectification", {"note": "x", "bogus": 1})
    assert answer.status_code == 422
    assert counts(city) == before
    assert post(city, "reg-1", alert_id, "acknowledge").status_code == 200
    answer = post(city, "rest-1", alert_id, "acknowledge")
    assert answer.status_code == 409 and "is acknowledged" in answer.json()["detail"]
    assert post(city, "reg-1", "no-such-alert", "acknowledge").status_code == 404


def test_roles_and_reach(city: City) -> None:
    alert_id = raise_alert(city, "p-1")
    photo = upload(city, "p-1", b"evidence")
    before = counts(city)
    for who, action, body in (
        ("reg-2", "acknowledge", None),
        ("rest-2", "acknowledge", None),
        ("auditor", "acknowledge", None),
        ("admin", "acknowledge", None),
        ("rest-1", "request-rectification", {"note": "x"}),
        ("rest-1", "close", None),
        ("reg-1", "rectification", {"note": "x", "evidence_sha256": [photo]}),
        ("rest-2", "rectification", {"note": "x", "evidence_sha256": [photo]}),
    ):
        answer = post(city, who, alert_id, action, body)
        assert answer.status_code == 403, (who, action, answer.text)
        assert answer.json()["error"] == "Forbidden"
    assert post(city, "rest-1", alert_id, "acknowledge", None).status_code == 200
    assert counts(city)[0] == before[0] + 1
    assert city.client.post(f"/v1/alerts/{alert_id}/acknowledge").status_code == 401

    for who, status in (("rest-1", 200), ("reg-1", 200), ("auditor", 200), ("admin", 200),
                        ("rest-2", 403), ("reg-2", 403)):  # fmt: skip
        answer = city.client.get(f"/v1/alerts/{alert_id}", headers=city.headers(who))
        assert answer.status_code == status, who
    assert city.client.get("/v1/alerts/nope", headers=city.headers("auditor")).status_code == 404
    stray = raise_alert(city, "p-unregistered")
    for who, status in (("auditor", 200), ("admin", 200), ("reg-1", 403), ("rest-1", 403)):
        answer = city.client.get(f"/v1/alerts/{stray}", headers=city.headers(who))
        assert answer.status_code == status, who


def ids(city: City, who: str, query: str = "") -> list[str]:
    answer = city.client.get(f"/v1/alerts?{query}", headers=city.headers(who))
    assert answer.status_code == 200, answer.text
    return [item["alert_id"] for item in answer.json()["items"]]


def test_the_list_is_scoped_filtered_and_paged(city: City, clock: TestClock) -> None:
    # Long ago, whatever today is: every class's deadline has passed.
    day = (clock.now() - timedelta(days=400)).replace(hour=0, minute=0, second=0, microsecond=0)

    def on(days: int) -> str:
        return (day + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")

    a1 = raise_alert(city, "p-1", alert_class=1, opened_at=day)
    a2 = raise_alert(city, "p-2", alert_class=2, source="record", opened_at=day + timedelta(days=1))
    a3 = raise_alert(city, "p-1", alert_class=3, opened_at=day + timedelta(days=2))
    stray = raise_alert(city, "p-9", opened_at=day + timedelta(days=3))
    assert ids(city, "auditor") == [stray, a3, a2, a1]
    assert ids(city, "admin") == [stray, a3, a2, a1]
    assert ids(city, "rest-1") == [a3, a1]
    assert ids(city, "rest-2") == [a2]
    assert ids(city, "reg-1") == [a3, a1]
    assert ids(city, "reg-2") == [a2]
    assert ids(city, "reg-2", "premises_id=p-1") == []  # a filter never widens the reach

    assert ids(city, "auditor", "district=d2") == [a2]
    assert ids(city, "auditor", "class=1") == [a1]
    assert ids(city, "auditor", "source=record") == [a2]
    assert ids(city, "auditor", "premises_id=p-1") == [a3, a1]
    assert ids(city, "auditor", f"opened_from={on(1)}&opened_to={on(2)}") == [a2]
    assert post(city, "reg-1", a1, "acknowledge").status_code == 200
    assert ids(city, "reg-1", "status=acknowledged") == [a1]
    assert ids(city, "reg-1", "status=open") == [a3]
    # All were due long ago; the acknowledged one is still owed by p-1.
    assert ids(city, "auditor", "overdue=true") == [stray, a3, a2, a1]
    assert ids(city, "auditor", "escalation=yellow") == []
    assert ids(city, "auditor", "escalation=none&class=2&district=d2") == [a2]
    item = city.client.get("/v1/alerts?class=1", headers=city.headers("reg-1")).json()["items"][0]
    assert item["overdue"] is True and item["class"] == 1 and item["escalation"] == "none"
    assert item["proof"] == f"/v1/proofs/{item['breach_event_id']}"

    first = city.client.get("/v1/alerts?limit=3", headers=city.headers("auditor")).json()
    assert [i["alert_id"] for i in first["items"]] == [stray, a3, a2]
    assert first["next_offset"] == 3
    rest = city.client.get("/v1/alerts?limit=3&offset=3", headers=city.headers("auditor")).json()
    assert [i["alert_id"] for i in rest["items"]] == [a1] and rest["next_offset"] is None

    for bad, name in (("status=lost", "status"), ("class=4", "class"), ("source=rumour", "source"),
                      ("escalation=blue", "escalation"), ("limit=0", "limit"),
                      (f"opened_from={on(4)}&opened_to={on(0)}",
                       "opened_to")):  # fmt: skip
        answer = city.client.get(f"/v1/alerts?{bad}", headers=city.headers("auditor"))
        assert answer.status_code == 422, bad
        assert name in answer.json()["detail"], (bad, answer.json())
    assert city.client.get("/v1/alerts").status_code == 401


class Receiver:
    """A real HTTP server on 127.0.0.1 that keeps what it is sent and answers 200."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()
        running.thread.join(timeout=5)


def test_a_step_is_delivered_right_after_commit_in_eager_mode(
    city: City, receiver: Receiver
) -> None:
    answer = city.client.put(
        "/v1/admin/orgs/reg-1/webhook", headers=city.headers("admin"), json={"url": receiver.url}
    )
    assert answer.status_code == 200, answer.text
    secret = answer.json()["secret"]
    alert_id = raise_alert(city, "p-1")
    assert post(city, "reg-1", alert_id, "acknowledge", {"note": "seen"}).status_code == 200
    # The opening was waiting in the outbox; the step's commit sent both.
    assert [h["x-sunledger-event"] for h, _ in receiver.received] == [
        "alert.opened",
        "alert.transition",
    ]
    headers, body = receiver.received[1]
    import hmac

    mac = hmac.new(
        secret.encode(), headers["x-sunledger-timestamp"].encode() + b"." + body, "sha256"
    )
    assert headers["x-sunledger-signature"] == "sha256=" + mac.hexdigest()
    assert json.loads(body)["transition"]["note"] == "seen"
    with city.app.state.platform.sessions() as session:
        statuses = session.execute(select(WebhookDeliveryRow.status)).scalars().all()
    assert statuses == ["delivered", "delivered"]


def read_events(lines: Iterator[str], wanted: int, max_lines: int = 200) -> list[dict[str, Any]]:
    """Parse SSE lines until ``wanted`` messages came (at most ``max_lines`` lines)."""
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    for count, line in enumerate(lines):
        assert count < max_lines, "the stream did not deliver in time"
        if line.startswith("id: "):
            current["id"] = int(line[4:])
        elif line.startswith("event: "):
            current["event"] = line[7:]
        elif line.startswith("data: "):
            current["data"] = json.loads(line[6:])
        elif line == "" and "data" in current:
            events.append(current)
            current = {}
            if len(events) == wanted:
                break
    return events


def test_the_stream_sends_new_steps_to_those_who_may_see_them(city: City) -> None:
    alert_id = raise_alert(city, "p-1")
    other = raise_alert(city, "p-2")
    headers = city.headers("reg-1")
    with city.client.stream("GET", "/v1/alerts/stream?max_seconds=20", headers=headers) as stream:
        assert stream.status_code == 200
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines).startswith("retry: ")
        # A step out of reg-1's reach, then one in it: only the second comes.
        assert post(city, "reg-2", other, "acknowledge").status_code == 200
        assert post(city, "rest-1", alert_id, "acknowledge", {"note": "on it"}).status_code == 200
        [message] = read_events(lines, 1)
    assert message["event"] == "alert"
    assert message["data"]["alert"]["alert_id"] == alert_id
    step = message["data"]["transition"]
    assert step["to_status"] == "acknowledged" and step["note"] == "on it"
    assert step["actor"] == f"rest-1/{city.key_ids['rest-1']}" and message["id"] == step["id"]

    # Resuming from an earlier id replays what followed it, in order, within reach.
    resume = {**city.headers("rest-2"), "Last-Event-ID": "0"}
    with city.client.stream("GET", "/v1/alerts/stream?max_events=2", headers=resume) as stream:
        replay = read_events(stream.iter_lines(), 2)
    assert [
        (m["data"]["alert"]["alert_id"], m["data"]["transition"]["to_status"]) for m in replay
    ] == [
        (other, "open"),
        (other, "acknowledged"),
    ]
    assert replay[0]["id"] < replay[1]["id"]
    answer = city.client.get("/v1/alerts/stream", headers={"Last-Event-ID": "0"})
    assert answer.status_code == 401
    bad = city.client.get("/v1/alerts/stream", headers={**resume, "Last-Event-ID": "x"})
    assert bad.status_code == 422 and "Last-Event-ID" in bad.json()["detail"]


def test_the_stream_beats_while_nothing_happens(
    city: City, monkeypatch: pytest.MonkeyPatch
) -> None:
    from traceability.alerts import stream as feed

    monkeypatch.setattr(feed, "HEARTBEAT_SECONDS", 0.0)
    monkeypatch.setattr(feed, "POLL_SECONDS", 0.05)
    with city.client.stream(
        "GET", "/v1/alerts/stream?max_seconds=0.5", headers=city.headers("auditor")
    ) as stream:
        body = "".join(stream.iter_text())
    assert ": heartbeat" in body and "data:" not in body


def test_the_list_and_the_detail_carry_the_premises_name_and_zone(city: City) -> None:
    # The console labels its queue from the answer itself, not from a list of every
    # premises the key reaches fetched at sign-in.
    mine = raise_alert(city, "p-1")
    theirs = raise_alert(city, "p-2")
    stray = raise_alert(city, "p-9")
    items = city.client.get("/v1/alerts", headers=city.headers("auditor")).json()["items"]
    shown = {i["alert_id"]: (i["premises_name"], i["premises_timezone"]) for i in items}
    assert shown == {
        mine: ("Restaurant p-1", "Asia/Shanghai"),
        theirs: ("Restaurant p-2", "Asia/Shanghai"),
        stray: (None, None),  # unregistered premises: only everyone-reach callers see it
    }
    # The join names the premises; it does not widen a regulator's or a restaurant's reach.
    for who, expected in (("reg-1", [mine]), ("rest-2", [theirs])):
        items = city.client.get("/v1/alerts", headers=city.headers(who)).json()["items"]
        assert [(i["alert_id"], i["premises_name"]) for i in items] == [
            (a, f"Restaurant {'p-1' if a == mine else 'p-2'}") for a in expected
        ], who
    detail = city.client.get(f"/v1/alerts/{mine}", headers=city.headers("reg-1")).json()
    assert (detail["premises_name"], detail["premises_timezone"]) == (
        "Restaurant p-1",
        "Asia/Shanghai",
    )
    assert city.client.get(f"/v1/alerts/{mine}", headers=city.headers("reg-2")).status_code == 403
    answer = post(city, "reg-1", mine, "acknowledge")
    assert answer.json()["alert"]["premises_name"] == "Restaurant p-1"
    detail = city.client.get(f"/v1/alerts/{stray}", headers=city.headers("admin")).json()
    assert detail["premises_name"] is None and detail["premises_timezone"] is None
