"""Inspections and grades: the thresholds at their edges, and the service on both databases."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from traceability import merkle
from traceability.alerts.raising import open_alert
from traceability.errors import Invalid
from traceability.inspections import grades
from traceability.inspections.schemas import InspectionSubmission
from traceability.inspections.service import Inspections
from traceability.orgs.registry import Directory
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, EventRow, GradeRow, InspectionRow, PremisesRow
from traceability.transparency.events import InspectionItem
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

# -------------------------------------------------------------------- pure rules


@pytest.mark.parametrize(
    ("score", "key_failed", "result"),
    [
        (100.0, False, "excellent"),
        (90.0, False, "excellent"),
        (89.99, False, "good"),
        (75.0, False, "good"),
        (74.99, False, "fair"),
        (0.0, False, "fair"),
        (100.0, True, "fair"),  # a failed key item caps the result
        (90.0, True, "fair"),
    ],
)
def test_inspection_result_thresholds(score: float, key_failed: bool, result: str) -> None:
    assert grades.inspection_result(score, key_failed) == result


@pytest.mark.parametrize(
    ("results", "grade"),
    [
        ([], None),
        (["excellent"], "A"),
        (["excellent", "good"], "A"),  # exactly half excellent, none fair
        (["excellent", "good", "good"], "B"),  # less than half excellent
        (["excellent", "excellent", "fair"], "B"),  # one fair result rules out A
        (["good", "fair"], "B"),  # exactly half good or better
        (["good", "fair", "fair"], "C"),
        (["fair"], "C"),
    ],
)
def test_annual_grade_rules(results: list[str], grade: str | None) -> None:
    decided = grades.annual_grade(2026, results)
    assert decided.grade == grade
    assert decided.reason  # always says why


def test_months_are_calendar_months() -> None:
    assert grades.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert grades.add_months(date(2023, 11, 30), 3) == date(2024, 2, 29)
    assert grades.add_months(date(2026, 8, 31), -6) == date(2026, 2, 28)
    assert grades.add_months(date(2026, 3, 15), -6) == date(2025, 9, 15)


def test_no_grade_periods_end_on_their_day() -> None:
    issued = date(2026, 3, 10)
    assert grades.no_grade_reason(date(2026, 6, 9), issued, None) is not None
    assert grades.no_grade_reason(date(2026, 6, 10), issued, None) is None
    old = date(2020, 1, 1)
    incident = date(2026, 1, 20)
    reason = grades.no_grade_reason(date(2026, 7, 19), old, incident)
    assert reason is not None and "2026-07-20" in reason
    assert grades.no_grade_reason(date(2026, 7, 20), old, incident) is None


# -------------------------------------------------------------------- the service

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@dataclass
class Town:
    sessions: sessionmaker[Session]
    log: TransparencyLog
    service: Inspections

    def premises(self, session: Session, premises_id: str) -> PremisesRow:
        return Directory().premises(session, premises_id)

    def inspect(
        self, premises_id: str, score: float, *, key_failed: bool = False, on: date | None = None
    ) -> str:
        submission = InspectionSubmission(
            inspected_on=on or NOW.date(),
            score=score,
            items=[
                InspectionItem(item="cold storage", passed=not key_failed, key=True),
                InspectionItem(item="floor drains", passed=True, finding="clean"),
            ],
        )
        with transaction(self.sessions) as session:
            premises = self.premises(session, premises_id)
            done = self.service.record(session, premises, "reg-1", submission, NOW)
            return done.row.event_id


@pytest.fixture
def town(settings: Settings) -> Iterator[Town]:
    engine, sessions, log, _signer = open_platform(settings)
    directory = Directory()
    with transaction(sessions) as session:
        directory.create_organisation(
            session, org_id="rest-1", name="Rest", role="restaurant", now=NOW
        )
        for premises_id, issued in [("p-old", date(2020, 5, 1)), ("p-new", date(2026, 9, 1))]:
            directory.add_premises(
                session,
                premises_id=premises_id,
                org_id="rest-1",
                name=f"Restaurant {premises_id}",
                kind="restaurant",
                licence_number=f"JY1{premises_id.replace('-', '')}0000",
                licence_issued_on=issued,
                district="d1",
                address="1 Road",
                now=NOW,
            )
    yield Town(sessions, log, Inspections(log))
    engine.dispose()


def test_an_inspection_is_recorded_and_logged(town: Town) -> None:
    event_id = town.inspect("p-old", 91.0)
    with town.sessions() as session:
        row = session.get(InspectionRow, event_id)
        assert row is not None
        assert (row.result, row.score, row.regulator_org) == ("excellent", 91.0, "reg-1")
        summary = json.loads(row.summary)
        assert summary["counts"] == {"items": 2, "failed": 0, "key_items": 1, "key_items_failed": 0}
        event = session.execute(select(EventRow).where(EventRow.event_id == event_id)).scalar_one()
        body = json.loads(event.body)
        assert (event.kind, event.subject) == ("inspection", "premises:p-old")
        assert body["payload"]["inspector_org"] == "reg-1"
        assert body["payload"]["result"] == "excellent"
        assert body["payload"]["inspected_on"] == NOW.date().isoformat()
        assert body["payload"]["items"][0] == {
            "item": "cold storage",
            "passed": True,
            "finding": None,
            "key": True,
        }
        size = town.log.size(session)
        proof = town.log.inclusion_proof(session, event.leaf_index, size)
        merkle.verify_inclusion(
            event.leaf_index, size, merkle.leaf_hash(event.body), proof.hashes, proof.root_hash
        )
        assert session.execute(select(func.count()).select_from(AlertRow)).scalar_one() == 0


def test_a_failed_key_item_caps_the_result_and_opens_an_alert(town: Town) -> None:
    event_id = town.inspect("p-old", 98.0, key_failed=True)
    with town.sessions() as session:
        row = session.get(InspectionRow, event_id)
        assert row is not None and row.result == "fair"
        [alert] = session.execute(select(AlertRow)).scalars()
        assert (alert.source, alert.alert_class, alert.rule) == (
            "inspection",
            2,
            "inspection_key_item",
        )
        assert "cold storage" in alert.detail and event_id in alert.detail
        assert alert.due_at is not None and alert.due_at - alert.opened_at == timedelta(days=10)
        breach = session.execute(
            select(EventRow).where(EventRow.event_id == alert.breach_event_id)
        ).scalar_one()
        assert breach.kind == "violation"


def test_an_inspection_in_the_future_is_refused_and_nothing_is_stored(town: Town) -> None:
    with pytest.raises(Invalid, match="inspected_on"):
        town.inspect("p-old", 80.0, on=NOW.date() + timedelta(days=2))
    with town.sessions() as session:
        assert session.execute(select(func.count()).select_from(InspectionRow)).scalar_one() == 0
        assert town.log.size(session) == 0


def decide(town: Town, premises_id: str, year: int, now: datetime = NOW) -> GradeRow:
    with transaction(town.sessions) as session:
        premises = town.premises(session, premises_id)
        row = town.service.decide_grade(session, premises, year, "reg-1", now).row
        session.expunge(row)
        return row


@pytest.mark.parametrize(
    ("scores", "grade"),
    [
        ([95.0, 80.0], "A"),
        ([95.0, 80.0, 80.0], "B"),
        ([80.0, 60.0, 60.0], "C"),
    ],
)
def test_the_annual_grade_follows_the_years_inspections(
    town: Town, scores: list[float], grade: str
) -> None:
    ids = [
        town.inspect("p-old", s, on=date(2026, 3, 1) + timedelta(days=i))
        for i, s in enumerate(scores)
    ]
    town.inspect("p-old", 10.0, on=date(2025, 12, 31))  # another year: not counted
    row = decide(town, "p-old", 2026)
    assert row.grade == grade
    with town.sessions() as session:
        event = session.execute(
            select(EventRow).where(EventRow.event_id == row.event_id)
        ).scalar_one()
        payload = json.loads(event.body)["payload"]
        assert payload["grade"] == grade and payload["inspections"] == ids
        assert payload["decided_by"] == "reg-1"


def test_a_year_without_inspections_has_no_grade_but_is_recorded(town: Town) -> None:
    row = decide(town, "p-old", 2024)
    assert row.grade is None and "no inspection in 2024" in row.reason


def test_no_grade_within_three_months_of_a_new_licence(town: Town) -> None:
    town.inspect("p-new", 99.0, on=date(2026, 10, 1))
    row = decide(town, "p-new", 2026, now=datetime(2026, 11, 30, 4, tzinfo=UTC))
    assert row.grade is None
    assert "new licence issued on 2026-09-01" in row.reason and "2026-12-01" in row.reason
    later = decide(town, "p-new", 2026, now=datetime(2026, 12, 1, 4, tzinfo=UTC))
    assert later.grade == "A"


def test_no_grade_within_six_months_of_a_class_1_incident(town: Town) -> None:
    town.inspect("p-old", 99.0, on=date(2026, 2, 1))
    opened_at = datetime(2026, 6, 10, 4, tzinfo=UTC)
    with transaction(town.sessions) as session:
        for alert_class in (1, 2):
            opened = open_alert(
                session,
                premises_id="p-old",
                subject="device:fr-1",
                source="probe",
                rule="cold_holding",
                alert_class=alert_class,
                detail="fridge above 8 °C",
                started_at=opened_at,
                now=opened_at if alert_class == 1 else NOW,
            )
            Ingest(town.log).append(session, [opened.event])
    blocked = decide(town, "p-old", 2026, now=datetime(2026, 12, 9, 4, tzinfo=UTC))
    assert blocked.grade is None and "incident (class 1 alert) on 2026-06-10" in blocked.reason
    # The class 2 alert (opened NOW) is no incident; six months after the class 1 one: graded.
    graded = decide(town, "p-old", 2026, now=datetime(2026, 12, 10, 4, tzinfo=UTC))
    assert graded.grade == "A"


def test_recomputing_a_year_replaces_the_row_and_keeps_the_history(town: Town) -> None:
    town.inspect("p-old", 80.0, on=date(2026, 4, 1))
    first = decide(town, "p-old", 2026)
    town.inspect("p-old", 95.0, on=date(2026, 5, 1))
    town.inspect("p-old", 96.0, on=date(2026, 6, 1))
    second = decide(town, "p-old", 2026)
    assert (first.grade, second.grade) == ("B", "A")
    with town.sessions() as session:
        rows = list(session.execute(select(GradeRow)).scalars())
        assert [(r.year, r.grade, r.event_id) for r in rows] == [(2026, "A", second.event_id)]
        kinds = session.execute(
            select(EventRow.event_id).where(EventRow.kind == "grade").order_by(EventRow.leaf_index)
        ).scalars()
        assert list(kinds) == [first.event_id, second.event_id]


def test_a_future_year_cannot_be_graded(town: Town) -> None:
    with pytest.raises(Invalid, match="year 2027"):
        decide(town, "p-old", 2027)
