"""The alert queue: list, timeline, lifecycle steps and the console's live stream.

Who sees what: a restaurant its own premises' alerts, a regulator those of premises in
its districts, auditors and admins all (alerts of unregistered premises only them).
An alert out of the caller's reach answers 403 (404 only when there is no such alert).
Steps (DESIGN.md "Alerts"): the restaurant acknowledges and submits rectification
evidence; a regulator of the district acknowledges, requests rectification, closes
(only after evidence) and reopens. A step the alert's status does not allow is 409.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query
from fastapi.responses import StreamingResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.auth import PrincipalDep, directory
from api.deps import Platform, PlatformDep, SessionDep, follow_up_after_commit
from api.pagination import PageDep, paged
from traceability.alerts import stream
from traceability.alerts.lifecycle import AlertDesk
from traceability.alerts.queue import AlertFilter, alert_detail, list_alerts, reach_of
from traceability.errors import Unauthenticated
from traceability.messages import message
from traceability.orgs.registry import Principal
from traceability.storage.models import AlertTransitionRow

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
logger = logging.getLogger("sunledger.api.alerts")

AlertId = Annotated[str, Path(min_length=1, max_length=64)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Note(_Body):
    note: str | None = Field(default=None, max_length=2000)


class RectificationRequest(_Body):
    note: str = Field(min_length=1, max_length=2000)
    due_at: AwareDatetime | None = None
    """A new deadline for the rectification; the current one stays when omitted."""


class Rectification(_Body):
    note: str = Field(min_length=1, max_length=2000)
    evidence_sha256: list[str] = Field(min_length=1, max_length=32)
    """SHA-256 (hex) of attachments already uploaded for the alert's premises."""


class Reopening(_Body):
    note: str = Field(min_length=1, max_length=2000)
    due_at: AwareDatetime | None = None
    """The new deadline; default: the class's rectification period from now."""


@router.get("")
def get_alerts(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    district: Annotated[str | None, Query(max_length=64)] = None,
    alert_class: Annotated[int | None, Query(alias="class", ge=1, le=3)] = None,
    status: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[str | None, Query(max_length=40)] = None,
    premises_id: Annotated[str | None, Query(max_length=64)] = None,
    opened_from: Annotated[datetime | None, Query(description="inclusive")] = None,
    opened_to: Annotated[datetime | None, Query(description="exclusive")] = None,
    escalation: Annotated[str | None, Query(max_length=8)] = None,
    overdue: bool = False,
) -> dict[str, Any]:
    """The alerts the caller may see, newest first. ``overdue=true``: past due and still
    awaiting the restaurant (open, acknowledged, rectification requested)."""
    wanted = AlertFilter(
        district=district,
        alert_class=alert_class,
        status=status,
        source=source,
        premises_id=premises_id,
        opened_from=opened_from,
        opened_to=opened_to,
        escalation=escalation,
        overdue=overdue,
    )
    items = list_alerts(
        session,
        principal,
        wanted,
        now=datetime.now(UTC),
        offset=page.offset,
        limit=page.fetch,
    )
    return paged(items, page)


@router.get("/stream", response_class=StreamingResponse)
def get_alert_stream(
    platform: PlatformDep,
    authorization: Annotated[str | None, Header()] = None,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
    max_events: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    max_seconds: Annotated[float | None, Query(gt=0, le=86_400)] = None,
) -> StreamingResponse:
    """Server-sent events: one ``alert`` message per new step the caller may see (id =
    the step id; send ``Last-Event-ID`` to resume), a ``: heartbeat`` comment every 15 s.
    ``max_events`` / ``max_seconds`` end the stream early, and it ends after 30 minutes
    anyway (clients reconnect with ``Last-Event-ID``)."""
    # Not SessionDep: the answer streams for long, and no session may stay open meanwhile.
    principal = _authenticate(platform, authorization)
    after = stream.start_after(platform.sessions, last_event_id)
    feed = stream.alert_feed(
        platform.sessions,
        reach_of(principal),
        after,
        max_events=max_events,
        max_seconds=max_seconds,
    )
    return StreamingResponse(
        feed,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/{alert_id}")
def get_alert(alert_id: AlertId, principal: PrincipalDep, session: SessionDep) -> dict[str, Any]:
    """The alert and its timeline (the breach, every step with who, when, note, evidence and
    its proof link, and the recovery)."""
    return alert_detail(session, principal, alert_id, datetime.now(UTC))


@router.post("/{alert_id}/acknowledge")
def acknowledge(
    alert_id: AlertId,
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
    body: Note | None = None,
) -> dict[str, Any]:
    """The restaurant or a regulator of the district has seen the alert (open only)."""
    step = _desk(platform).acknowledge(
        session, principal, alert_id, now=datetime.now(UTC), note=body.note if body else None
    )
    return _done(platform, session, principal, step)


@router.post("/{alert_id}/request-rectification")
def request_rectification(
    alert_id: AlertId,
    body: RectificationRequest,
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """A regulator of the district demands rectification (status rectification_requested),
    maybe with a new deadline."""
    step = _desk(platform).request_rectification(
        session, principal, alert_id, now=datetime.now(UTC), note=body.note, due_at=body.due_at
    )
    return _done(platform, session, principal, step)


@router.post("/{alert_id}/rectification")
def submit_rectification(
    alert_id: AlertId,
    body: Rectification,
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """The restaurant submits its rectification: a note and the uploaded evidence's hashes."""
    step = _desk(platform).submit_rectification(
        session,
        principal,
        alert_id,
        now=datetime.now(UTC),
        note=body.note,
        evidence_sha256=body.evidence_sha256,
    )
    return _done(platform, session, principal, step)


@router.post("/{alert_id}/close")
def close(
    alert_id: AlertId,
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
    body: Note | None = None,
) -> dict[str, Any]:
    """A regulator of the district signs the rectification off (only after evidence)."""
    step = _desk(platform).close(
        session, principal, alert_id, now=datetime.now(UTC), note=body.note if body else None
    )
    return _done(platform, session, principal, step)


@router.post("/{alert_id}/reopen")
def reopen(
    alert_id: AlertId,
    body: Reopening,
    principal: PrincipalDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """A regulator of the district rejects a rectification or reopens a closed alert."""
    step = _desk(platform).reopen(
        session, principal, alert_id, now=datetime.now(UTC), note=body.note, due_at=body.due_at
    )
    return _done(platform, session, principal, step)


def _desk(platform: Platform) -> AlertDesk:
    return AlertDesk(platform.log)


def _done(
    platform: Platform,
    session: Session,
    principal: Principal,
    step: AlertTransitionRow,
) -> dict[str, Any]:
    """Answer the alert; once the step is committed, ask for anchoring and webhook delivery."""
    follow_up_after_commit(platform, session, alerts=True)
    detail = alert_detail(session, principal, step.alert_id, datetime.now(UTC))
    return {"transition_id": step.id, "event_id": step.event_id, "alert": detail}


def _authenticate(platform: Platform, authorization: str | None) -> Principal:
    if authorization is None:
        raise Unauthenticated(message("auth.header_missing"))
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(message("auth.header_malformed"))
    with platform.sessions() as session:
        return directory.authenticate(session, token.strip(), datetime.now(UTC))
