"""One restaurant's week, seeded through the real services and the running server's API.

Organisations, premises, keys and the probe are registered with the directory services
(as an operator would with the CLI); everything else goes through HTTP: signed probe
readings, daily records, an inspection and a grade, an alert with its rectification.
Then ``sunledger anchor --force`` anchors the log on the embedded chain.
"""

from __future__ import annotations

import base64
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import httpx
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from traceability.alerts.raising import open_alert
from traceability.devices.registry import DeviceRegistry
from traceability.orgs.registry import Directory
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.ingest import Ingest

PREMISES_ZONE = ZoneInfo("Asia/Shanghai")  # the zone register_city gives the premises


def local_minute(instant: str) -> str:
    """An API instant as the desks show it: the premises' local minute with its offset."""
    local = datetime.fromisoformat(instant).astimezone(PREMISES_ZONE)
    return local.strftime("%Y-%m-%d %H:%M GMT+8")  # Shanghai keeps +8 all year


PREMISES = "p-sun"
RIVER = "p-river"
"""A second premises (district west): an A grade of last year, a failed key item at this
year's inspection, and an open class 1 alert past its deadline with a yellow card."""
GTIN = "06912345678902"  # a valid GS1 check digit
LOT = "L2026-07"


@dataclass
class Seeded:
    keys: dict[str, str]
    record_event: str
    """The morning check's event (the item the tamper test changes)."""
    rectified_alert: str
    """An alert whose rectification the restaurant has submitted, for the regulator."""
    vision_alert: str
    """An alert whose breach names evidence the public endpoint may not have."""
    snapshot_sha256: str = ""
    """The public kitchen snapshot of camera cam-sun-2 (可视)."""


def _png(seed: int) -> bytes:
    image = np.full((24, 32, 3), (40 + seed * 30) % 256, dtype=np.uint8)
    ok, encoded = cv2.imencode(".png", image)
    assert ok
    return encoded.tobytes()


def register_city(settings: Settings) -> tuple[dict[str, str], Ed25519PrivateKey]:
    """Orgs, premises, API keys and one fridge probe, written with the directory services."""
    engine, sessions, _log, _signer = open_platform(settings)
    directory = Directory()
    now = datetime.now(UTC)
    keys: dict[str, str] = {}
    probe_key = Ed25519PrivateKey.generate()
    with transaction(sessions) as session:
        for org_id, role, districts in (
            ("sunny-noodles", "restaurant", []),
            ("district-east", "regulator", ["east"]),
            ("river-fish", "restaurant", []),
            ("district-west", "regulator", ["west"]),
        ):
            directory.create_organisation(
                session, org_id=org_id, name=org_id, role=role, districts=districts, now=now
            )
            keys[org_id] = directory.issue_key(session, org_id, label="e2e", now=now).token
        directory.add_premises(
            session,
            premises_id=PREMISES,
            org_id="sunny-noodles",
            name="Sunny Noodles",
            kind="restaurant",
            licence_number="JY13301060000001",
            licence_issued_on=date(2024, 1, 1),
            district="east",
            address="12 Riverside Road",
            now=now,
        )
        directory.add_premises(
            session,
            premises_id=RIVER,
            org_id="river-fish",
            name="River Fish",
            kind="restaurant",
            licence_number="JY13301060000002",
            licence_issued_on=date(2020, 1, 1),
            district="west",
            address="3 Harbour Lane",
            now=now,
        )
        DeviceRegistry().register_device(
            session,
            device_id="fr-sun-1",
            premises_id=PREMISES,
            location="walk-in fridge",
            kind="fridge",
            profile="cn",
            public_key=probe_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
            now=now - timedelta(days=8),
        )
    engine.dispose()
    return keys, probe_key


def _readings(key: Ed25519PrivateKey, now: datetime) -> list[dict[str, Any]]:
    readings = []
    moments = [now - timedelta(days=6, hours=12) + timedelta(hours=6 * i) for i in range(26)]
    moments += [now - timedelta(minutes=m) for m in (20, 10, 2)]
    # A door left open three days ago: one reading at 10.5 °C, back to 4 °C three minutes
    # later (the day's bar crosses 8 °C; the rules allow 30 min in any 60: no alert).
    door = now - timedelta(days=3, hours=1)
    warm = {door: 10.5, door + timedelta(minutes=3): 4.0}
    moments += list(warm)
    for seq, at in enumerate(sorted(moments), start=1):
        celsius = warm.get(at, round(3.0 + 1.5 * ((seq * 7) % 5) / 4, 1))
        unsigned = {
            "device_id": "fr-sun-1",
            "seq": seq,
            "measured_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
        }
        sig = base64.b64encode(key.sign(canonical_bytes(unsigned))).decode()
        readings.append({**unsigned, "sig": sig})
    return readings


def _ok(answer: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert answer.status_code == status, f"{answer.request.url}: {answer.text}"
    result: dict[str, Any] = answer.json()
    return result


def seed_over_http(
    base: str, settings: Settings, keys: dict[str, str], probe_key: Ed25519PrivateKey
) -> Seeded:
    rest = {"Authorization": f"Bearer {keys['sunny-noodles']}"}
    reg = {"Authorization": f"Bearer {keys['district-east']}"}
    now = datetime.now(UTC).replace(microsecond=0)  # the server runs on the same wall clock
    local_today = now.astimezone(PREMISES_ZONE).date()  # "today" is the premises' day, not ours
    today = local_today.isoformat()
    in_a_year = (local_today + timedelta(days=365)).isoformat()
    yesterday = local_today - timedelta(days=1)
    with httpx.Client(base_url=base, timeout=60) as http:
        _ok(http.post("/v1/probes/readings", json={"readings": _readings(probe_key, now)}), 200)
        records = f"/v1/premises/{PREMISES}/records"
        morning = _ok(
            http.post(
                records,
                headers=rest,
                json={
                    "record_type": "morning_check",
                    "record": {
                        "date": today,
                        "checked_by": "Manager Wang",
                        "staff": [
                            {"name": "Cook Li", "health_certificate_expiry": in_a_year},
                            {"name": "Cook Zhao", "health_certificate_expiry": in_a_year},
                        ],
                    },
                },
            )
        )
        certificate = _ok(
            http.post(
                f"/v1/premises/{PREMISES}/attachments",
                headers={**rest, "Content-Type": "image/png"},
                content=_png(1),
            )
        )
        _ok(
            http.post(
                records,
                headers=rest,
                json={
                    "record_type": "purchase_inspection",
                    "record": {
                        "date": today,
                        "supplier": "Green Farm Co",
                        "supplier_licence": "SC11111111111",
                        "supplier_certificate_expiry": in_a_year,
                        "product": "Pork belly",
                        "gtin": GTIN,
                        "lot_code": LOT,
                        "quantity": 12.5,
                        "unit": "kg",
                        "production_date": yesterday.isoformat(),
                        "shelf_life_days": 5,
                        "certificate_sha256": certificate["sha256"],
                        "receiver": "Cook Li",
                    },
                },
            )
        )
        sample = _ok(
            http.post(
                records,
                headers=rest,
                json={
                    "record_type": "sample_retention",
                    "record": {
                        "date": today,
                        "dish": "Beef noodles",
                        "meal": "lunch",
                        "weight_g": 90,  # under 125 g: opens sample_underweight (class 2)
                        "time_in": (now - timedelta(hours=1)).isoformat(),
                        "fridge": "sample-fridge-1",
                        "person": "Cook Zhao",
                    },
                },
            )
        )
        assert sample["alerts_opened"], sample
        alert_id = sample["alerts_opened"][0]
        _ok(
            http.post(
                f"/v1/regulator/premises/{PREMISES}/inspections",
                headers=reg,
                json={
                    "inspected_on": yesterday.isoformat(),
                    "items": [{"item": "cold storage below 8 °C", "passed": True}],
                    "score": 95,
                },
            )
        )
        _ok(http.post(f"/v1/regulator/premises/{PREMISES}/grades/{yesterday.year}", headers=reg))
        photo = _ok(
            http.post(
                f"/v1/premises/{PREMISES}/attachments",
                headers={**rest, "Content-Type": "image/png"},
                content=_png(2),
            )
        )
        _ok(
            http.post(
                f"/v1/alerts/{alert_id}/rectification",
                headers=rest,
                json={"note": "new sample taken at 150 g", "evidence_sha256": [photo["sha256"]]},
            ),
            200,
        )
    seed_river(base, settings, keys, now, local_today)
    # A vision alert naming evidence by hash, as kitchen_vision raises them; the public
    # evidence endpoint may not hold (or serve) that image.
    engine, sessions, log, _signer = open_platform(settings)
    with transaction(sessions) as session:
        opened = open_alert(
            session,
            premises_id=PREMISES,
            subject="camera:cam-sun-1",
            source="vision",
            rule="no_hat",
            alert_class=3,
            detail="a cook without a hat at the stove",
            started_at=now - timedelta(minutes=30),
            now=now - timedelta(minutes=29),
            evidence_sha256=["ab" * 32],
        )
        Ingest(log).append(session, [opened.event])
        vision_alert = opened.alert.alert_id
    snapshot = seed_snapshot(sessions, log, now)
    engine.dispose()
    return Seeded(keys, morning["event_id"], alert_id, vision_alert, snapshot)


def seed_river(
    base: str, settings: Settings, keys: dict[str, str], now: datetime, today: date
) -> None:
    """River Fish: graded A last year; this year's inspection fails a key item; a hot-holding
    alert (class 1) opened four days ago is past its 72 h deadline and carries a yellow card."""
    from traceability.alerts.escalation import escalate_overdue

    reg = {"Authorization": f"Bearer {keys['district-west']}"}
    inspections = f"/v1/regulator/premises/{RIVER}/inspections"
    with httpx.Client(base_url=base, timeout=60) as http:
        _ok(
            http.post(
                inspections,
                headers=reg,
                json={
                    "inspected_on": date(today.year - 1, 6, 1).isoformat(),
                    "items": [{"item": "cold storage below 8 °C", "passed": True}],
                    "score": 96,
                },
            )
        )
        _ok(http.post(f"/v1/regulator/premises/{RIVER}/grades/{today.year - 1}", headers=reg))
        _ok(
            http.post(
                inspections,
                headers=reg,
                json={
                    "inspected_on": (today - timedelta(days=1)).isoformat(),
                    "items": [
                        {
                            "item": "hot food held at 60 °C or above",
                            "passed": False,
                            "key": True,
                            "finding": "bain-marie at 48 °C",
                        },
                        {"item": "hand-washing station stocked", "passed": True},
                    ],
                    "score": 72,
                },
            )
        )
    engine, sessions, log, _signer = open_platform(settings)
    with transaction(sessions) as session:
        opened = open_alert(
            session,
            premises_id=RIVER,
            subject="device:bm-river-1",
            source="probe",
            rule="hot_holding",
            alert_class=1,
            detail="hot holding below 60.0 °C for 45 min (min 48.0 °C)",
            started_at=now - timedelta(days=4, minutes=45),
            now=now - timedelta(days=4),
            # The numbers the hot-holding rule logs (traceability/rules/limits.py).
            measurements={
                "min_celsius": 48.0,
                "minutes_out": 45.0,
                "limit_celsius": 60.0,
                "tolerance_minutes": 30.0,
            },
        )
        Ingest(log).append(session, [opened.event])
    with transaction(sessions) as session:
        assert escalate_overdue(session, log, now), "the class 1 alert should be overdue"
    engine.dispose()


def seed_snapshot(sessions: Any, log: Any, now: datetime) -> str:
    """A camera publishing 可视 snapshots, and one snapshot through the real pipeline
    (CenterFace blurring) and ledger."""
    from kitchen_vision.config import parse_config
    from kitchen_vision.handover import CameraReport
    from kitchen_vision.pipeline import Pipeline
    from kitchen_vision.sources import SampledFrame
    from traceability.cameras.registry import CameraRegistry
    from traceability.cameras.vision_ledger import VisionLedger

    config = parse_config(
        {
            "camera_id": "cam-sun-2",
            "premises_id": PREMISES,
            "name": "Hot kitchen",
            "timezone": "Asia/Shanghai",
            "rules": ["tamper"],
            "snapshot": {"every_minutes": 60},
        }
    )
    rng = np.random.default_rng(5)
    frame = np.clip(rng.normal(150, 40, (360, 640, 3)), 0, 255).astype(np.uint8)
    frame = cv2.GaussianBlur(frame, (0, 0), 3)
    with transaction(sessions) as session:
        CameraRegistry().register(
            session,
            camera_id=config.camera_id,
            premises_id=PREMISES,
            name=config.name,
            config=config.to_json(),
            now=now,
        )
    result = Pipeline(config).process(SampledFrame(0, 0.0, frame, now - timedelta(minutes=1)))
    with transaction(sessions) as session:
        batch = VisionLedger(log).record(session, CameraReport(config).batch([result]), now)
    assert len(batch.snapshots_published) == 1, batch.snapshots_withheld
    return batch.snapshots_published[0]


def anchor(data_dir: Path, env: dict[str, str]) -> str:
    """``sunledger anchor --force``: anchor the current checkpoint on the embedded chain."""
    done = subprocess.run(
        [str(Path(sys.executable).with_name("sunledger")), "anchor", "--force"]
        + ["--data-dir", str(data_dir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout
