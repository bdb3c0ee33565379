"""The public list of premises (the landing page's search), its contacts and QR base URLs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from seeded_city import City

from traceability.alerts.raising import open_alert
from traceability.public_record.contacts import public_contacts
from traceability.settings import ReportContact, Settings
from traceability.storage.db import transaction
from traceability.transparency.ingest import Ingest


def listed(city: City, **params: object) -> dict[str, object]:
    answer = city.client.get("/v1/public/premises", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def ids(body: dict[str, object]) -> list[str]:
    items = body["items"]
    assert isinstance(items, list)
    return [item["premises_id"] for item in items]


def test_the_list_searches_name_address_and_district_and_pages(city: City) -> None:
    everything = listed(city)
    assert (everything["total"], everything["pages"], ids(everything)) == (2, 1, ["p-1", "p-2"])
    assert everything["districts"] == ["d1", "d2"]
    [first, _] = everything["items"]  # type: ignore[misc]
    assert first["grade"] is None and first["page"] == "/r/p-1"
    assert first["open_problems"] == {
        "total": 0,
        "class_1": 0,
        "overdue": 0,
        "yellow_cards": 0,
        "red_cards": 0,
    }
    # Any case, any part of the name, the address or the district.
    assert ids(listed(city, q="RESTAURANT")) == ["p-1", "p-2"]
    assert ids(listed(city, q="p-2 road")) == ["p-2"]
    assert ids(listed(city, q="d1")) == ["p-1"]
    assert ids(listed(city, district="d2")) == ["p-2"]
    assert ids(listed(city, q="restaurant", district="d1")) == ["p-1"]
    # LIKE's wildcards are searched for as text, not as patterns.
    assert listed(city, q="%")["total"] == 0 and listed(city, q="_")["total"] == 0
    second = listed(city, per_page=1, page=2)
    assert (second["total"], second["pages"], ids(second)) == (2, 2, ["p-2"])
    assert ids(listed(city, per_page=1, page=3)) == []


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"q": "x" * 101}, "q"),
        ({"district": ""}, "district"),
        ({"q": "noodle\x00"}, "q"),
        ({"district": "d1\n"}, "district"),
    ],
)
def test_bad_list_parameters_are_422_naming_the_parameter(
    city: City, params: dict[str, object], named: str
) -> None:
    answer = city.client.get("/v1/public/premises", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "Invalid" and named in answer.json()["detail"]


def test_the_list_counts_open_problems_class_overdue_and_cards(city: City) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    platform = city.app.state.platform
    with transaction(platform.sessions) as session:
        for alert_class, days_ago in ((1, 5), (3, 0)):
            opened = open_alert(
                session,
                premises_id="p-1",
                subject="device:fr-1",
                source="probe",
                rule="cold_holding",
                alert_class=alert_class,
                detail="fridge above 8 °C",
                started_at=now - timedelta(days=days_ago, minutes=5),
                now=now - timedelta(days=days_ago),
            )
            Ingest(platform.log).append(session, [opened.event])
    item = listed(city, q="p-1")["items"][0]  # type: ignore[index]
    # The class 1 alert is five days old: past its 72 h deadline.
    assert item["open_problems"] == {
        "total": 2,
        "class_1": 1,
        "overdue": 1,
        "yellow_cards": 0,
        "red_cards": 0,
    }
    assert listed(city, q="p-2")["items"][0]["open_problems"]["total"] == 0  # type: ignore[index]


def test_the_landing_page_is_served_at_the_root(city: City) -> None:
    answer = city.client.get("/", headers={"Accept": "text/html"})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
    assert "/static/js/landing.js" in answer.text
    assert "Content-Security-Policy" in answer.headers


def test_report_contacts_by_district_with_the_city_default(city: City) -> None:
    record = city.client.get("/v1/public/restaurants/p-1").json()
    assert record["contacts"]["report"] == {"name": "12315", "phone": "12315", "url": None}
    assert record["contacts"]["verification"] == record["contacts"]["report"]
    settings = Settings(
        report_contacts={
            "*": ReportContact(name="12315", phone="12315"),
            "d2": ReportContact(name="D2 bureau", url="https://d2.example/report"),
        },
        verification_contact=ReportContact(name="Sunledger operator", url="mailto:ops@x.example"),
    )
    assert public_contacts(settings, "d2")["report"]["name"] == "D2 bureau"
    assert public_contacts(settings, "d1")["report"]["name"] == "12315"
    assert public_contacts(settings, "d1")["verification"]["url"] == "mailto:ops@x.example"
    with pytest.raises(ValueError, match="needs a phone or a url"):
        ReportContact(name="nobody")


def test_qr_codes_and_links_follow_the_request_unless_a_base_is_set(city: City) -> None:
    record = city.client.get("/v1/public/restaurants/p-1").json()
    assert record["links"]["page"] == "http://testserver/r/p-1"
    other = city.client.get(
        "/v1/public/restaurants/p-1/qr.svg", headers={"Host": "eat.example:8123"}
    )
    assert "<desc>http://eat.example:8123/r/p-1</desc>" in other.text
    city.app.state.platform.settings.public_base_url = "https://food.example"
    try:
        svg = city.client.get("/v1/public/restaurants/p-1/qr.svg")
        assert "<desc>https://food.example/r/p-1</desc>" in svg.text
    finally:
        city.app.state.platform.settings.public_base_url = None
