"""Restaurant uploads over HTTP: records, CSV files, attachments, and who may see what."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from seeded_city import City
from sqlalchemy import func, select

from traceability.storage.models import AlertRow, AttachmentRow, EventRow, LotRow, RecordRow

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

ZONE = ZoneInfo("Asia/Shanghai")  # the city fixture's premises use the default zone
STAFF_NAMES = ("Zhang Wei", "李娜", "Wang Fang")


def record_day() -> date:
    """The day the test records are about: yesterday at the premises, so that every time of
    day in them (00:05, 00:10...) has passed whatever the hour the test runs at."""
    return datetime.now(ZONE).date() - timedelta(days=1)


def local(hour: int, minute: int = 0, day: date | None = None) -> str:
    return (
        datetime.combine(day or record_day(), datetime.min.time(), ZONE)
        .replace(hour=hour, minute=minute)
        .isoformat()
    )


def png_bytes(seed: int = 0) -> bytes:
    image = np.full((16, 16, 3), seed % 256, dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def sample_records(certificate: str | None = None) -> dict[str, dict[str, Any]]:
    """One valid, rule-abiding record of every type, for today."""
    day = record_day().isoformat()
    in_a_year = (record_day() + timedelta(days=365)).isoformat()
    return {
        "morning_check": {
            "date": day,
            "checked_by": STAFF_NAMES[2],
            "staff": [
                {"name": STAFF_NAMES[0], "health_certificate_expiry": in_a_year},
                {"name": STAFF_NAMES[1], "excluded_reason": "fever"},
            ],
        },
        "purchase_inspection": {
            "date": day,
            "supplier": "Green Farm Co",
            "supplier_licence": "SC11111111111",
            "supplier_certificate_expiry": in_a_year,
            "product": "Pork belly",
            "gtin": "06912345678902",
            "lot_code": "L2026-001",
            "quantity": 12.5,
            "unit": "kg",
            "production_date": day,
            "shelf_life_days": 5,
            "certificate_sha256": certificate,
            "receiver": STAFF_NAMES[0],
        },
        "sample_retention": {
            "date": day,
            "dish": "Mapo tofu",
            "meal": "lunch",
            "weight_g": 150,
            "time_in": local(0, 5),
            "fridge": "sample-fridge-1",
            "person": STAFF_NAMES[1],
        },
        "disinfection": {
            "date": day,
            "items": ["bowls", "chopsticks"],
            "method": "steam",
            "temperature_c": 100,
            "duration_min": 15,
            "person": STAFF_NAMES[0],
        },
        "additive_use": {
            "date": day,
            "additive": "sodium nitrite",
            "batch": "B-77",
            "food": "cured pork",
            "amount_g": 0.5,
            "max_g": 1.5,
            "weighed": True,
            "used_at": local(0, 10),
            "person": STAFF_NAMES[2],
        },
        "waste_oil": {
            "date": day,
            "oil_type": "frying_oil",
            "quantity": 8,
            "unit": "kg",
            "collector": "City Oil Recycling",
            "collector_licence": "WO-2026-17",
            "collected_at": local(0, 15),
        },
        "self_inspection": {
            "date": day,
            "items": [
                {"item": "fridge temperatures", "ok": True},
                {"item": "pest traps", "ok": True},
            ],
            "no_risk_found": True,
            "person": STAFF_NAMES[1],
        },
    }


def counts(city: City) -> tuple[int, int, int, int]:
    with city.app.state.platform.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(table))
            for table in (EventRow, RecordRow, LotRow, AlertRow)
        )


def upload_png(city: City, seed: int = 0, who: str = "rest-1", premises: str = "p-1") -> str:
    answer = city.client.post(
        f"/v1/premises/{premises}/attachments",
        content=png_bytes(seed),
        headers={**city.headers(who), "Content-Type": "image/png"},
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["sha256"])


def post(city: City, record_type: str, record: dict[str, Any], who: str = "rest-1") -> Any:
    return city.client.post(
        "/v1/premises/p-1/records",
        json={"record_type": record_type, "record": record},
        headers=city.headers(who),
    )


def test_every_record_type_is_logged_with_commitments_and_shown_without_names(
    city: City,
) -> None:
    certificate = upload_png(city)
    for record_type, record in sample_records(certificate).items():
        answer = post(city, record_type, record)
        assert answer.status_code == 201, (record_type, answer.text)
        body = answer.json()
        assert body["record_type"] == record_type and body["alerts_opened"] == []
        assert body["proof"] == f"/v1/proofs/{body['event_id']}"
        entry = city.client.get(f"/v1/log/entries/{body['leaf_index']}").json()
        assert entry["event"]["id"] == body["event_id"]
        assert entry["event"]["kind"] == "restaurant_record"
        assert entry["event"]["subject"] == "premises:p-1"
        event_text = json.dumps(entry["event"], ensure_ascii=False)
        for name in STAFF_NAMES:
            assert name not in event_text, (record_type, name)
        assert "fever" not in event_text
        payload = entry["event"]["payload"]
        if "person" in record or "receiver" in record or "checked_by" in record:
            assert set(payload["recorded_by"]) == {"commitment"}
        if record_type == "morning_check":
            assert [set(s["name"]) for s in payload["staff"]] == [{"commitment"}] * 2
            assert set(payload["staff"][1]["excluded_reason"]) == {"commitment"}
        if record_type == "purchase_inspection":
            assert payload["attachments_sha256"] == [certificate]
            receipt = body["ingredient_receipt"]
            logged = city.client.get(f"/v1/log/entries/{receipt['leaf_index']}").json()["event"]
            assert logged["kind"] == "ingredient_receipt"
            assert logged["payload"]["lot_code"] == "L2026-001"
            assert logged["payload"]["previous_source"] == "Green Farm Co"
            assert logged["payload"]["receiving_location"] == "premises:p-1"
            assert logged["payload"]["reference_document_number"] == body["event_id"]
    listing = city.client.get("/v1/premises/p-1/records", headers=city.headers("rest-1"))
    assert listing.status_code == 200
    items = listing.json()["items"]
    assert sorted(i["record_type"] for i in items) == sorted(sample_records())
    text = listing.text
    for name in STAFF_NAMES:
        assert name not in text and json.dumps(name)[1:-1] not in text
    morning = next(i for i in items if i["record_type"] == "morning_check")["summary"]
    assert (morning["staff_checked"], morning["on_shift"], morning["excluded"]) == (2, 1, 1)
    assert "fever" not in text
    with city.app.state.platform.sessions() as session:
        lot = session.execute(select(LotRow)).scalar_one()
        assert (lot.lot_code, lot.quantity, lot.unit, lot.gtin) == (
            "L2026-001",
            12.5,
            "kg",
            "06912345678902",
        )
        summaries = " ".join(r.summary for r in session.execute(select(RecordRow)).scalars())
        for name in STAFF_NAMES:
            assert name not in summaries and json.dumps(name)[1:-1] not in summaries
    only = city.client.get(
        "/v1/premises/p-1/records?record_type=waste_oil&limit=1", headers=city.headers("auditor")
    ).json()
    assert [i["record_type"] for i in only["items"]] == ["waste_oil"]
    assert only["next_offset"] is None


@pytest.mark.parametrize(
    ("record_type", "change", "field"),
    [
        ("sample_retention", {"meal": "brunch"}, "meal"),
        ("sample_retention", {"weight_g": -5}, "weight_g"),
        ("disinfection", {"temperature_c": None}, "temperature_c"),
        ("purchase_inspection", {"lot_code": ""}, "lot_code"),
        ("morning_check", {"staff": [{"name": "A", "excluded_reason": "bored"}]}, "staff.0"),
        ("self_inspection", {"no_risk_found": False}, "no_risk_found"),
        ("additive_use", {"weighed": False}, "weighed"),
        ("waste_oil", {"date": (record_day() + timedelta(days=3)).isoformat()}, "date"),
    ],
)
def test_a_bad_record_is_refused_naming_the_field(
    city: City, record_type: str, change: dict[str, Any], field: str
) -> None:
    record = {**sample_records()[record_type], **change}
    before = counts(city)
    answer = post(city, record_type, record)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["detail"]
    assert any(f["field"].startswith(field) for f in answer.json()["fields"])
    assert counts(city) == before


def test_a_record_citing_an_attachment_it_never_uploaded_is_refused(city: City) -> None:
    theirs = upload_png(city, seed=9, who="rest-2", premises="p-2")
    for cited in (theirs, hashlib.sha256(b"nothing").hexdigest()):
        record = sample_records(cited)["purchase_inspection"]
        answer = post(city, "purchase_inspection", record)
        assert answer.status_code == 422
        assert "certificate_sha256" in answer.json()["detail"]
    # The same bytes uploaded by p-1 too make p-1 a holder: now it may cite them.
    assert upload_png(city, seed=9) == theirs
    answer = post(city, "purchase_inspection", sample_records(theirs)["purchase_inspection"])
    assert answer.status_code == 201, answer.text


def test_record_checks_open_alerts_of_their_class(city: City) -> None:
    records = sample_records()
    yesterday = (record_day() - timedelta(days=1)).isoformat()
    records["morning_check"]["staff"] = [
        {"name": "A", "health_certificate_expiry": yesterday},
        {"name": "B"},
        {"name": "C", "excluded_reason": "diarrhoea"},
    ]
    records["sample_retention"]["weight_g"] = 100
    old = record_day() - timedelta(days=10)
    records["purchase_inspection"].update(
        supplier_certificate_expiry=yesterday,
        production_date=old.isoformat(),
        shelf_life_days=3,
    )
    expected = {
        "morning_check": {"health_certificate_invalid"},
        "sample_retention": {"sample_underweight"},
        "purchase_inspection": {"supplier_certificate_expired", "lot_past_shelf_life"},
    }
    for record_type, rules in expected.items():
        answer = post(city, record_type, records[record_type])
        assert answer.status_code == 201, answer.text
        opened = answer.json()["alerts_opened"]
        assert len(opened) == len(rules)
        with city.app.state.platform.sessions() as session:
            rows = [session.get(AlertRow, a) for a in opened]
            assert {r.rule for r in rows if r} == rules
            assert {(r.alert_class, r.source, r.status) for r in rows if r} == {
                (2, "record", "open")
            }
            breach = session.execute(
                select(EventRow).where(
                    EventRow.event_id.in_([r.breach_event_id for r in rows if r])
                )
            ).scalars()
            assert all(e.kind == "violation" for e in breach)
    with city.app.state.platform.sessions() as session:
        detail = session.execute(
            select(AlertRow.detail).where(AlertRow.rule == "health_certificate_invalid")
        ).scalar_one()
    assert "2 handler(s)" in detail and "entries 1, 2" in detail


def test_cross_tenant_access_is_refused(city: City) -> None:
    record = sample_records()["waste_oil"]
    assert post(city, "waste_oil", record).status_code == 201
    for who in ("rest-2", "reg-1", "auditor", "admin"):
        assert post(city, "waste_oil", record, who=who).status_code == 403, who
    csv_body = "date,oil_type,quantity,unit,collector,collector_licence,collected_at\n"
    answer = city.client.post(
        "/v1/premises/p-1/records/csv?record_type=waste_oil",
        content=csv_body.encode(),
        headers=city.headers("rest-2"),
    )
    assert answer.status_code == 403
    upload = city.client.post(
        "/v1/premises/p-1/attachments", content=png_bytes(), headers=city.headers("rest-2")
    )
    assert upload.status_code == 403
    for who, status in (("rest-2", 403), ("reg-2", 403), ("reg-1", 200), ("auditor", 200)):
        answer = city.client.get("/v1/premises/p-1/records", headers=city.headers(who))
        assert answer.status_code == status, who
    assert city.client.get("/v1/premises/p-1/records").status_code == 401
    sha = upload_png(city, seed=3)
    for who, status in (("rest-2", 403), ("reg-2", 403), ("reg-1", 200), ("auditor", 200)):
        answer = city.client.get(f"/v1/attachments/{sha}", headers=city.headers(who))
        assert answer.status_code == status, who
    mine = city.client.get(f"/v1/attachments/{sha}", headers=city.headers("rest-1"))
    assert mine.content == png_bytes(3) and mine.headers["content-type"] == "image/png"


def test_attachments_are_content_addressed_and_only_real_images_or_pdfs(city: City) -> None:
    first = upload_png(city, seed=1)
    assert first == hashlib.sha256(png_bytes(1)).hexdigest()
    again = city.client.post(
        "/v1/premises/p-1/attachments", content=png_bytes(1), headers=city.headers("rest-1")
    )
    assert again.json()["sha256"] == first and again.json()["created"] is False
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    answer = city.client.post(
        "/v1/premises/p-1/attachments",
        content=pdf,
        headers={**city.headers("rest-1"), "Content-Type": "application/pdf"},
    )
    assert answer.status_code == 201 and answer.json()["media_type"] == "application/pdf"
    ok, jpeg = cv2.imencode(".jpg", np.zeros((8, 8, 3), dtype=np.uint8))
    assert ok
    bad_cases = [
        (b"this is not a picture at all", "image/png", "not a JPEG, PNG"),
        (png_bytes(1)[:40], "image/png", "does not decode"),
        (jpeg.tobytes(), "image/png", "says image/png but the content is image/jpeg"),
        (b"", "image/png", "empty"),
    ]
    with city.app.state.platform.sessions() as session:
        stored = session.scalar(select(func.count()).select_from(AttachmentRow))
    for content, content_type, reason in bad_cases:
        answer = city.client.post(
            "/v1/premises/p-1/attachments",
            content=content,
            headers={**city.headers("rest-1"), "Content-Type": content_type},
        )
        assert answer.status_code == 422, reason
        assert reason in answer.json()["detail"]
    too_big = b"\x89PNG\r\n\x1a\n" + bytes(10 * 1024 * 1024)
    answer = city.client.post(
        "/v1/premises/p-1/attachments", content=too_big, headers=city.headers("rest-1")
    )
    assert answer.status_code == 422 and "at most" in answer.json()["detail"]
    with city.app.state.platform.sessions() as session:
        assert session.scalar(select(func.count()).select_from(AttachmentRow)) == stored
    assert city.client.get("/v1/attachments/zz", headers=city.headers("auditor")).status_code == 422
    missing = hashlib.sha256(b"missing").hexdigest()
    assert (
        city.client.get(f"/v1/attachments/{missing}", headers=city.headers("auditor")).status_code
        == 404
    )


SAMPLE_HEADER = "date,dish,meal,weight_g,time_in,removed_at,fridge,person"


def sample_csv(*rows: str) -> bytes:
    return ("\ufeff" + SAMPLE_HEADER + "\r\n" + "\r\n".join(rows) + "\r\n").encode()


def post_csv(city: City, record_type: str, data: bytes, who: str = "rest-1") -> Any:
    return city.client.post(
        f"/v1/premises/p-1/records/csv?record_type={record_type}",
        content=data,
        headers={**city.headers(who), "Content-Type": "text/csv"},
    )


def test_a_good_csv_file_is_logged_whole(city: City) -> None:
    day = record_day().isoformat()
    data = sample_csv(
        f"{day},Mapo tofu,lunch,150,{day}T00:05,,fridge-1,{STAFF_NAMES[0]}",
        f"{day},Rice,lunch,125,{day}T00:06,,fridge-1,{STAFF_NAMES[1]}",
        f"{day},Soup,dinner,130,{day}T00:07:00+08:00,,fridge-1,Li",
    )
    before = counts(city)
    answer = post_csv(city, "sample_retention", data)
    assert answer.status_code == 201, answer.text
    assert answer.json()["accepted"] == 3 and answer.json()["alerts_opened"] == []
    after = counts(city)
    assert (after[0] - before[0], after[1] - before[1]) == (3, 3)
    entry = city.client.get(f"/v1/log/entries/{answer.json()['records'][0]['leaf_index']}").json()[
        "event"
    ]
    assert entry["payload"]["fields"]["time_in"].endswith("Z")
    assert (
        entry["occurred_at"] == f"{(record_day() - timedelta(days=1)).isoformat()}T16:05:00.000000Z"
    )
    assert STAFF_NAMES[0] not in json.dumps(entry, ensure_ascii=False)
    template = city.client.get("/v1/records/csv-templates/sample_retention")
    assert template.status_code == 200 and template.text.splitlines()[0] == SAMPLE_HEADER


def test_grouped_csv_rows_make_one_morning_check(city: City) -> None:
    day = record_day().isoformat()
    expiry = (record_day() + timedelta(days=30)).isoformat()
    header = city.client.get("/v1/records/csv-templates/morning_check").text.splitlines()[0]
    data = "\n".join(
        [
            header,
            f"{day},,Boss,{STAFF_NAMES[0]},{expiry},",
            f"{day},,Boss,{STAFF_NAMES[1]},,throat_infection",
            f"{day},,Boss,{STAFF_NAMES[2]},,",
        ]
    ).encode()
    answer = post_csv(city, "morning_check", data)
    assert answer.status_code == 201, answer.text
    assert answer.json()["accepted"] == 1 and len(answer.json()["alerts_opened"]) == 1
    summary = city.client.get("/v1/premises/p-1/records", headers=city.headers("rest-1")).json()[
        "items"
    ][0]["summary"]
    assert (summary["on_shift"], summary["excluded"], summary["without_valid_certificate"]) == (
        2,
        1,
        1,
    )
    bad = data.replace(b"throat_infection", b"sneezing")
    answer = post_csv(city, "morning_check", bad)
    assert answer.status_code == 422
    assert {(r["row"], r["column"]) for r in answer.json()["rows"]} == {(3, "excluded_reason")}


def test_a_csv_file_with_one_bad_row_is_rejected_whole(city: City) -> None:
    day = record_day().isoformat()
    data = sample_csv(
        f"{day},Mapo tofu,lunch,150,{day}T00:05,,fridge-1,Li",
        f"{day},Rice,elevenses,150,{day}T00:06,,fridge-1,Li",
        f"{day},Soup,dinner,heavy,{day}T00:07,,fridge-1,Li",
    )
    before = counts(city)
    answer = post_csv(city, "sample_retention", data)
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "CsvRejected" and "nothing was stored" in body["detail"]
    assert [(r["row"], r["column"]) for r in body["rows"]] == [(3, "meal"), (4, "weight_g")]
    assert counts(city) == before


def test_a_csv_file_that_is_not_utf8_is_rejected(city: City) -> None:
    day = record_day().isoformat()
    gbk = (SAMPLE_HEADER + f"\n{day},麻婆豆腐,lunch,150,{day}T00:05,,fridge-1,李娜\n").encode("gbk")
    before = counts(city)
    answer = post_csv(city, "sample_retention", gbk)
    assert answer.status_code == 422 and "not UTF-8" in answer.json()["detail"]
    answer = post_csv(city, "sample_retention", SAMPLE_HEADER.encode("utf-16"))
    assert answer.status_code == 422 and "NUL" in answer.json()["detail"]
    assert counts(city) == before


def test_formula_injection_is_rejected_but_negative_numbers_are_fine(city: City) -> None:
    day = record_day().isoformat()
    data = sample_csv(
        f"{day},=cmd|' /C calc'!A0,lunch,150,{day}T00:05,,fridge-1,Li",
        f"{day},Rice,lunch,150,{day}T00:06,,\t@SUM(A1),Li",
    )
    before = counts(city)
    answer = post_csv(city, "sample_retention", data)
    assert answer.status_code == 422
    assert [(r["row"], r["column"]) for r in answer.json()["rows"]] == [(2, "dish"), (3, "fridge")]
    assert counts(city) == before
    header = city.client.get("/v1/records/csv-templates/disinfection").text.splitlines()[0]
    cold = f"{header}\n{day},freezer shelves,chemical,-18,250,5,,\n".encode()
    answer = post_csv(city, "disinfection", cold)
    assert answer.status_code == 201, answer.text


def test_csv_header_and_type_must_be_the_documented_ones(city: City) -> None:
    answer = post_csv(city, "sample_retention", b"date,dish,colour\n2026-01-01,x,red\n")
    assert answer.status_code == 422
    columns = {r["column"] for r in answer.json()["rows"]}
    assert {"colour", "meal", "weight_g"} <= columns
    answer = post_csv(city, "lunch_menu", sample_csv())
    assert answer.status_code == 422 and "record_type" in answer.json()["detail"]
    assert city.client.get("/v1/records/csv-templates/lunch_menu").status_code == 422
