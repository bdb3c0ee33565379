"""Exports: EPCIS 2.0 documents valid against the schema (and tampered ones not), FSMA 204
lot spreadsheets sorted and formula-safe, the open inspection dataset."""

from __future__ import annotations

import base64
import copy
import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from seeded_city import City
from sqlalchemy.orm import Session

from traceability.devices.intake import parse_submission
from traceability.devices.registry import DeviceRegistry
from traceability.errors import Invalid
from traceability.exports import epcis, fsma204, open_data
from traceability.exports.period import Period, period
from traceability.exports.spreadsheet import neutralised
from traceability.storage.db import transaction
from traceability.storage.models import EventRow, GradeRow, InspectionRow, LotRow, PremisesRow
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.events import (
    IngredientReceipt,
    Inspection,
    InspectionItem,
    parse_event_input,
    prepare_event,
)
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

NOW = datetime.now(UTC).replace(microsecond=0)
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = NOW.astimezone(SHANGHAI).date()
PROOFS = "https://ledger.test/v1/proofs/"


def validator() -> jsonschema.Draft7Validator:
    return jsonschema.Draft7Validator(epcis.epcis_schema())


def schema_errors(doc: dict[str, Any]) -> list[str]:
    return [error.message for error in validator().iter_errors(doc)]


def receive(
    session: Session,
    city: City,
    *,
    premises_id: str,
    lot_code: str,
    received_on: date,
    gtin: str | None = None,
    product: str = "pork belly",
    quantity: float = 12.5,
    unit: str = "kg",
    supplier: str = "Green Farm Co",
    doc: tuple[str, str] = ("invoice", "INV-001"),
    at: datetime | None = None,
) -> str:
    """Log an ingredient receipt and index its lot, as the purchase-inspection service does."""
    payload = IngredientReceipt(
        lot_code=lot_code,
        gtin=gtin,
        product=product,
        quantity=quantity,
        unit=unit,
        previous_source=supplier,
        receiving_location=f"kitchen of {premises_id}",
        received_on=received_on,
        reference_document_type=doc[0],
        reference_document_number=doc[1],
    ).model_dump(mode="json")
    occurred = at or datetime(
        received_on.year, received_on.month, received_on.day, 9, tzinfo=SHANGHAI
    )
    event = parse_event_input(
        {
            "kind": "ingredient_receipt",
            "subject": f"premises:{premises_id}",
            "occurred_at": occurred.isoformat(),
            "payload": payload,
        }
    )
    prepared = prepare_event(event, NOW)
    Ingest(city.app.state.platform.log).append(session, [prepared])
    session.add(
        LotRow(
            premises_id=premises_id,
            gtin=gtin,
            lot_code=lot_code,
            product=product,
            supplier=supplier,
            quantity=quantity,
            unit=unit,
            received_on=received_on,
            event_id=prepared.event_id,
        )
    )
    session.flush()
    return prepared.event_id


def inspect(
    session: Session,
    city: City,
    *,
    premises_id: str,
    on: date,
    score: float,
    result: str,
    regulator: str = "reg-1",
    failed: tuple[int, int] | None = None,
) -> str:
    payload = Inspection(
        inspector_org=regulator,
        items=[InspectionItem(item="cold storage", passed=result != "fail")],
        score=score,
        result=result,  # type: ignore[arg-type]
    ).model_dump(mode="json")
    occurred = datetime(on.year, on.month, on.day, 14, tzinfo=SHANGHAI)
    event = parse_event_input(
        {
            "kind": "inspection",
            "subject": f"premises:{premises_id}",
            "occurred_at": occurred.isoformat(),
            "payload": payload,
        }
    )
    prepared = prepare_event(event, NOW)
    Ingest(city.app.state.platform.log).append(session, [prepared])
    session.add(
        InspectionRow(
            event_id=prepared.event_id,
            premises_id=premises_id,
            regulator_org=regulator,
            inspected_on=on,
            score=score,
            result=result,
            summary=json.dumps(
                {"items": []}
                if failed is None
                else {"counts": {"failed": failed[0], "key_items_failed": failed[1]}}
            ),
            recorded_at=NOW,
        )
    )
    session.flush()
    return prepared.event_id


def probe_readings(city: City, premises_id: str, device_id: str, celsius: list[float]) -> None:
    """Signed readings through the real probe intake, one minute apart, ending now."""
    key = Ed25519PrivateKey.generate()
    platform = city.app.state.platform
    with transaction(platform.sessions) as session:
        DeviceRegistry().register_device(
            session,
            device_id=device_id,
            premises_id=premises_id,
            location="walk-in fridge",
            kind="fridge",
            profile="cn",
            public_key=key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            now=NOW - timedelta(days=1),
        )
    readings = []
    for seq, value in enumerate(celsius, start=1):
        unsigned = {
            "device_id": device_id,
            "seq": seq,
            "measured_at": (NOW - timedelta(minutes=len(celsius) - seq)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "values": [{"type": "Temperature", "value": value, "uom": "CEL"}],
        }
        sig = base64.b64encode(key.sign(canonical_bytes(unsigned))).decode()
        readings.append({**unsigned, "sig": sig})
    with transaction(platform.sessions) as session:
        platform.probe_intake.accept(session, parse_submission({"readings": readings}), NOW)


@pytest.fixture
def kitchen(city: City) -> City:
    """p-1 (d1): two receipts, three readings, a failed inspection; p-2 (d2): one receipt."""
    with transaction(city.app.state.platform.sessions) as session:
        receive(
            session,
            city,
            premises_id="p-1",
            lot_code="LOT-A/1",
            gtin="6901234567892",
            received_on=TODAY,
            at=NOW - timedelta(hours=2),
        )
        receive(
            session,
            city,
            premises_id="p-1",
            lot_code="豆腐-7",
            product="tofu",
            unit="斤",
            quantity=20,
            supplier="城东豆制品厂",
            doc=("delivery note", "DN 42"),
            received_on=TODAY,
            at=NOW - timedelta(hours=1),
        )
        receive(session, city, premises_id="p-2", lot_code="LOT-B", received_on=TODAY, at=NOW)
        inspect(
            session,
            city,
            premises_id="p-1",
            on=TODAY,
            score=55,
            result="fail",
        )
    probe_readings(city, "p-1", "fr-1", [3.5, 4.0, 4.5])
    return city


def export(city: City, premises_id: str, days: Period, **kwargs: Any) -> dict[str, Any]:
    with city.app.state.platform.sessions() as session:
        premises = session.get(PremisesRow, premises_id)
        assert premises is not None
        return epcis.export_premises(session, premises, days, proof_base=PROOFS, now=NOW, **kwargs)


def test_epcis_document_is_valid_and_holds_every_kind(kitchen: City) -> None:
    doc = export(kitchen, "p-1", period(TODAY - timedelta(days=1), TODAY, max_days=31))
    assert schema_errors(doc) == []
    assert doc["@context"][0] == epcis.EPCIS_CONTEXT
    assert doc["@context"][1] == {"sunledger": epcis.NAMESPACE}
    events = doc["epcisBody"]["eventList"]
    steps = [e["bizStep"] for e in events]
    assert sorted(steps) == ["inspecting", "receiving", "receiving"] + ["sensor_reporting"] * 3
    times = [e["eventTime"] for e in events]
    assert times == sorted(times)
    assert all(e["eventTimeZoneOffset"] == "+08:00" for e in events)
    assert all(e["readPoint"] == {"id": "urn:sunledger:premises:p-1"} for e in events)

    receipts = [e for e in events if e["bizStep"] == "receiving"]
    pork, tofu = receipts
    assert pork["quantityList"] == [
        {
            "epcClass": "https://id.gs1.org/01/06901234567892/10/LOT-A%2F1",
            "quantity": 12.5,
            "uom": "KGM",
        }
    ]
    assert pork["bizTransactionList"] == [
        {"type": "inv", "bizTransaction": "urn:sunledger:doc:invoice:INV-001"}
    ]
    assert pork["sourceList"][0]["source"] == "urn:sunledger:supplier:Green%20Farm%20Co"
    assert pork["destinationList"][0]["destination"] == "urn:sunledger:premises:p-1"
    # No GTIN: our own lot class; a unit with no Rec 20 code stays out of uom.
    assert tofu["quantityList"][0]["epcClass"].startswith("urn:sunledger:lot:%E5%9F%8E")
    assert "uom" not in tofu["quantityList"][0] and tofu["sunledger:unit"] == "斤"
    assert tofu["bizTransactionList"][0]["type"] == "desadv"

    readings = [e for e in events if e["bizStep"] == "sensor_reporting"]
    reports = [r for e in readings for s in e["sensorElementList"] for r in s["sensorReport"]]
    assert reports == [
        {"type": "gs1:Temperature", "value": v, "uom": "CEL"} for v in (3.5, 4.0, 4.5)
    ]
    meta = readings[0]["sensorElementList"][0]["sensorMetadata"]
    assert meta["deviceID"] == "urn:sunledger:device:fr-1"

    (inspection,) = [e for e in events if e["bizStep"] == "inspecting"]
    assert inspection["disposition"] == "non_conformant"
    assert inspection["epcList"] == ["urn:sunledger:premises:p-1"]
    assert inspection["sunledger:score"] == 55

    # Each event points at its logged event: same id, leaf index and proof link.
    with kitchen.app.state.platform.sessions() as session:
        for event in events:
            event_id = event["sunledger:eventId"]
            row = session.query(EventRow).filter_by(event_id=event_id).one()
            assert event["sunledger:leafIndex"] == row.leaf_index
            assert event["sunledger:proof"] == PROOFS + event_id
            assert event["eventID"] == f"urn:uuid:{event_id}"


def test_epcis_document_covers_only_its_premises_and_days(kitchen: City) -> None:
    other = export(kitchen, "p-2", period(TODAY, TODAY, max_days=31))
    assert schema_errors(other) == []
    assert [e["sunledger:lotCode"] for e in other["epcisBody"]["eventList"]] == ["LOT-B"]
    earlier = export(
        kitchen, "p-1", period(TODAY - timedelta(days=9), TODAY - timedelta(days=2), max_days=31)
    )
    assert earlier["epcisBody"]["eventList"] == []
    assert schema_errors(earlier) == []


def test_epcis_inspection_disposition_follows_key_items(city: City) -> None:
    with transaction(city.app.state.platform.sessions) as session:
        for failed, result in (((2, 0), "good"), ((3, 1), "fair")):
            inspect(
                session, city, premises_id="p-2", on=TODAY, score=80, result=result, failed=failed
            )
    doc = export(city, "p-2", period(TODAY, TODAY, max_days=1))
    assert schema_errors(doc) == []
    found = [
        (e["disposition"], e["sunledger:itemsFailed"], e["sunledger:keyItemsFailed"])
        for e in doc["epcisBody"]["eventList"]
    ]
    assert found == [("conformant", 2, 0), ("non_conformant", 3, 1)]


def test_epcis_refuses_more_events_than_the_limit(kitchen: City) -> None:
    # Two local days: the seeded events sit within a few hours before now.
    days = period(TODAY - timedelta(days=1), TODAY, max_days=31)
    with pytest.raises(Invalid, match="holds 6 events .* at most 5"):
        export(kitchen, "p-1", days, max_events=5)
    assert len(export(kitchen, "p-1", days, max_events=6)["epcisBody"]["eventList"]) == 6


def test_periods_are_bounded_and_ordered() -> None:
    with pytest.raises(Invalid, match="covers 32 days; at most 31"):
        period(date(2026, 1, 1), date(2026, 2, 1), max_days=31)
    with pytest.raises(Invalid, match="is after to"):
        period(date(2026, 1, 2), date(2026, 1, 1), max_days=31)
    with pytest.raises(Invalid, match="to \\(9999-12-31\\) must be between"):
        period(date(2026, 1, 1), date(9999, 12, 31), max_days=31)
    with pytest.raises(Invalid, match="from \\(0001-01-01\\) must be between"):
        period(date(1, 1, 1), date(1, 1, 2), max_days=31)
    start, end = period(date(2026, 1, 1), date(2026, 1, 1), max_days=1).instants("Asia/Shanghai")
    assert start == datetime(2025, 12, 31, 16, tzinfo=UTC) and end - start == timedelta(days=1)


def _sample_document() -> dict[str, Any]:
    """A document built from rows in memory: one receipt, one reading, one inspection."""
    premises = PremisesRow(premises_id="p-9", timezone="Europe/London")
    at = datetime(2026, 7, 1, 10, tzinfo=UTC)

    def event(kind: str, payload: dict[str, Any], event_id: str) -> EventRow:
        body = {"id": event_id, "kind": kind, "payload": payload}
        return EventRow(
            leaf_index=len(event_id),
            event_id=event_id,
            kind=kind,
            subject="premises:p-9",
            occurred_at=at,
            recorded_at=at,
            body=json.dumps(body).encode(),
        )

    lot = LotRow(
        premises_id="p-9",
        gtin=None,
        lot_code="L1",
        product="milk",
        supplier="Dairy",
        quantity=3.0,
        unit="L",
        received_on=at.date(),
        event_id="e-1",
    )
    reading = {
        "device_id": "fr-9",
        "seq": 1,
        "values": [{"type": "Temperature", "value": 4.0, "uom": "CEL"}],
    }
    inspection = InspectionRow(
        event_id="e-3",
        premises_id="p-9",
        regulator_org="reg-9",
        inspected_on=at.date(),
        score=91.0,
        result="excellent",
    )
    events = [
        epcis.receipt_event(lot, event("ingredient_receipt", {}, "e-1"), premises, PROOFS),
        epcis.reading_event(event("probe_reading", reading, "e-22"), premises, PROOFS),
        epcis.inspection_event(inspection, event("inspection", {}, "e-333"), premises, PROOFS),
    ]
    return epcis.document(events, now=at)


def _without(path: list[Any]) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return change


def _set(path: list[Any], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(doc: dict[str, Any]) -> None:
        target: Any = doc
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return change


EVENTS = ["epcisBody", "eventList"]
TAMPERINGS: dict[str, Callable[[dict[str, Any]], None]] = {
    "no eventTimeZoneOffset": _without([*EVENTS, 0, "eventTimeZoneOffset"]),
    "offset out of range": _set([*EVENTS, 0, "eventTimeZoneOffset"], "+15:00"),
    "no eventTime": _without([*EVENTS, 1, "eventTime"]),
    "eventTime not RFC 3339": _set([*EVENTS, 1, "eventTime"], "yesterday at noon"),
    "invalid action": _set([*EVENTS, 0, "action"], "LOOK"),
    "no action": _without([*EVENTS, 2, "action"]),
    "unknown bizStep word": _set([*EVENTS, 0, "bizStep"], "frobnicating"),
    "uom not Rec 20": _set([*EVENTS, 0, "quantityList", 0, "uom"], "litres"),
    "quantity element without class": _without([*EVENTS, 0, "quantityList", 0, "epcClass"]),
    "nothing observed": _set([*EVENTS, 2, "epcList"], []),
    "sensor data without read point": _without([*EVENTS, 1, "readPoint"]),
    "sensor report without type": _without(
        [*EVENTS, 1, "sensorElementList", 0, "sensorReport", 0, "type"]
    ),
    "empty sensor report": _set([*EVENTS, 1, "sensorElementList", 0, "sensorReport"], []),
    "bare extension field": _set([*EVENTS, 0, "eventId"], "e-1"),
    "ilmd on an OBSERVE": _set([*EVENTS, 0, "ilmd"], {"sunledger:x": 1}),
    "unknown event type": _set([*EVENTS, 0, "type"], "LookEvent"),
    "source without type": _without([*EVENTS, 0, "sourceList", 0, "type"]),
    "wrong schemaVersion": _set(["schemaVersion"], "1.2"),
    "no @context": _without(["@context"]),
    "context without EPCIS": _set(["@context"], ["https://example.org/ctx.jsonld"]),
    "not an EPCISDocument": _set(["type"], "EPCISQueryDocument"),
    "no creationDate": _without(["creationDate"]),
    "no eventList": _without(["epcisBody", "eventList"]),
}


def test_the_sample_document_is_valid() -> None:
    doc = _sample_document()
    assert schema_errors(doc) == []
    receipt = doc["epcisBody"]["eventList"][0]
    assert receipt["eventTimeZoneOffset"] == "+01:00"  # London in July
    assert receipt["quantityList"][0] == {
        "epcClass": "urn:sunledger:lot:Dairy:L1",
        "quantity": 3.0,
        "uom": "LTR",
    }


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampered_documents_fail_the_schema(name: str) -> None:
    doc = copy.deepcopy(_sample_document())
    TAMPERINGS[name](doc)
    assert schema_errors(doc), f"{name}: the schema accepted a broken document"


def test_cells_that_would_run_as_formulas_are_neutralised() -> None:
    for text in ("=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert neutralised(text) == "'" + text
    for text in ("plain", "12.5", "", "a=b", "'quoted"):
        assert neutralised(text) == text
    assert neutralised(None) == "" and neutralised(3) == "3"


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_fsma_spreadsheet_sorted_scoped_and_formula_safe(city: City) -> None:
    days = [TODAY - timedelta(days=d) for d in (5, 3, 1)]
    with transaction(city.app.state.platform.sessions) as session:
        late = receive(session, city, premises_id="p-1", lot_code="L-7", received_on=days[2])
        early = receive(
            session,
            city,
            premises_id="p-2",
            lot_code="L-7",
            received_on=days[0],
            product='=HYPERLINK("http://evil","x")',
            supplier="+cmd|calc",
            doc=("@invoice", "-42"),
            gtin="12345670",
        )
        middle = receive(session, city, premises_id="p-1", lot_code="L-7", received_on=days[1])
        receive(session, city, premises_id="p-1", lot_code="L-8", received_on=days[1])
        receive(
            session, city, premises_id="p-1", lot_code="L-7", received_on=TODAY - timedelta(days=40)
        )

    def sheet(premises: list[str] | None, gtin: str | None = None) -> list[dict[str, str]]:
        with city.app.state.platform.sessions() as session:
            text = fsma204.lot_spreadsheet(
                session,
                lot_code="L-7",
                gtin=gtin,
                days=period(TODAY - timedelta(days=30), TODAY, max_days=366),
                premises_ids=premises,
                proof_base=PROOFS,
            )
        assert text.splitlines()[0] == ",".join(fsma204.COLUMNS)
        return read_csv(text)

    rows = sheet(None)
    assert [r["event_id"] for r in rows] == [early, middle, late]
    assert [r["date_received"] for r in rows] == [d.isoformat() for d in days]
    first = rows[0]
    assert first["product_description"] == '\'=HYPERLINK("http://evil","x")'
    assert first["immediate_previous_source"] == "'+cmd|calc"
    assert first["reference_document_type"] == "'@invoice"
    assert first["reference_document_number"] == "'-42"
    assert first["gtin"] == "12345670" and first["receiving_premises_id"] == "p-2"
    assert rows[1]["quantity"] == "12.5" and rows[1]["unit_of_measure"] == "kg"
    assert rows[1]["receiving_location"] == "kitchen of p-1"
    with city.app.state.platform.sessions() as session:
        for row in rows:
            logged = session.query(EventRow).filter_by(event_id=row["event_id"]).one()
            assert row["leaf_index"] == str(logged.leaf_index)
            assert row["proof_link"] == PROOFS + row["event_id"]
            assert json.loads(logged.body)["payload"]["lot_code"] == "L-7"
    assert [r["event_id"] for r in sheet(["p-1"])] == [middle, late]
    assert sheet([]) == []
    assert [r["event_id"] for r in sheet(None, gtin="12345670")] == [early]


def test_fsma_spreadsheet_refuses_too_many_rows_and_bad_input(city: City) -> None:
    with transaction(city.app.state.platform.sessions) as session:
        for _ in range(3):
            receive(session, city, premises_id="p-1", lot_code="L-9", received_on=TODAY)
    with city.app.state.platform.sessions() as session:
        common: dict[str, Any] = {
            "days": period(TODAY, TODAY, max_days=1),
            "premises_ids": None,
            "proof_base": PROOFS,
        }
        with pytest.raises(Invalid, match="more than 2 events"):
            fsma204.lot_spreadsheet(session, lot_code="L-9", gtin=None, max_rows=2, **common)
        assert (
            len(
                read_csv(
                    fsma204.lot_spreadsheet(
                        session, lot_code="L-9", gtin=None, max_rows=3, **common
                    )
                )
            )
            == 3
        )
        with pytest.raises(Invalid, match="gtin"):
            fsma204.lot_spreadsheet(session, lot_code="L-9", gtin="12ab", **common)
        with pytest.raises(Invalid, match="lot_code"):
            fsma204.lot_spreadsheet(session, lot_code=" ", gtin=None, **common)


def test_open_data_rows_with_current_grade(city: City) -> None:
    with transaction(city.app.state.platform.sessions) as session:
        old = inspect(
            session, city, premises_id="p-1", on=date(2025, 3, 1), score=92, result="excellent"
        )
        new = inspect(
            session,
            city,
            premises_id="p-1",
            on=date(2026, 3, 1),
            score=71,
            result="fair",
            failed=(3, 1),
        )
        other = inspect(
            session,
            city,
            premises_id="p-2",
            on=date(2025, 6, 1),
            score=60,
            result="fair",
            regulator="reg-2",
        )
        for year, grade in ((2024, "C"), (2025, "A")):
            session.add(
                GradeRow(
                    premises_id="p-1",
                    year=year,
                    grade=grade,
                    reason="annual grading",
                    decided_at=NOW,
                    decided_by="reg-1",
                    event_id=f"grade-{year}",
                )
            )
    with city.app.state.platform.sessions() as session:
        records = open_data.inspection_records(session, offset=0, limit=10, proof_base=PROOFS)
        assert [r["event_id"] for r in records] == [old, other, new]
        first = records[0]
        assert first == {
            "premises_id": "p-1",
            "premises_name": "Restaurant p-1",
            "licence_number": "JY1p10000",
            "address": "1 p-1 Road",
            "district": "d1",
            "inspection_date": "2025-03-01",
            "inspecting_authority": "reg-1",
            "score": 92.0,
            "result": "excellent",
            "items_failed": None,
            "key_items_failed": None,
            "current_grade": "A",
            "grade_year": 2025,
            "event_id": old,
            "leaf_index": first["leaf_index"],
            "proof_link": PROOFS + old,
            "city": None,
            "postal_code": None,
            "latitude": None,
            "longitude": None,
            "phone": None,
            "business_type": None,
            "scheme": "cn",
            "inspection_type": None,
            "rating": None,
            "authority_rating": None,
            "violation_count": 0,
            "violation_codes": None,
        }
        assert isinstance(first["leaf_index"], int)
        assert records[1]["current_grade"] is None and records[1]["grade_year"] is None
        page = open_data.inspection_records(session, offset=1, limit=1, proof_base=PROOFS)
        assert [r["event_id"] for r in page] == [other]
        d2 = open_data.inspection_records(
            session, offset=0, limit=10, proof_base=PROOFS, district="d2"
        )
        assert [r["event_id"] for r in d2] == [other]
        in_2026 = open_data.inspection_records(
            session,
            offset=0,
            limit=10,
            proof_base=PROOFS,
            first=date(2026, 1, 1),
            last=date(2026, 12, 31),
        )
        assert [r["event_id"] for r in in_2026] == [new]
        assert (in_2026[0]["items_failed"], in_2026[0]["key_items_failed"]) == (3, 1)
        rows = read_csv(open_data.records_csv(records))
        assert list(rows[0]) == list(open_data.COLUMNS)
        assert rows[0]["current_grade"] == "A" and rows[1]["current_grade"] == ""
