"""The public sunshine record, QR codes and lot provenance: no key, no personal data."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from seeded_city import City
from sqlalchemy import select

from traceability.devices.registry import DeviceRegistry
from traceability.entrypoints.worker import request_anchor_tick
from traceability.records.gs1 import check_digit, normalise_gtin
from traceability.storage.db import transaction
from traceability.storage.models import (
    AlertRow,
    AlertTransitionRow,
    LotRow,
    PersonalValue,
    RecordRow,
)
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.events import (
    EventInput,
    EventKind,
    parse_event_input,
    prepare_event,
    prepared,
    rfc3339,
)
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

NOW = datetime.now(UTC).replace(microsecond=0)
GTIN = "4006381333931"  # a valid EAN-13; as GTIN-14: 04006381333931
LOT = "LOT 42A"
STAFF_NAME = "Zhang Wei"
RECORDER = "Li Na"
PHONE = "13800138000"


@dataclass
class Probe:
    device_id: str
    key: Ed25519PrivateKey
    seq: int = 0

    def reading(self, celsius: float, minutes_ago: float) -> dict[str, Any]:
        self.seq += 1
        unsigned = {
            "device_id": self.device_id,
            "seq": self.seq,
            "measured_at": (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
        }
        sig = base64.b64encode(self.key.sign(canonical_bytes(unsigned))).decode()
        return {**unsigned, "sig": sig}


@dataclass
class Seeded:
    record_event: str
    lot_event: str
    transition_event: str
    alert_id: str


def register(city: City, device_id: str, kind: str) -> Probe:
    key = Ed25519PrivateKey.generate()
    with transaction(city.app.state.platform.sessions) as session:
        DeviceRegistry().register_device(
            session,
            device_id=device_id,
            premises_id="p-1",
            location=f"kitchen {kind}",
            kind=kind,
            profile="cn",
            public_key=key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            now=NOW - timedelta(days=1),
        )
    return Probe(device_id, key)


def post_readings(city: City, readings: list[dict[str, Any]]) -> Any:
    response = city.client.post("/v1/probes/readings", json={"readings": readings})
    assert response.status_code == 200, response.text
    return response.json()


def seed_without_anchoring(city: City) -> Seeded:
    """A morning check naming a handler, a lot and an alert transition, logged directly
    (no request, so no anchoring is asked for)."""
    platform = city.app.state.platform
    ingest = Ingest(platform.log)
    with transaction(platform.sessions) as session:
        record = prepare_event(
            parse_event_input(
                {
                    "kind": "restaurant_record",
                    "subject": "premises:p-1",
                    "occurred_at": rfc3339(NOW - timedelta(hours=3)),
                    "payload": {
                        "record_type": "morning_check",
                        "fields": {"staff_count": 1},
                        "staff": [{"name": STAFF_NAME, "health_certificate_expiry": "2027-06-30"}],
                        "recorded_by": RECORDER,
                    },
                }
            ),
            NOW,
        )
        receipt = prepare_event(
            EventInput(
                kind=EventKind.INGREDIENT_RECEIPT,
                subject="premises:p-1",
                occurred_at=NOW - timedelta(hours=2),
                payload={
                    "lot_code": LOT,
                    "gtin": GTIN,
                    "product": "Pork shoulder",
                    "quantity": 12.5,
                    "unit": "KGM",
                    "previous_source": "Green Farm Co.",
                    "receiving_location": "p-1",
                    "received_on": NOW.date().isoformat(),
                    "reference_document_type": "invoice",
                    "reference_document_number": "INV-1",
                },
            ),
            NOW,
        )
        alert = session.execute(
            select(AlertRow).where(AlertRow.premises_id == "p-1", AlertRow.source == "probe")
        ).scalar_one()
        actor = f"rest-1/{city.key_ids['rest-1']}"
        note = f"{STAFF_NAME} ({PHONE}) moved the food to another fridge"
        acked = datetime.now(UTC)  # after the alert opened
        transition = prepared(
            event_id=str(uuid.uuid4()),
            kind=EventKind.ALERT_TRANSITION,
            subject=f"alert:{alert.alert_id}",
            occurred_at=acked,
            occurred_text=rfc3339(acked),
            recorded_at=acked,
            recorded_text=rfc3339(acked),
            payload={
                "alert_id": alert.alert_id,
                "from_status": "open",
                "to_status": "acknowledged",
                "actor": actor,
                "note": note,
            },
        )
        ingest.append(session, [record, receipt, transition])
        alert.status = "acknowledged"
        session.add_all(
            [
                RecordRow(
                    event_id=record.event_id,
                    premises_id="p-1",
                    record_type="morning_check",
                    record_date=NOW.date(),
                    occurred_at=NOW - timedelta(hours=3),
                    recorded_at=NOW,
                    # As if a summary leaked a name: the public record must still drop it.
                    summary=json.dumps(
                        {"staff_on_shift": 1, "excluded": 0, "recorded_by": RECORDER}
                    ),
                    uploaded_by=actor,
                ),
                LotRow(
                    premises_id="p-1",
                    gtin=GTIN,
                    lot_code=LOT,
                    product="Pork shoulder",
                    supplier="Green Farm Co.",
                    supplier_licence="SC1234",
                    quantity=12.5,
                    unit="KGM",
                    production_date=NOW.date() - timedelta(days=1),
                    shelf_life_days=5,
                    received_on=NOW.date(),
                    event_id=receipt.event_id,
                ),
                AlertTransitionRow(
                    alert_id=alert.alert_id,
                    from_status="open",
                    to_status="acknowledged",
                    actor=actor,
                    note=note,
                    evidence="[]",
                    at=acked,
                    event_id=transition.event_id,
                ),
            ]
        )
    return Seeded(record.event_id, receipt.event_id, transition.event_id, alert.alert_id)


@pytest.fixture
def kitchen(city: City) -> Iterator[City]:
    fridge = register(city, "fr-1", "fridge")
    freezer = register(city, "fz-1", "freezer")
    quiet = register(city, "fr-2", "fridge")
    # fr-1: an hour at 4 °C, then 50 min at 11 °C (a cold-chain breach after 30 min).
    readings = [fridge.reading(4.0, m) for m in range(120, 59, -10)]
    readings += [fridge.reading(11.0, m) for m in range(50, 9, -10)]
    readings += [freezer.reading(-18.0, 2), quiet.reading(4.0, 120)]
    result = post_readings(city, readings)
    assert result["accepted"] == 14 and len(result["alerts_opened"]) == 1
    yield city


def record_of(city: City, premises_id: str = "p-1") -> dict[str, Any]:
    response = city.client.get(f"/v1/public/restaurants/{premises_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_unknown_premises_is_404_and_no_key_is_needed(city: City) -> None:
    response = city.client.get("/v1/public/restaurants/p-404")
    assert response.status_code == 404 and response.json()["error"] == "NotFound"
    body = record_of(city, "p-2")
    assert body["premises"]["name"] == "Restaurant p-2" and body["premises"]["district"] == "d2"
    assert body["grade"] == {"year": None, "grade": None, "reason": "no grade has been decided yet"}
    assert body["latest_inspection"] is None
    assert body["live"]["cameras"] == {"registered": 0, "online": 0}
    assert body["live"]["probes"]["registered"] == 0


def test_the_record_shows_licence_inspection_grade_and_live_probes(kitchen: City) -> None:
    city = kitchen
    inspected = city.client.post(
        "/v1/regulator/premises/p-1/inspections",
        json={
            "inspected_on": NOW.date().isoformat(),
            "score": 82,
            "items": [{"item": "cold chain", "passed": True, "key": True}],
        },
        headers=city.headers("reg-1"),
    ).json()
    graded = city.client.post(
        f"/v1/regulator/premises/p-1/grades/{NOW.year}", headers=city.headers("reg-1")
    ).json()
    body = record_of(city)
    premises = body["premises"]
    assert premises["licence"] == {
        "number": "JY1p10000",
        "status": "valid",
        "issued_on": "2024-01-01",
        "expires_on": None,
    }
    assert (premises["kind"], premises["address"]) == ("restaurant", "1 p-1 Road")
    latest = body["latest_inspection"]
    assert (latest["result"], latest["face"], latest["score"]) == ("good", "smile", 82.0)
    assert latest["event"]["event_id"] == inspected["event_id"]
    # The fridge's cold-chain breach is a class 1 incident: no grade, and why.
    assert body["grade"]["grade"] is None and "incident" in body["grade"]["reason"]
    assert body["grade"]["event"]["event_id"] == graded["event_id"]

    probes = {p["device_id"]: p for p in body["live"]["probes"]["probes"]}
    assert body["live"]["probes"]["registered"] == 3
    assert body["live"]["probes"]["reporting"] == 2  # fr-2 is silent for 2 h (> 30 min)
    assert body["live"]["probes"]["in_range"] == 1  # only the freezer
    assert probes["fz-1"]["in_range"] and probes["fz-1"]["range_celsius"] == {
        "min": None,
        "max": -12.0,
    }
    fridge = probes["fr-1"]
    assert (fridge["last_value_celsius"], fridge["value_in_range"]) == (11.0, False)
    assert [a["rule"] for a in fridge["open_alerts"]] == ["cold_holding"]
    assert fridge["open_alerts"][0]["class"] == 1 and not fridge["in_range"]
    assert not probes["fr-2"]["reporting"] and not probes["fr-2"]["in_range"]
    assert probes["fr-2"]["value_in_range"] is True

    temps = {t["device_id"]: t for t in body["temperatures"]["probes"]}
    days = temps["fr-1"]["days"]
    assert len(days) == 7 and days[-1]["date"] >= NOW.date().isoformat()
    seen = [d for d in days if d["count"]]
    assert sum(d["count"] for d in seen) == 12
    assert min(d["min"] for d in seen) == 4.0 and max(d["max"] for d in seen) == 11.0
    # 4 intervals of 10 min plus the last reading held until now (10 min and a little).
    # Each local day counts from its own first reading (docs/public-record.md): when local
    # midnight falls inside the breach, the minutes from midnight to the first reading after
    # it (under 10) are in neither day.
    out = sum(d["minutes_out_of_range"] for d in seen)
    local_now = NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    uncounted = 10.0 if local_now - midnight < timedelta(minutes=55) else 0.0
    assert 49.9 - uncounted <= out <= 55.0
    assert sum(d["minutes_out_of_range"] or 0 for d in temps["fz-1"]["days"]) == 0


def test_alerts_self_checks_lots_and_anchoring(kitchen: City) -> None:
    city = kitchen
    seeded = seed_without_anchoring(city)
    body = record_of(city)

    [alert] = body["alerts"]["items"]
    assert alert["alert_id"] == seeded.alert_id
    assert (alert["class"], alert["rule"], alert["status"]) == (1, "cold_holding", "acknowledged")
    assert alert["due_at"] and alert["opened_at"] and alert["description"]
    # Opening is the timeline's first step (by the system, on the breach event).
    opening, step = alert["rectification"]
    assert (opening["to_status"], opening["by_org"]) == ("open", "system")
    assert opening["event"]["event_id"] == alert["event"]["event_id"]
    assert (step["from_status"], step["to_status"], step["by_org"]) == (
        "open",
        "acknowledged",
        "rest-1",
    )
    # Readings and their alert were anchored after that request; the seeded items are not yet.
    assert alert["event"]["anchoring"] == "anchored"
    assert step["event"]["anchoring"] == "pending"

    [check] = body["self_checks"]
    assert check["record_type"] == "morning_check"
    assert check["summary"] == {"staff_on_shift": 1, "excluded": 0}
    assert check["event"] == {
        "event_id": seeded.record_event,
        "leaf_index": check["event"]["leaf_index"],
        "anchoring": "pending",
        "proof": f"/v1/proofs/{seeded.record_event}",
    }

    [lot] = body["ingredients"]
    assert (lot["product"], lot["lot_code"], lot["gtin"]) == ("Pork shoulder", LOT, GTIN)
    assert (lot["supplier"], lot["quantity"], lot["unit"]) == ("Green Farm Co.", 12.5, "KGM")
    assert lot["lot_page"] == "/01/04006381333931/10/LOT%2042A"
    assert lot["event"]["anchoring"] == "pending"

    # No personal data and no key id anywhere in the answer, although the database has them.
    text = json.dumps(body, ensure_ascii=False)
    for secret in (STAFF_NAME, RECORDER, PHONE, city.key_ids["rest-1"]):
        assert secret not in text
    with city.app.state.platform.sessions() as session:
        values = session.execute(select(PersonalValue.value)).scalars()
        assert any(STAFF_NAME in (v or "") for v in values)

    request_anchor_tick(city.app.state.platform, force=True)
    after = record_of(city)
    assert after["self_checks"][0]["event"]["anchoring"] == "anchored"
    assert after["ingredients"][0]["event"]["anchoring"] == "anchored"
    assert after["alerts"]["items"][0]["rectification"][1]["event"]["anchoring"] == "anchored"
    bundle = city.client.get(after["self_checks"][0]["event"]["proof"])
    assert bundle.status_code == 200 and bundle.json()["status"] == "anchored"


def test_the_lot_page_by_gs1_digital_link(kitchen: City) -> None:
    city = kitchen
    seeded = seed_without_anchoring(city)
    for gtin in ("4006381333931", "04006381333931"):
        response = city.client.get(f"/01/{gtin}/10/LOT%2042A")
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["gtin"], body["lot_code"]) == ("04006381333931", LOT)
        [receipt] = body["receipts"]
        assert receipt["premises"] == {
            "premises_id": "p-1",
            "name": "Restaurant p-1",
            "page": "/v1/public/restaurants/p-1",
        }
        assert (receipt["supplier"], receipt["shelf_life_days"]) == ("Green Farm Co.", 5)
        assert receipt["production_date"] == (NOW.date() - timedelta(days=1)).isoformat()
        assert receipt["event"]["event_id"] == seeded.lot_event
        assert receipt["event"]["anchoring"] == "pending"
    assert city.client.get("/01/04006381333931/10/OTHER").status_code == 404
    assert city.client.get("/01/96385074/10/LOT%2042A").status_code == 404  # valid GTIN-8
    wrong = city.client.get("/01/4006381333932/10/LOT%2042A")
    assert wrong.status_code == 422 and "check digit" in wrong.json()["detail"]
    assert "is 1" in wrong.json()["detail"]
    assert city.client.get("/01/40063813/10/x").status_code == 422
    assert city.client.get("/01/12345a7890123/10/x").status_code == 422
    svg = city.client.get("/01/4006381333931/10/LOT%2042A/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    # PUBLIC_BASE_URL unset: the base the request reached.
    assert "http://testserver/01/04006381333931/10/LOT%2042A" in svg.text


def test_premises_qr_codes_point_to_the_public_page(city: City) -> None:
    url = "http://testserver/r/p-1"  # PUBLIC_BASE_URL unset: the request's own base
    svg = city.client.get("/v1/public/restaurants/p-1/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.text.startswith("<svg") and f"<desc>{url}</desc>" in svg.text
    png = city.client.get("/v1/public/restaurants/p-1/qr.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    image = cv2.imdecode(np.frombuffer(png.content, np.uint8), cv2.IMREAD_GRAYSCALE)
    decoded, _points, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert decoded == url
    assert city.client.get("/v1/public/restaurants/p-404/qr.svg").status_code == 404
    assert city.client.get("/v1/public/restaurants/p-404/qr.png").status_code == 404


@pytest.mark.parametrize(
    ("gtin", "digit"),
    [("4006381333931", 1), ("96385074", 4), ("00012345600012", 2), ("10614141000415", 5)],
)
def test_gtin_check_digits(gtin: str, digit: int) -> None:
    assert check_digit(gtin[:-1]) == digit
    assert normalise_gtin(gtin) == gtin.zfill(14)


def test_the_record_day_boundaries_follow_the_premises_zone(kitchen: City) -> None:
    body = record_of(kitchen)
    days = [d["date"] for d in body["temperatures"]["probes"][0]["days"]]
    assert days == sorted(days) and len(set(days)) == 7
    first, last = date.fromisoformat(days[0]), date.fromisoformat(days[-1])
    assert last - first == timedelta(days=6)


def _conditional(city: City, etag: str) -> Any:
    return city.client.get("/v1/public/restaurants/p-1", headers={"If-None-Match": etag})


def test_the_record_has_a_strong_etag_and_cdn_caching(kitchen: City) -> None:
    city = kitchen
    first = city.client.get("/v1/public/restaurants/p-1")
    etag = first.headers["etag"]
    assert etag.startswith('"r') and not etag.startswith("W/")
    cache = first.headers["cache-control"]
    assert "public" in cache and "max-age=" in cache and "stale-while-revalidate=" in cache
    # "r{record version}-{final anchored size}-{on-chain anchored size}-{minute}"
    anchoring = first.json()["anchoring"]
    assert etag.strip('"').split("-")[1:2] == [str(anchoring["anchored_tree_size"])]
    again = _conditional(city, etag)
    if again.status_code == 200:
        # The record is that of the current minute; a minute turned between the two calls.
        etag = again.headers["etag"]
        again = _conditional(city, etag)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    # A new logged fact about the premises changes the tag: the old one gets the record.
    seed_without_anchoring(city)
    changed = _conditional(city, etag)
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert changed.json()["not_proven"]["premises"] == "from the registry, not proven"
