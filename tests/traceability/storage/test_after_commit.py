"""Work queued on a unit of work runs once it commits and is dropped when it rolls back
(``storage.db.transaction``, used by the worker's tasks and the commands), on SQLite and
PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from traceability.orgs.registry import Directory
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.after_commit import after_commit
from traceability.storage.db import transaction
from traceability.storage.models import OrganisationRow


def stored(sessions: sessionmaker[Session], org_id: str) -> bool:
    """Whether another connection sees the organisation (what a follow-up would read)."""
    with sessions() as session:
        return session.get(OrganisationRow, org_id) is not None


def add_org(session: Session, org_id: str) -> None:
    Directory().create_organisation(
        session, org_id=org_id, name=org_id, role="auditor", districts=[], now=datetime.now(UTC)
    )


def test_queued_work_runs_after_the_commit_and_sees_what_it_stored(settings: Settings) -> None:
    engine, sessions, _log, _signer = open_platform(settings)
    seen: list[bool] = []
    try:
        with transaction(sessions) as session:
            add_org(session, "o-committed")
            after_commit(session, lambda: seen.append(stored(sessions, "o-committed")))
            assert seen == []  # not while the transaction is open
        assert seen == [True]
    finally:
        engine.dispose()


def test_queued_work_is_dropped_when_the_unit_of_work_fails(settings: Settings) -> None:
    engine, sessions, _log, _signer = open_platform(settings)
    ran: list[str] = []
    try:
        with pytest.raises(RuntimeError), transaction(sessions) as session:
            add_org(session, "o-rolled-back")
            after_commit(session, lambda: ran.append("follow-up"))
            session.flush()
            raise RuntimeError("the task failed after queueing its follow-up")
        assert ran == []
        assert not stored(sessions, "o-rolled-back")
    finally:
        engine.dispose()


def test_a_savepoint_neither_runs_nor_drops_the_work_of_the_transaction_around_it(
    settings: Settings,
) -> None:
    engine, sessions, _log, _signer = open_platform(settings)
    ran: list[str] = []
    try:
        with transaction(sessions) as session:
            add_org(session, "o-outer")
            after_commit(session, lambda: ran.append("outer"))
            with session.begin_nested():
                add_org(session, "o-kept")
            assert ran == []  # a savepoint's commit is not the transaction's
            with pytest.raises(RuntimeError), session.begin_nested():
                add_org(session, "o-dropped")
                raise RuntimeError("savepoint rolled back")
        assert ran == ["outer"]  # the savepoint's rollback did not drop it
        assert stored(sessions, "o-kept") and not stored(sessions, "o-dropped")
    finally:
        engine.dispose()
