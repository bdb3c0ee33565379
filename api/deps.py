"""Request dependencies: the app's one platform, and one database transaction per request."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Annotated

from fastapi import BackgroundTasks, Depends, Request
from sqlalchemy.orm import Session

from traceability.entrypoints.worker import request_follow_up
from traceability.platform import Platform
from traceability.storage.after_commit import after_commit, committed_work, run_all

__all__ = ["Platform", "PlatformDep", "SessionDep", "follow_up_after_commit"]


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_session(
    platform: Annotated[Platform, Depends(get_platform)], background: BackgroundTasks
) -> Iterator[Session]:
    """Commit when the endpoint returns, roll back when it raises; endpoints never commit.

    Its scope is the endpoint function (``SessionDep``): the commit happens before the
    response is sent, so a client that gets its 201 and asks again (on another
    connection, to another server process) reads what it wrote, and a failed commit is
    an error answer, never a 201 for something that was not stored. Work the request
    queued with ``after_commit`` runs after the commit, once the answer is sent; a
    rollback drops it."""
    session = platform.sessions()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
    work = committed_work(session)
    if work:
        background.add_task(run_all, work)


def follow_up_after_commit(
    platform: Platform, session: Session, *, alerts: bool = False, readings: bool = False
) -> None:
    """Ask for what a write needs once it is committed (``request_follow_up``: the due day
    summaries after readings, an anchoring tick, webhook delivery when alerts opened or
    moved), done after the answer has been sent: ingest never waits on the chain or on
    webhook receivers."""
    after_commit(session, partial(request_follow_up, platform, alerts=alerts, readings=readings))


PlatformDep = Annotated[Platform, Depends(get_platform)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
