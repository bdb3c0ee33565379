"""``sunledger log append`` keeps the projection tables with the log: an appended inspection
gets its row (and alert) as the regulator API writes them, the public record shows it and
the audit agrees; a refused event leaves nothing behind. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_cli import sunledger

from api.app import create_app
from traceability.settings import Settings
from traceability.storage.db import make_engine
from traceability.storage.models import AlertRow, EventRow, InspectionRow

INSPECTION_ID = "00000000-0000-4000-8000-00000000a001"


def inspection(event_id: str = INSPECTION_ID, **payload: Any) -> str:
    body = {
        "inspector_org": "reg-x",
        "items": [{"item": "cold chain", "passed": True}, {"item": "pest control", "passed": True}],
        "score": 92,
        "result": "excellent",
        "inspected_on": "2025-06-02",
    }
    body.update(payload)
    return json.dumps(
        {
            "id": event_id,
            "kind": "inspection",
            "subject": "premises:p-a",
            "occurred_at": "2025-06-01T16:00:00Z",
            "payload": body,
        }
    )


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    assert settings.signing_key_file is not None and settings.database_url is not None
    values = {
        "SUNLEDGER_DATA_DIR": str(settings.data_dir),
        "SUNLEDGER_DATABASE_URL": settings.database_url.get_secret_value(),
        "SUNLEDGER_SIGNING_KEY_FILE": str(settings.signing_key_file),
        "SUNLEDGER_LOG_ORIGIN": settings.log_origin,
    }
    made = sunledger(
        "orgs", "create", "rest-a", "--name", "Jade", "--role", "restaurant", env=values
    )
    assert made.returncode == 0, made.stderr
    premises = sunledger(
        "orgs", "add-premises", "p-a", "--org", "rest-a", "--name", "Jade Garden",
        "--licence", "JY13101040000001", "--issued", "2024-02-01", "--district", "xh",
        "--address", "1 Tianping Rd", env=values,
    )  # fmt: skip
    assert premises.returncode == 0, premises.stderr
    return values


def counts(settings: Settings) -> tuple[int, int, int]:
    assert settings.database_url is not None
    engine = make_engine(settings.database_url.get_secret_value())
    try:
        with engine.connect() as conn:
            return (
                conn.scalar(select(func.count()).select_from(EventRow)) or 0,
                conn.scalar(select(func.count()).select_from(InspectionRow)) or 0,
                conn.scalar(select(func.count()).select_from(AlertRow)) or 0,
            )
    finally:
        engine.dispose()


def test_an_appended_inspection_gets_its_row_the_record_shows_it_and_the_audit_agrees(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    events = tmp_path / "inspections.jsonl"
    key_failed = inspection(
        "00000000-0000-4000-8000-00000000a002",
        items=[{"item": "cold chain", "passed": False, "key": True}],
        score=95,
        result="fair",  # a failed key item caps the cn result at fair
        inspected_on="2025-06-01",
    )
    events.write_text(inspection() + "\n" + key_failed + "\n")
    done = sunledger("log", "append", str(events), env=env)
    assert done.returncode == 0, done.stderr
    assert "2 new events appended" in done.stderr and "1 alerts opened" in done.stderr
    assert counts(settings) == (3, 2, 1)  # two inspections and the alert's breach event

    again = sunledger("log", "append", str(events), env=env)
    assert again.returncode == 0, again.stderr
    assert counts(settings) == (3, 2, 1)  # a rerun projects nothing twice

    app = create_app(settings)
    with TestClient(app) as client:
        record = client.get("/v1/public/restaurants/p-a")
        assert record.status_code == 200, record.text
        latest = record.json()["latest_inspection"]
        assert latest["inspected_on"] == "2025-06-02"
        assert latest["result"] == "excellent" and latest["score"] == 92
        assert latest["event"]["event_id"] == INSPECTION_ID
    app.state.engine.dispose()

    audited = sunledger("audit", "--no-chain", env=env)
    assert audited.returncode == 0, audited.stdout + audited.stderr
    assert audited.stdout.startswith("ok")


@pytest.mark.parametrize(
    ("line", "named"),
    [
        (inspection(score=60), "payload.result: 'excellent', but under scheme 'cn'"),
        (inspection(scheme="us-nyc"), "payload.scheme: 'us-nyc', but premises p-a follows"),
        (inspection(inspected_on=None), "payload.inspected_on: required"),
        (inspection(items=[]), "items"),
        (inspection().replace("premises:p-a", "premises:p-none"), "no premises p-none"),
        (inspection(historical=True, inspected_on="2099-01-01"), "after today"),
        (
            json.dumps(
                {
                    "kind": "grade",
                    "subject": "premises:p-a",
                    "occurred_at": "2025-06-02T00:00:00Z",
                    "payload": {"year": 2025, "grade": "A", "reason": "r", "decided_by": "x"},
                }
            ),
            "grade: a grade is decided from the year's inspections",
        ),
    ],
    ids=["result", "scheme", "no-date", "cn-no-items", "premises", "future", "grade"],
)
def test_a_refused_event_exits_2_names_its_line_and_stores_nothing(
    settings: Settings, env: dict[str, str], tmp_path: Path, line: str, named: str
) -> None:
    events = tmp_path / "bad.jsonl"
    unsigned_reading = json.dumps(
        {
            "kind": "probe_reading",
            "subject": "device:fr-1",
            "occurred_at": "2025-06-02T10:00:00Z",
            "payload": {
                "device_id": "fr-1",
                "seq": 1,
                "measured_at": "2025-06-02T10:00:00Z",
                "values": [{"type": "Temperature", "value": 4.0, "uom": "CEL"}],
            },
        }
    )
    events.write_text(unsigned_reading + "\n\n" + line + "\n")
    done = sunledger("log", "append", str(events), env=env)
    assert done.returncode == 2, done.stderr
    assert f"{events}:3:" in done.stderr and named in done.stderr, done.stderr
    assert "nothing of its batch is stored" in done.stderr
    assert counts(settings) == (0, 0, 0)


def test_an_fhrs_inspection_of_premises_registered_with_the_cli_follows_the_scheme(
    settings: Settings, env: dict[str, str], tmp_path: Path
) -> None:
    made = sunledger(
        "orgs", "add-premises", "p-uk", "--org", "rest-a", "--name", "The Cafe",
        "--district", "westminster", "--address", "1 Whitehall", "--timezone", "Europe/London",
        "--scheme", "uk-fhrs", "--external-id", "fhrs=254719", "--inspection-only", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr

    def fhrs(event_id: str, **payload: Any) -> str:
        body = {
            "inspector_org": "Westminster City Council",
            "inspected_on": "2019-03-04",
            "scheme": "uk-fhrs",
            "inspection_type": "FHRS inspection",
            "rating": "4",
            "authority_rating": "4",
            "sub_scores": {"hygiene": 5, "structural": 10, "confidence_in_management": 5},
            "historical": True,
            **payload,
        }
        return json.dumps(
            {
                "id": event_id,
                "kind": "inspection",
                "subject": "premises:p-uk",
                "occurred_at": "2019-03-04T00:00:00Z",
                "payload": body,
            }
        )

    bad = tmp_path / "bad.jsonl"
    for line, named in [
        (fhrs(INSPECTION_ID, rating="5"), "payload.rating: '5', but under scheme 'uk-fhrs'"),
        (fhrs(INSPECTION_ID, sub_scores={"hygiene": 99}), "hygiene"),
        (fhrs(INSPECTION_ID, inspected_on="2099-01-01"), "after today"),
    ]:
        bad.write_text(line + "\n")
        refused = sunledger("log", "append", str(bad), env=env)
        assert refused.returncode == 2 and named in refused.stderr, refused.stderr
    bad.write_text(fhrs(INSPECTION_ID) + "\n")
    wide = {**env, "SUNLEDGER_INSPECTION_ALERT_WINDOW_DAYS": "36500"}  # 2019 is in the window
    refused = sunledger("log", "append", str(bad), env=wide)
    assert refused.returncode == 2, refused.stderr
    assert "payload.historical: an inspection on 2019-03-04 is within the alert window" in (
        refused.stderr
    )
    assert counts(settings) == (0, 0, 0)

    good = tmp_path / "fhrs.jsonl"
    good.write_text(fhrs(INSPECTION_ID) + "\n")
    done = sunledger("log", "append", str(good), env=env)
    assert done.returncode == 0, done.stderr
    assert counts(settings) == (1, 1, 0)
    app = create_app(settings)
    with TestClient(app) as client:
        latest = client.get("/v1/public/restaurants/p-uk").json()["latest_inspection"]
        assert (latest["scheme"], latest["rating"], latest["score"]) == ("uk-fhrs", "4", None)
    app.state.engine.dispose()
    audited = sunledger("audit", "--no-chain", env=env)
    assert audited.returncode == 0 and audited.stdout.startswith("ok"), audited.stdout
