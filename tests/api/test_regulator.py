"""Regulator endpoints: inspections and grades, and who may do what to whose premises."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from seeded_city import City
from sqlalchemy import func, select

from traceability.alerts.raising import open_alert
from traceability.orgs.registry import Directory
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, EventRow, GradeRow, InspectionRow
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

TODAY = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the premises' day
YEAR = TODAY.year


def inspection(score: float = 92.0, *, key_passed: bool = True, on: date = TODAY) -> dict[str, Any]:
    return {
        "inspected_on": on.isoformat(),
        "score": score,
        "findings": "Clean kitchen; one drain cover loose.",
        "items": [
            {"item": "cold chain", "passed": key_passed, "key": True},
            {"item": "drain covers", "passed": False, "finding": "loose cover"},
        ],
    }


def post_inspection(city: City, who: str, premises: str = "p-1", **kw: Any) -> Any:
    return city.client.post(
        f"/v1/regulator/premises/{premises}/inspections",
        json=inspection(**kw),
        headers=city.headers(who),
    )


def counts(city: City) -> tuple[int, int, int]:
    with city.app.state.platform.sessions() as session:
        return (
            session.execute(select(func.count()).select_from(InspectionRow)).scalar_one(),
            session.execute(select(func.count()).select_from(EventRow)).scalar_one(),
            session.execute(select(func.count()).select_from(GradeRow)).scalar_one(),
        )


def test_the_districts_regulator_records_an_inspection(city: City) -> None:
    response = post_inspection(city, "reg-1")
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["result"], body["result_zh"], body["face"]) == ("excellent", "优秀", "big_smile")
    assert body["inspector_org"] == "reg-1" and body["alert_id"] is None
    assert body["summary"]["counts"]["failed"] == 1
    assert body["proof"] == f"/v1/proofs/{body['event_id']}"
    entry = city.client.get(f"/v1/log/entries/{body['leaf_index']}").json()
    assert entry["event"]["kind"] == "inspection" and entry["event"]["subject"] == "premises:p-1"
    assert entry["event"]["payload"]["inspector_org"] == "reg-1"
    # No person and no key id in what was logged.
    assert city.key_ids["reg-1"] not in json.dumps(entry)
    assert city.client.get(f"/v1/proofs/{body['event_id']}").status_code == 200


def test_a_failed_key_item_opens_a_class_2_alert(city: City) -> None:
    body = post_inspection(city, "reg-1", score=99.0, key_passed=False).json()
    assert body["result"] == "fair" and body["face"] == "flat"
    with city.app.state.platform.sessions() as session:
        alert = session.get(AlertRow, body["alert_id"])
        assert alert is not None
        assert (alert.source, alert.alert_class, alert.premises_id) == ("inspection", 2, "p-1")


@pytest.mark.parametrize("who", ["reg-2", "rest-1", "rest-2", "auditor", "admin"])
def test_only_the_districts_regulator_may_inspect(city: City, who: str) -> None:
    before = counts(city)
    response = post_inspection(city, who)
    assert response.status_code == 403, response.text
    assert response.json()["error"] == "Forbidden"
    grade = city.client.post(f"/v1/regulator/premises/p-1/grades/{YEAR}", headers=city.headers(who))
    assert grade.status_code == 403
    assert counts(city) == before


def test_unknown_premises_and_missing_keys(city: City) -> None:
    assert post_inspection(city, "reg-1", premises="p-404").status_code == 404
    assert (
        city.client.post("/v1/regulator/premises/p-1/inspections", json=inspection()).status_code
        == 401
    )
    assert city.client.get("/v1/regulator/premises/p-1/inspections").status_code == 401


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"score": 101}, "score"),
        ({"score": -1}, "score"),
        ({"items": []}, "items"),
        ({"inspected_on": (TODAY + timedelta(days=3)).isoformat()}, "inspected_on"),
        ({"inspector": "Wang Fang"}, "inspector"),  # no field for a person's name
    ],
)
def test_bad_inspections_are_refused_and_store_nothing(
    city: City, change: dict[str, Any], reason: str
) -> None:
    before = counts(city)
    response = city.client.post(
        "/v1/regulator/premises/p-1/inspections",
        json={**inspection(), **change},
        headers=city.headers("reg-1"),
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "Invalid" and reason in response.json()["detail"]
    assert counts(city) == before


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("reg-1", 200),
        ("auditor", 200),
        ("admin", 200),
        ("rest-1", 200),
        ("reg-2", 403),
        ("rest-2", 403),
    ],
)
def test_who_reads_the_inspections_and_grades(city: City, who: str, status: int) -> None:
    post_inspection(city, "reg-1")
    for path in ("inspections", "grades"):
        response = city.client.get(f"/v1/regulator/premises/p-1/{path}", headers=city.headers(who))
        assert response.status_code == status, response.text
    if status == 200:
        page = city.client.get("/v1/regulator/premises/p-1/inspections", headers=city.headers(who))
        assert len(page.json()["items"]) == 1


def test_inspections_are_paged_newest_first(city: City) -> None:
    for days in (3, 1, 2):
        post_inspection(city, "reg-1", on=TODAY - timedelta(days=days))
    page = city.client.get(
        "/v1/regulator/premises/p-1/inspections?limit=2", headers=city.headers("rest-1")
    ).json()
    assert [i["inspected_on"] for i in page["items"]] == [
        (TODAY - timedelta(days=1)).isoformat(),
        (TODAY - timedelta(days=2)).isoformat(),
    ]
    assert page["next_offset"] == 2
    rest = city.client.get(
        "/v1/regulator/premises/p-1/inspections?offset=2&limit=2", headers=city.headers("rest-1")
    ).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None


def test_a_grade_is_decided_logged_and_recomputed(city: City) -> None:
    # Inspections of this year: excellent and good -> A. (TODAY - 0 keeps them in this year.)
    post_inspection(city, "reg-1", score=95.0)
    post_inspection(city, "reg-1", score=80.0)
    first = city.client.post(
        f"/v1/regulator/premises/p-1/grades/{YEAR}", headers=city.headers("reg-1")
    )
    assert first.status_code == 201, first.text
    assert first.json()["grade"] == "A" and len(first.json()["inspections"]) == 2
    post_inspection(city, "reg-1", score=50.0)
    second = city.client.post(
        f"/v1/regulator/premises/p-1/grades/{YEAR}", headers=city.headers("reg-1")
    ).json()
    assert second["grade"] == "B" and second["replaced_event_id"] == first.json()["event_id"]
    grades = city.client.get("/v1/regulator/premises/p-1/grades", headers=city.headers("auditor"))
    assert [(g["year"], g["grade"]) for g in grades.json()["items"]] == [(YEAR, "B")]
    for decided in (first.json(), second):
        entry = city.client.get(f"/v1/log/entries/{decided['leaf_index']}").json()["event"]
        assert entry["kind"] == "grade" and entry["payload"]["decided_by"] == "reg-1"


def test_a_future_year_is_refused(city: City) -> None:
    response = city.client.post(
        f"/v1/regulator/premises/p-1/grades/{YEAR + 1}", headers=city.headers("reg-1")
    )
    assert response.status_code == 422 and str(YEAR + 1) in response.json()["detail"]


def test_no_grade_after_a_new_licence_or_an_incident(city: City) -> None:
    platform = city.app.state.platform
    now = datetime.now(UTC)
    with transaction(platform.sessions) as session:
        Directory().add_premises(
            session,
            premises_id="p-3",
            org_id="rest-1",
            name="New place",
            kind="restaurant",
            licence_number="JY1p30000",
            licence_issued_on=TODAY - timedelta(days=20),
            district="d1",
            address="3 Road",
            now=now,
        )
        opened = open_alert(
            session,
            premises_id="p-1",
            subject="device:fr-1",
            source="probe",
            rule="cold_holding",
            alert_class=1,
            detail="fridge above 8 °C for 35 min",
            started_at=now - timedelta(days=30),
            now=now - timedelta(days=30),
        )
        Ingest(platform.log).append(session, [opened.event])
    post_inspection(city, "reg-1", premises="p-3", score=99.0)
    post_inspection(city, "reg-1", premises="p-1", score=99.0)
    new = city.client.post(
        f"/v1/regulator/premises/p-3/grades/{YEAR}", headers=city.headers("reg-1")
    )
    assert new.status_code == 201 and new.json()["grade"] is None
    assert "new licence" in new.json()["reason"]
    hit = city.client.post(
        f"/v1/regulator/premises/p-1/grades/{YEAR}", headers=city.headers("reg-1")
    )
    assert hit.status_code == 201 and hit.json()["grade"] is None
    assert "incident (class 1 alert)" in hit.json()["reason"]
    listed = city.client.get("/v1/regulator/premises/p-1/grades", headers=city.headers("rest-1"))
    assert listed.json()["items"][0]["grade"] is None


def test_an_unscored_follow_up_is_recorded_without_result_or_rating(city: City) -> None:
    before = counts(city)
    answer = city.client.post(
        "/v1/regulator/premises/p-1/inspections",
        json={
            "inspected_on": TODAY.isoformat(),
            "inspection_type": "follow-up",
            "items": [{"item": "drain covers", "passed": True}],
            "violations": [
                {"code": "K1", "description": "rodent droppings", "risk_category": "key"}
            ],
        },
        headers=city.headers("reg-1"),
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert (body["score"], body["result"], body["rating"], body["scheme"]) == (
        None,
        None,
        None,
        "cn",
    )
    assert body["inspection_type"] == "follow-up"
    assert body["violations"] == [
        {"code": "K1", "description": "rodent droppings", "risk_category": "key"}
    ]
    assert body["alert_id"] is not None  # a key-risk violation alerts under cn
    inspections, events, _grades = counts(city)
    assert (inspections, events) == (before[0] + 1, before[1] + 2)
