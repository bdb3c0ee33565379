"""Exports over HTTP: who may export what, the bounds, and the formats as served."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from seeded_city import City

from traceability.exports import epcis, fsma204, open_data
from traceability.storage.db import transaction
from traceability.storage.models import InspectionRow, LotRow
from traceability.transparency.events import (
    IngredientReceipt,
    Inspection,
    parse_event_input,
    prepare_event,
)
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

NOW = datetime.now(UTC).replace(microsecond=0)
TODAY = NOW.astimezone(ZoneInfo("Asia/Shanghai")).date()


def _log(city: City, kind: str, premises_id: str, payload: dict[str, Any], at: datetime) -> str:
    event = parse_event_input(
        {
            "kind": kind,
            "subject": f"premises:{premises_id}",
            "occurred_at": at.isoformat(),
            "payload": payload,
        }
    )
    prepared = prepare_event(event, NOW)
    with transaction(city.app.state.platform.sessions) as session:
        Ingest(city.app.state.platform.log).append(session, [prepared])
    return prepared.event_id


def receipt(city: City, premises_id: str, lot_code: str, received_on: date, **kde: Any) -> str:
    fields: dict[str, Any] = {
        "lot_code": lot_code,
        "product": "chicken thighs",
        "quantity": 8,
        "unit": "kg",
        "previous_source": "Poultry Co",
        "receiving_location": f"{premises_id} back door",
        "received_on": received_on,
        "reference_document_type": "invoice",
        "reference_document_number": "INV-9",
        **kde,
    }
    payload = IngredientReceipt(**fields).model_dump(mode="json")
    event_id = _log(city, "ingredient_receipt", premises_id, payload, NOW - timedelta(minutes=5))
    with transaction(city.app.state.platform.sessions) as session:
        session.add(
            LotRow(
                premises_id=premises_id,
                gtin=fields.get("gtin"),
                lot_code=lot_code,
                product=fields["product"],
                supplier=fields["previous_source"],
                quantity=fields["quantity"],
                unit=fields["unit"],
                received_on=received_on,
                event_id=event_id,
            )
        )
    return event_id


def inspection(city: City, premises_id: str, on: date, score: float, result: str) -> str:
    payload = Inspection(inspector_org="reg", score=score, result=result).model_dump(mode="json")  # type: ignore[arg-type]
    event_id = _log(city, "inspection", premises_id, payload, NOW - timedelta(minutes=1))
    with transaction(city.app.state.platform.sessions) as session:
        session.add(
            InspectionRow(
                event_id=event_id,
                premises_id=premises_id,
                regulator_org="reg",
                inspected_on=on,
                score=score,
                result=result,
                summary="{}",
                recorded_at=NOW,
            )
        )
    return event_id


def epcis_url(premises_id: str, first: date, last: date) -> str:
    return f"/v1/exports/epcis?premises_id={premises_id}&from={first}&to={last}"


def test_epcis_export_by_role(city: City) -> None:
    mine = receipt(city, "p-1", "LOT-1", TODAY)
    receipt(city, "p-2", "LOT-2", TODAY)
    checked = inspection(city, "p-1", TODAY, 88, "good")
    url = epcis_url("p-1", TODAY - timedelta(days=1), TODAY)
    for who in ("rest-1", "reg-1", "auditor", "admin"):
        answer = city.client.get(url, headers=city.headers(who))
        assert answer.status_code == 200, (who, answer.text)
        assert answer.headers["content-type"].startswith("application/ld+json")
        doc = answer.json()
        jsonschema.Draft7Validator(epcis.epcis_schema()).validate(doc)
        events = doc["epcisBody"]["eventList"]
        assert [e["sunledger:eventId"] for e in events] == [mine, checked]
        # Proof links are absolute, on the host the caller used, and resolve to the bundle.
        assert events[0]["sunledger:proof"] == f"http://testserver/v1/proofs/{mine}"
    for who in ("rest-2", "reg-2"):
        answer = city.client.get(url, headers=city.headers(who))
        assert answer.status_code == 403, who
        assert answer.json()["error"] == "Forbidden" and "p-1" in answer.json()["detail"]
    assert city.client.get(url).status_code == 401
    missing = city.client.get(epcis_url("p-404", TODAY, TODAY), headers=city.headers("admin"))
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("premises_id=p-1&from=2026-01-01&to=2026-02-01", "covers 32 days; at most 31"),
        ("premises_id=p-1&from=2026-01-02&to=2026-01-01", "is after to"),
        ("premises_id=p-1&from=2026-01-01", "query.to"),
        ("premises_id=p-1&from=yesterday&to=2026-01-01", "query.from"),
        ("premises_id=../etc&from=2026-01-01&to=2026-01-01", "query.premises_id"),
    ],
)
def test_epcis_export_bounds(city: City, query: str, reason: str) -> None:
    answer = city.client.get(f"/v1/exports/epcis?{query}", headers=city.headers("admin"))
    assert answer.status_code == 422
    assert answer.json()["error"] == "Invalid" and reason in answer.json()["detail"]


def test_epcis_export_refuses_too_many_events(city: City, monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        receipt(city, "p-1", f"LOT-{n}", TODAY)
    monkeypatch.setattr(epcis, "MAX_EVENTS", 2)
    days = (TODAY - timedelta(days=1), TODAY)
    answer = city.client.get(epcis_url("p-1", *days), headers=city.headers("rest-1"))
    assert answer.status_code == 422
    assert "holds 3 events" in answer.json()["detail"] and "at most 2" in answer.json()["detail"]


def fsma(city: City, who: str, lot: str, **extra: str) -> list[dict[str, str]]:
    params = {"lot_code": lot, "from": str(TODAY - timedelta(days=7)), "to": str(TODAY), **extra}
    answer = city.client.get("/v1/exports/fsma204.csv", params=params, headers=city.headers(who))
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.text.splitlines()[0] == ",".join(fsma204.COLUMNS)
    return list(csv.DictReader(io.StringIO(answer.text)))


def test_fsma_spreadsheet_is_scoped_to_what_the_caller_reads(city: City) -> None:
    in_d1 = receipt(city, "p-1", "L-100", TODAY - timedelta(days=2), product="@evil()")
    in_d2 = receipt(city, "p-2", "L-100", TODAY - timedelta(days=1), gtin="00012345600012")
    everything = [in_d1, in_d2]
    assert [r["event_id"] for r in fsma(city, "auditor", "L-100")] == everything
    assert [r["event_id"] for r in fsma(city, "admin", "L-100")] == everything
    # Another district's lot is not an error: the search simply finds nothing there.
    assert [r["event_id"] for r in fsma(city, "reg-1", "L-100")] == [in_d1]
    assert [r["event_id"] for r in fsma(city, "reg-2", "L-100")] == [in_d2]
    assert [r["event_id"] for r in fsma(city, "rest-1", "L-100")] == [in_d1]
    assert [r["event_id"] for r in fsma(city, "rest-2", "L-100")] == [in_d2]
    rows = fsma(city, "auditor", "L-100", gtin="00012345600012")
    assert [r["event_id"] for r in rows] == [in_d2]
    first = fsma(city, "reg-1", "L-100")[0]
    assert first["product_description"] == "'@evil()"
    assert first["proof_link"] == f"http://testserver/v1/proofs/{in_d1}"
    bundle = city.client.get(first["proof_link"].removeprefix("http://testserver"))
    assert bundle.status_code == 200 and bundle.json()["event"]["id"] == in_d1
    assert fsma(city, "reg-2", "L-999") == []
    no_key = city.client.get(
        "/v1/exports/fsma204.csv",
        params={"lot_code": "L-100", "from": "2026-01-01", "to": "2026-01-02"},
    )
    assert no_key.status_code == 401 and no_key.json()["error"] == "Unauthenticated"
    too_long = city.client.get(
        "/v1/exports/fsma204.csv",
        params={"lot_code": "L-100", "from": "2024-01-01", "to": "2026-01-02"},
        headers=city.headers("auditor"),
    )
    assert too_long.status_code == 422 and "at most 366" in too_long.json()["detail"]


def test_open_data_inspections_are_public_and_paged(city: City) -> None:
    ids = [
        inspection(city, "p-1", date(2025, 5, 1), 95, "excellent"),
        inspection(city, "p-2", date(2025, 6, 1), 70, "fair"),
        inspection(city, "p-1", date(2025, 7, 1), 80, "good"),
    ]
    answer = city.client.get("/v1/public/open-data/inspections.csv")
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert list(rows[0]) == list(open_data.COLUMNS)
    assert [r["event_id"] for r in rows] == ids
    assert rows[1]["district"] == "d2" and rows[1]["licence_number"] == "JY1p20000"
    assert "Link" not in answer.headers

    page = city.client.get("/v1/public/open-data/inspections.csv?limit=2")
    assert [r["event_id"] for r in csv.DictReader(io.StringIO(page.text))] == ids[:2]
    assert page.headers["X-Next-Offset"] == "2"
    assert "offset=2" in page.headers["Link"] and page.headers["Link"].endswith('rel="next"')

    body = city.client.get("/v1/public/open-data/inspections.json?offset=1&limit=1").json()
    assert body["offset"] == 1 and body["limit"] == 1 and body["next_offset"] == 2
    assert [item["event_id"] for item in body["items"]] == [ids[1]]
    d1 = city.client.get("/v1/public/open-data/inspections.json?district=d1").json()
    assert [item["event_id"] for item in d1["items"]] == [ids[0], ids[2]]
    assert d1["next_offset"] is None
    bad = city.client.get("/v1/public/open-data/inspections.json?limit=5001")
    assert bad.status_code == 422 and bad.json()["error"] == "Invalid"
    swapped = city.client.get("/v1/public/open-data/inspections.csv?from=2025-02-01&to=2025-01-01")
    assert swapped.status_code == 422 and "is after to" in swapped.json()["detail"]
    json.dumps(body)  # plain JSON, no custom types


def test_exports_of_records_and_inspections_made_through_the_api(city: City) -> None:
    """End to end: a purchase inspection and an official inspection recorded by their own
    endpoints come out as valid EPCIS events and as FSMA rows."""
    in_a_year = (TODAY + timedelta(days=365)).isoformat()
    record = {
        "date": TODAY.isoformat(),
        "supplier": "Green Farm Co",
        "supplier_licence": "SC11111111111",
        "supplier_certificate_expiry": in_a_year,
        "product": "Pork belly",
        "gtin": "06912345678902",
        "lot_code": "L2026-001",
        "quantity": 12.5,
        "unit": "kg",
        "reference_document_type": "invoice",
        "reference_document_number": "=1+1",
        "receiver": "Wang Wu",
    }
    posted = city.client.post(
        "/v1/premises/p-1/records",
        json={"record_type": "purchase_inspection", "record": record},
        headers=city.headers("rest-1"),
    )
    assert posted.status_code in (200, 201), posted.text
    inspected = city.client.post(
        "/v1/regulator/premises/p-1/inspections",
        json={
            "inspected_on": TODAY.isoformat(),
            "score": 75,
            "items": [{"item": "cold chain", "passed": False, "key": True}],
        },
        headers=city.headers("reg-1"),
    )
    assert inspected.status_code in (200, 201), inspected.text

    url = epcis_url("p-1", TODAY - timedelta(days=1), TODAY + timedelta(days=1))
    doc = city.client.get(url, headers=city.headers("reg-1")).json()
    jsonschema.Draft7Validator(epcis.epcis_schema()).validate(doc)
    by_step = {e["bizStep"]: e for e in doc["epcisBody"]["eventList"]}
    assert set(by_step) == {"receiving", "inspecting"}
    assert by_step["receiving"]["quantityList"] == [
        {
            "epcClass": "https://id.gs1.org/01/06912345678902/10/L2026-001",
            "quantity": 12.5,
            "uom": "KGM",
        }
    ]
    assert by_step["inspecting"]["disposition"] == "non_conformant"
    assert by_step["inspecting"]["sunledger:keyItemsFailed"] == 1

    rows = fsma(city, "rest-1", "L2026-001")
    assert len(rows) == 1
    row = rows[0]
    assert row["event_id"] == by_step["receiving"]["sunledger:eventId"]
    assert (row["product_description"], row["immediate_previous_source"]) == (
        "Pork belly",
        "Green Farm Co",
    )
    assert row["reference_document_number"] == "'=1+1"
    assert "Wang Wu" not in city.client.get(url, headers=city.headers("reg-1")).text
