"""One transaction per request: the session dependency commits (endpoints never do), and
work a request queues runs after that commit, once the answer is sent; a request that
fails, or whose commit fails, runs none of it. Real database, no stand-ins."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.deps import PlatformDep, SessionDep
from traceability.errors import Invalid
from traceability.orgs.registry import Directory
from traceability.settings import Settings
from traceability.storage.after_commit import after_commit
from traceability.storage.models import OrganisationRow


def stored(sessions: sessionmaker[Session], org_id: str) -> bool:
    """Whether another connection sees the organisation."""
    with sessions() as session:
        return session.get(OrganisationRow, org_id) is not None


class Probe:
    """What the queued work saw when it ran."""

    def __init__(self) -> None:
        self.runs: list[bool] = []


@pytest.fixture
def app(settings: Settings) -> Iterator[tuple[FastAPI, Probe]]:
    """The real app, with three routes that write an organisation and queue work."""
    app = create_app(settings)
    probe = Probe()

    def write(session: Session, sessions: sessionmaker[Session], org_id: str) -> None:
        Directory().create_organisation(
            session, org_id=org_id, name=org_id, role="auditor", now=datetime.now(UTC)
        )
        after_commit(session, lambda: probe.runs.append(stored(sessions, org_id)))

    @app.post("/test/write/{org_id}", status_code=201)
    def write_and_answer(org_id: str, platform: PlatformDep, session: SessionDep) -> dict[str, str]:
        write(session, platform.sessions, org_id)
        return {"org_id": org_id}

    @app.post("/test/write-then-fail/{org_id}")
    def write_then_fail(org_id: str, platform: PlatformDep, session: SessionDep) -> None:
        write(session, platform.sessions, org_id)
        session.flush()
        raise Invalid(f"refused after queueing the follow-up of {org_id}")

    @app.post("/test/write-twice/{org_id}")
    def write_twice(org_id: str, platform: PlatformDep, session: SessionDep) -> None:
        write(session, platform.sessions, org_id)
        # The same key again, unflushed: the dependency's commit is what fails.
        session.add(
            OrganisationRow(
                org_id=org_id, name="twin", role="auditor", created_at=datetime.now(UTC)
            )
        )

    yield app, probe
    app.state.engine.dispose()


def test_a_successful_request_runs_its_queued_work_after_the_commit(
    app: tuple[FastAPI, Probe],
) -> None:
    web, probe = app
    with TestClient(web) as client:
        response = client.post("/test/write/o-ok")
    assert response.status_code == 201, response.text
    assert probe.runs == [True]  # ran once, and saw the organisation committed


def test_a_request_that_fails_after_queueing_runs_none_of_it(app: tuple[FastAPI, Probe]) -> None:
    web, probe = app
    with TestClient(web) as client:
        response = client.post("/test/write-then-fail/o-refused")
    assert response.status_code == 422
    assert response.json()["error"] == "Invalid"
    assert probe.runs == []
    assert not stored(web.state.platform.sessions, "o-refused")


def test_a_failed_commit_runs_none_of_the_queued_work(app: tuple[FastAPI, Probe]) -> None:
    web, probe = app
    with TestClient(web, raise_server_exceptions=False) as client:
        response = client.post("/test/write-twice/o-twin")
    assert response.status_code >= 400
    assert probe.runs == []
    assert not stored(web.state.platform.sessions, "o-twin")
