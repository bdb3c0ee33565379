"""Privacy: seeded staff names and phone numbers appear in nothing public, published evidence
shows no face, and an erased staff member cannot be recovered while every proof still verifies.

Names and phone numbers go in through the records API, in the personal fields (staff
names, the person keeping a record); free-text fields such as an alert note are the
restaurant's responsibility (docs) and are not seeded here. The scan covers every
public API response (sunshine records, lot pages, open data, config, the consumer
page), every log entry and proof bundle of every event, and every block, transaction
(calldata) and log of the embedded chain, read through ``/v1/chain/rpc``. Needles
are searched as UTF-8, JSON-escaped (``\\uXXXX``), percent-encoded and hex-encoded.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import face_sample
import numpy as np
import pytest
from reliability_figures import record_figure
from seeded_city import City
from sqlalchemy import select, text

from traceability.chain.json_rpc import RpcAnchorReader
from traceability.entrypoints.worker import request_anchor_tick
from traceability.storage.db import transaction
from traceability.storage.models import Base, EventRow, PersonalValue
from traceability.transparency.personal_data import erase
from traceability.verify import parse_trust, verify_bundle

pytestmark = pytest.mark.reliability

ZONE = ZoneInfo("Asia/Shanghai")  # the city's premises use the default zone
ERASED = "欧阳青松"
"""The staff member who asks to be forgotten."""
NAMES = (ERASED, "司马雨桐", "Xu Mingyue", "Quentin Albrecht-Moreau")
PHONES = ("13912345678", "+86 139 8765 4321", "021-6543-2109")
GTIN = "06912345678902"
LOT = "PRIV-LOT-7"
FACES = face_sample.SAMPLE / "without_mask"


def needles(secret: str) -> list[str]:
    """How ``secret`` may appear in a response: as is, JSON-escaped, percent- and hex-encoded
    (all lower-cased: the haystacks are searched lower-cased too)."""
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        urllib.parse.quote(secret),
        secret.encode().hex(),
    }
    digits = "".join(ch for ch in secret if ch.isdigit())
    if len(digits) >= 8:  # a phone number, however it is spaced
        forms |= {digits, digits.encode().hex()}
    return sorted({form.lower() for form in forms})


SECRETS = {secret: needles(secret) for secret in (*NAMES, *PHONES)}


class Scan:
    """Counts what was scanned and every needle found, by where it was found."""

    def __init__(self) -> None:
        self.scanned: dict[str, int] = {}
        self.hits: list[str] = []

    def look(self, where: str, category: str, body: str | bytes) -> None:
        haystack = (body.decode("utf-8", "replace") if isinstance(body, bytes) else body).lower()
        self.scanned[category] = self.scanned.get(category, 0) + 1
        for secret, forms in SECRETS.items():
            for form in forms:
                if form in haystack:
                    self.hits.append(f"{secret!r} as {form!r} in {where}")


def today() -> date:
    return datetime.now(ZONE).date()


def seed_records(city: City) -> list[str]:
    """Records naming every seeded person, through the records API; their event ids."""
    day = today().isoformat()
    in_a_year = (today() + timedelta(days=365)).isoformat()
    records: list[tuple[str, dict[str, Any]]] = [
        (
            "morning_check",
            {
                "date": day,
                "checked_by": f"{NAMES[3]} {PHONES[2]}",
                "staff": [
                    {"name": ERASED, "health_certificate_expiry": in_a_year},
                    {"name": f"{NAMES[1]} {PHONES[0]}", "excluded_reason": "fever"},
                    {"name": NAMES[2], "health_certificate_expiry": in_a_year},
                ],
            },
        ),
        (
            "purchase_inspection",
            {
                "date": day,
                "supplier": "Green Farm Co",
                "supplier_licence": "SC11111111111",
                "supplier_certificate_expiry": in_a_year,
                "product": "Pork belly",
                "gtin": GTIN,
                "lot_code": LOT,
                "quantity": 12.5,
                "unit": "kg",
                "production_date": day,
                "shelf_life_days": 5,
                "receiver": f"{ERASED} {PHONES[1]}",
            },
        ),
        (
            "disinfection",
            {
                "date": day,
                "items": ["bowls", "chopsticks"],
                "method": "steam",
                "temperature_c": 100,
                "duration_min": 15,
                "person": NAMES[2],
            },
        ),
        (
            "self_inspection",
            {
                "date": day,
                "items": [{"item": "pest traps", "ok": True}],
                "no_risk_found": True,
                "person": f"{NAMES[1]} ({PHONES[0]})",
            },
        ),
    ]
    ids = []
    for record_type, record in records:
        answer = city.client.post(
            "/v1/premises/p-1/records",
            json={"record_type": record_type, "record": record},
            headers=city.headers("rest-1"),
        )
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["event_id"])
    # A morning check by CSV too, on the other premises.
    header = city.client.get("/v1/records/csv-templates/morning_check").text.splitlines()[0]
    csv = "\n".join(
        [header, f"{day},,{NAMES[3]},{ERASED},{in_a_year},", f"{day},,{NAMES[3]},{NAMES[2]},,"]
    )
    answer = city.client.post(
        "/v1/premises/p-2/records/csv?record_type=morning_check",
        content=csv.encode(),
        headers={**city.headers("rest-2"), "Content-Type": "text/csv"},
    )
    assert answer.status_code == 201, answer.text
    ids += [r["event_id"] for r in answer.json()["records"]]
    return ids


def face_photo() -> np.ndarray:
    photos = sorted(FACES.glob("*.jpg")) if FACES.is_dir() else []
    if not photos:
        pytest.skip(f"the shared face sample is missing at {FACES}")
    photo = cv2.imread(str(photos[1]))
    assert photo is not None
    return np.asarray(photo, dtype=np.uint8)


def publish_evidence_with_faces(city: City) -> list[str]:
    """A vision violation whose frames show a real face, published by the vision ledger
    with the evidence maker's blurring; the control asserts the face is findable unblurred."""
    from kitchen_vision.config import parse_config
    from kitchen_vision.evidence import EvidenceMaker, load_blurring_detector
    from kitchen_vision.faces import detect_faces
    from kitchen_vision.handover import CameraReport
    from kitchen_vision.observations import FrameContext
    from kitchen_vision.rules import VisionViolation
    from traceability.cameras.registry import CameraRegistry
    from traceability.cameras.vision_ledger import VisionLedger

    detector, reason = load_blurring_detector()
    assert detector is not None, reason
    frames = []
    for i in range(3):
        frame = np.full((360, 640, 3), 90 + 10 * i, dtype=np.uint8)
        frame[100:260, 380:540] = cv2.resize(face_photo(), (160, 160))
        frames.append(frame)
    assert detect_faces(frames[0]), "the control failed: no face found in the unblurred frame"
    platform = city.app.state.platform
    now = datetime.now(UTC).replace(microsecond=0)
    config = parse_config({"camera_id": "cam-priv", "premises_id": "p-1", "timezone": "UTC"})
    contexts = [
        FrameContext("cam-priv", i, float(i), now - timedelta(seconds=9 - i)) for i in range(3)
    ]
    maker = EvidenceMaker(detector)
    violation = VisionViolation(
        rule="pest_suspected",
        alert_class=1,
        camera_id="cam-priv",
        premises_id="p-1",
        zone=None,
        started_at=contexts[0].wall_clock,
        detected_at=contexts[-1].wall_clock,
        frame=2,
        time=2.0,
        description="Pest suspected near the prep table.",
        snapshot=maker.snapshot(frames[-1], contexts[-1]),
        clip=maker.clip(list(zip(frames, contexts, strict=True))),
    )
    with transaction(platform.sessions) as session:
        CameraRegistry().register(
            session, camera_id="cam-priv", premises_id="p-1", name="Kitchen", config={}, now=now
        )
        batch = VisionLedger(platform.log).record(
            session, CameraReport(config).batch([], offline=[violation]), now
        )
    assert len(batch.evidence_sha256) == 2
    return list(batch.evidence_sha256)


def rpc(city: City, method: str, params: list[Any]) -> Any:
    answer = city.client.post(
        "/v1/chain/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    )
    assert answer.status_code == 200 and "error" not in answer.json(), answer.text
    return answer.json()["result"]


def event_ids(city: City) -> list[str]:
    with city.app.state.platform.sessions() as session:
        return list(session.scalars(select(EventRow.event_id).order_by(EventRow.leaf_index)))


def scan_public(city: City, scan: Scan) -> dict[str, Any]:
    """Every public surface, scanned; returns the proof bundles by event id."""
    get = city.client.get
    for premises in ("p-1", "p-2"):
        for path in (f"/v1/public/restaurants/{premises}", f"/r/{premises}"):
            answer = get(path)
            assert answer.status_code == 200, (path, answer.text)
            scan.look(path, "public pages", answer.content)
    for path in (
        f"/01/{GTIN}/10/{urllib.parse.quote(LOT)}",
        "/v1/public/config",
        "/v1/public/open-data/inspections.csv",
        "/v1/public/open-data/inspections.json",
        "/v1/log/checkpoint",
    ):
        answer = get(path)
        assert answer.status_code == 200, (path, answer.text)
        scan.look(path, "public pages", answer.content)
    bundles = {}
    for index, event_id in enumerate(event_ids(city)):
        entry = get(f"/v1/log/entries/{index}")
        assert entry.status_code == 200, entry.text
        scan.look(f"log entry {index}", "log entries", entry.content)
        answer = get(f"/v1/proofs/{event_id}")
        assert answer.status_code == 200, answer.text
        scan.look(f"proof bundle {event_id}", "proof bundles", answer.content)
        bundles[event_id] = answer.json()
    latest = int(rpc(city, "eth_blockNumber", []), 16)
    transactions = 0
    for number in range(latest + 1):
        block = rpc(city, "eth_getBlockByNumber", [hex(number), True])
        transactions += len(block["transactions"])
        scan.look(f"block {number}", "chain blocks", json.dumps(block))
        for tx in block["transactions"]:
            calldata = tx["input"]
            assert calldata.startswith("0x") and len(calldata) > 10, tx
            scan.look(f"tx {tx['hash']} calldata", "chain calldata", calldata)
            scan.look(
                f"tx {tx['hash']} calldata (decoded)", "chain calldata", bytes.fromhex(calldata[2:])
            )
            receipt = rpc(city, "eth_getTransactionReceipt", [tx["hash"]])
            scan.look(f"tx {tx['hash']} receipt", "chain receipts", json.dumps(receipt))
    logs = rpc(city, "eth_getLogs", [{"fromBlock": "0x0", "toBlock": "latest"}])
    for log in logs:
        where = f"chain log of tx {log['transactionHash']}"
        scan.look(where, "chain logs", json.dumps(log))
        scan.look("chain log data (decoded)", "chain logs", bytes.fromhex(log["data"][2:]))
    assert transactions > 0 and logs, "nothing was anchored: the chain scan would be empty"
    return bundles


def all_stored_text(city: City) -> Iterable[tuple[str, bytes]]:
    """Every value of every row of every table, as bytes, with where it came from."""
    with city.app.state.platform.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)).all():
                for column, value in zip(table.columns.keys(), row, strict=True):
                    if value is None:
                        continue
                    raw = bytes(value) if isinstance(value, bytes | memoryview) else str(value)
                    data = raw if isinstance(raw, bytes) else raw.encode()
                    yield f"{table.name}.{column}", data


def test_no_personal_data_or_face_is_published_and_erasure_keeps_proofs(city: City) -> None:
    record_ids = seed_records(city)
    evidence = publish_evidence_with_faces(city)
    request_anchor_tick(city.app.state.platform, force=True)

    # The control: the seeded secrets are stored, behind the commitments.
    stored = Scan()
    for where, data in all_stored_text(city):
        stored.look(where, "stored", data)
    assert {h.split(" as ")[0] for h in stored.hits} == {repr(s) for s in SECRETS}

    scan = Scan()
    bundles = scan_public(city, scan)
    assert set(record_ids) <= set(bundles)
    assert scan.hits == [], scan.hits[:20]

    # Published evidence: fetch each image the log names and look for faces again.
    from kitchen_vision.faces import detect_faces

    named = set()
    with city.app.state.platform.sessions() as session:
        for body in session.scalars(select(EventRow.body).where(EventRow.kind == "violation")):
            named |= set(json.loads(body)["payload"].get("evidence_sha256", []))
    assert set(evidence) <= named
    faces_found = 0
    for sha256 in sorted(named):
        answer = city.client.get(f"/v1/public/evidence/{sha256}")
        assert answer.status_code == 200, answer.text
        image = cv2.imdecode(np.frombuffer(answer.content, dtype=np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        faces_found += len(detect_faces(image))
    assert faces_found == 0

    # Crypto-shredding: erase every event naming the staff member.
    platform = city.app.state.platform
    assert raw_file_hits(city) != [], "the control failed: the raw file scan finds nothing"
    with platform.sessions() as session:
        naming = sorted(
            {
                event_id
                for event_id, value in session.execute(
                    select(PersonalValue.event_id, PersonalValue.value)
                )
                if value is not None and ERASED in value
            }
        )
    assert len(naming) == 3  # the morning check, the purchase inspection, the CSV check
    with transaction(platform.sessions) as session:
        erased = sum(erase(session, event_id) for event_id in naming)
    assert erased >= len(naming)
    with platform.sessions() as session:
        left = session.execute(
            select(PersonalValue.salt, PersonalValue.value).where(
                PersonalValue.event_id.in_(naming)
            )
        ).all()
    assert left and all(salt is None and value is None for salt, value in left)
    after = Scan()
    for where, data in all_stored_text(city):
        after.look(where, "stored", data)
    assert not [h for h in after.hits if h.startswith(repr(ERASED))], after.hits
    assert any(h.startswith(repr(NAMES[2])) for h in after.hits)  # others are still kept
    assert raw_file_hits(city) in (None, []), "the erased name is still in the SQLite file"

    # Every proof still verifies, against the embedded chain too.
    verifier = platform.signer.verifier()
    pin = parse_trust(city.client.get("/v1/trust").json()).chain

    def chain(method: str, params: list[Any]) -> Any:
        return rpc(city, method, params)

    verified = anchored = 0
    for event_id in event_ids(city):
        bundle = city.client.get(f"/v1/proofs/{event_id}").json()
        verdict = verify_bundle(bundle, verifier, RpcAnchorReader(chain), pin=pin)
        assert verdict.ok, (event_id, verdict.failed)
        verified += 1
        anchored += bundle.get("anchor") is not None
    assert anchored > 0
    for event_id in naming:
        bundle = city.client.get(f"/v1/proofs/{event_id}").json()
        assert verify_bundle(bundle, verifier, RpcAnchorReader(chain), pin=pin).ok
    record_figure(
        f"privacy_{platform.settings.resolved_database_url.split(':')[0].split('+')[0]}",
        {
            "scanned": scan.scanned,
            "hits": len(scan.hits),
            "evidence_images": len(named),
            "faces_found": faces_found,
            "erased_values": erased,
            "hits_after_erasure": len([h for h in after.hits if h.startswith(repr(ERASED))]),
            "bundles_verified": verified,
            "bundles_anchored": anchored,
        },
    )


def raw_file_hits(city: City) -> list[str] | None:
    """The erased name in the SQLite file's raw bytes (free pages and the WAL keep old rows
    unless overwritten); None on PostgreSQL, whose files this test cannot read."""
    url = city.app.state.platform.settings.resolved_database_url
    if not url.startswith("sqlite:///"):
        return None
    with city.app.state.engine.begin() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    database = Path(url.removeprefix("sqlite:///"))
    raw = Scan()
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            raw.look(str(path), "database file", path.read_bytes())
    return [h for h in raw.hits if h.startswith(repr(ERASED))]
