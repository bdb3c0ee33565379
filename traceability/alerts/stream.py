"""The console's live feed of alert steps, as server-sent events.

Each new timeline step (an alert opening, a transition, a card) the caller may
see becomes one message::

    id: <transition id>
    event: alert
    data: {"alert": {...}, "transition": {...}}

Ids rise, so a client that reconnects with ``Last-Event-ID`` resumes after the
last step it saw; without one the feed starts with the steps after connecting.
The database is polled about once a second with a fresh session each time (no
session stays open between polls), and a comment line is sent every 15 s so
proxies keep the connection. ``max_events`` and ``max_seconds`` end the feed
early (the console reconnects; tests stay bounded); no feed lasts over 30 minutes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from traceability.alerts import repository as repo
from traceability.alerts.queue import alert_json, payloads, transition_json
from traceability.alerts.repository import Reach
from traceability.errors import Invalid

POLL_SECONDS = 1.0
HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 3000
# Even unbounded feeds end after this long; EventSource reconnects with Last-Event-ID,
# so nothing is lost, and no connection (nor a fuzzer's request) lives for ever.
LONGEST_SECONDS = 30 * 60.0
BATCH = 100


def start_after(sessions: sessionmaker[Session], last_event_id: str | None) -> int:
    """The step id to stream after: the client's ``Last-Event-ID``, else the latest now."""
    if last_event_id is not None and last_event_id.strip():
        text = last_event_id.strip()
        if not text.isdigit() or len(text) > 18:
            raise Invalid(f"Last-Event-ID {last_event_id!r} is not a step id of this stream")
        return int(text)
    with sessions() as session:
        return repo.last_transition_id(session)


def poll(sessions: sessionmaker[Session], reach: Reach, after_id: int) -> list[tuple[int, str]]:
    """The messages after ``after_id`` the reach may see, each as (id, SSE text)."""
    now = datetime.now(UTC)
    with sessions() as session:
        steps = repo.transitions_after(session, reach, after_id, BATCH)
        logged = payloads(session, [t.event_id for t, _alert in steps])
        messages = []
        for step, alert in steps:
            data = json.dumps(
                {
                    "alert": alert_json(alert, now),
                    "transition": transition_json(step, logged.get(step.event_id)),
                },
                separators=(",", ":"),
                ensure_ascii=False,
            )
            messages.append((step.id, f"id: {step.id}\nevent: alert\ndata: {data}\n\n"))
    return messages


async def alert_feed(
    sessions: sessionmaker[Session],
    reach: Reach,
    after_id: int,
    *,
    max_events: int | None = None,
    max_seconds: float | None = None,
    poll_seconds: float | None = None,
    heartbeat_seconds: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> AsyncIterator[str]:
    """The SSE text of the feed, chunk by chunk, until a limit ends it (or the client goes)."""
    poll_every = POLL_SECONDS if poll_seconds is None else poll_seconds
    beat_every = HEARTBEAT_SECONDS if heartbeat_seconds is None else heartbeat_seconds
    lasting = LONGEST_SECONDS if max_seconds is None else min(max_seconds, LONGEST_SECONDS)
    started = clock()
    last_beat = started
    sent = 0
    # A first chunk at once, so the client sees the answer start; it also sets the
    # reconnection delay.
    yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
    while True:
        for step_id, text in await asyncio.to_thread(poll, sessions, reach, after_id):
            after_id = step_id
            yield text
            sent += 1
            if max_events is not None and sent >= max_events:
                return
        now = clock()
        if now - started >= lasting:
            return
        if now - last_beat >= beat_every:
            last_beat = now
            yield ": heartbeat\n\n"
        await asyncio.sleep(poll_every)
