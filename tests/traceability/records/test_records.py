"""The record book and the record checks, on both databases."""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from clocks import TestClock
from seeded_city import City
from sqlalchemy import func, select

from traceability.attachments import AttachmentStore
from traceability.errors import Invalid
from traceability.records import RecordBook, RecordChecks, RecordPolicy, RecordRejected
from traceability.records.csv_import import formula_problem, read_records
from traceability.records.schemas import Disinfection
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow, EventRow, PremisesRow, RecordRow

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

ZONE = ZoneInfo("Asia/Shanghai")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), ZONE)


def sample(day: date, meal: str, grams: float = 150, **extra: Any) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "dish": "Rice",
        "meal": meal,
        "weight_g": grams,
        "time_in": at(day, 11, 30).isoformat(),
        "fridge": "f-1",
        "person": "Li Na",
        **extra,
    }


def morning(day: date) -> dict[str, Any]:
    expiry = (day + timedelta(days=100)).isoformat()
    return {
        "date": day.isoformat(),
        "staff": [{"name": "Wang", "health_certificate_expiry": expiry}],
    }


def alerts(city: City, **where: Any) -> list[AlertRow]:
    with city.app.state.platform.sessions() as session:
        query = select(AlertRow).order_by(AlertRow.started_at, AlertRow.premises_id)
        for name, value in where.items():
            query = query.where(getattr(AlertRow, name) == value)
        return list(session.execute(query).scalars())


def submit(
    city: City,
    record_type: str,
    raw: dict[str, Any],
    now: datetime,
    premises_id: str = "p-1",
    book: RecordBook | None = None,
) -> list[str]:
    platform = city.app.state.platform
    book = book or RecordBook(platform.log)
    with transaction(platform.sessions) as session:
        premises = session.get(PremisesRow, premises_id)
        assert premises is not None
        logged = book.submit(session, premises, record_type, raw, actor="rest-1/k", now=now)
    return logged.alerts_opened


def test_missing_morning_checks_and_samples_are_raised_once_per_day(
    clock: TestClock, city: City
) -> None:
    platform = city.app.state.platform
    day = clock.today() - timedelta(days=1)
    with transaction(platform.sessions) as session:
        for premises in session.execute(select(PremisesRow)).scalars():
            premises.created_at = at(day, 0)  # registered that midnight: the day before counts not

    def tick(now: datetime) -> list[str]:
        with transaction(platform.sessions) as session:
            return RecordChecks().tick(session, platform.log, now)

    assert tick(at(day, 6, 30)) == []
    submit(city, "morning_check", morning(day), at(day, 6, 45))
    opened = tick(at(day, 7, 30))
    assert [(a.premises_id, a.rule) for a in alerts(city)] == [("p-2", "morning_check_missing")]
    assert opened == [alerts(city)[0].alert_id]
    assert tick(at(day, 8, 0)) == []  # idempotent across ticks
    # Recorded after the shift began: still missed, and not raised twice.
    submit(city, "morning_check", morning(day), at(day, 9, 0), premises_id="p-2")
    assert tick(at(day, 9, 30)) == []

    submit(city, "sample_retention", sample(day, "lunch"), at(day, 12, 0))
    assert len(tick(at(day, 14, 30))) == 1
    assert len(tick(at(day, 21, 30))) == 2
    assert tick(at(day, 23, 0)) == []
    rows = alerts(city)
    assert [(a.premises_id, a.rule) for a in rows] == [
        ("p-2", "morning_check_missing"),
        ("p-2", "sample_retention_missing"),
        ("p-1", "sample_retention_missing"),
        ("p-2", "sample_retention_missing"),
    ]
    assert {(a.alert_class, a.source, a.status) for a in rows} == {(2, "record", "open")}
    assert rows[0].started_at == at(day, 7, 0)
    assert "lunch" in rows[1].detail and "dinner" in rows[2].detail
    with platform.sessions() as session:
        kinds = session.execute(
            select(EventRow.kind).where(EventRow.event_id.in_([a.breach_event_id for a in rows]))
        ).scalars()
        assert list(kinds) == ["violation"] * 4
    # The next morning catches up nothing new for the day before, and raises the new day.
    next_day = day + timedelta(days=1)
    opened = tick(at(next_day, 7, 1))
    assert {a.premises_id for a in alerts(city, started_at=at(next_day, 7, 0))} == {"p-1", "p-2"}
    assert len(opened) == 2


def test_meals_and_sample_weights_are_configurable(clock: TestClock, city: City) -> None:
    platform = city.app.state.platform
    day = clock.today() - timedelta(days=1)  # lunch at 11:30 must be past whatever the hour
    now = clock.now()
    strict = RecordPolicy(
        sample_min_grams_by_premises={"p-1": 200.0},
        meals_by_premises={"p-1": {"breakfast": time(9, 0)}},
    )
    assert submit(city, "sample_retention", sample(day, "lunch", 150), now) == []
    opened = submit(
        city,
        "sample_retention",
        sample(day, "lunch", 150),
        now,
        book=RecordBook(platform.log, strict),
    )
    assert [a.rule for a in alerts(city)] == ["sample_underweight"] and len(opened) == 1
    assert "200 g" in alerts(city)[0].detail
    with transaction(platform.sessions) as session:
        for premises in session.execute(select(PremisesRow)).scalars():
            premises.created_at = at(day, 0)
        opened = RecordChecks(strict).tick(session, platform.log, at(day, 10, 0))
    breakfast = alerts(city, rule="sample_retention_missing")
    assert [(a.premises_id, a.started_at) for a in breakfast] == [("p-1", at(day, 9, 0))]


def test_samples_kept_under_48_hours_raise_an_alert(clock: TestClock, city: City) -> None:
    day = clock.today() - timedelta(days=3)
    now = clock.now()
    kept = sample(day, "dinner", removed_at=at(day + timedelta(days=1), 12, 0).isoformat())
    assert len(submit(city, "sample_retention", kept, now)) == 1
    row = alerts(city)[0]
    assert (row.rule, row.alert_class) == ("sample_kept_too_short", 2)
    long_enough = sample(day, "dinner", removed_at=at(day + timedelta(days=2), 11, 30).isoformat())
    assert submit(city, "sample_retention", long_enough, now) == []
    with pytest.raises(RecordRejected, match="removed_at"):
        submit(
            city, "sample_retention", sample(day, "lunch", removed_at=at(day, 9).isoformat()), now
        )


@pytest.mark.parametrize(
    ("record", "meets"),
    [
        ({"method": "steam", "temperature_c": 100, "duration_min": 10}, True),
        ({"method": "steam", "temperature_c": 95, "duration_min": 30}, False),
        ({"method": "heat", "temperature_c": 100, "duration_min": 9}, False),
        ({"method": "chemical", "concentration_mg_l": 250, "duration_min": 5}, True),
        ({"method": "chemical", "concentration_mg_l": 200, "duration_min": 10}, False),
        ({"method": "uv", "duration_min": 30}, True),
        ({"method": "uv", "duration_min": 20}, False),
    ],
)
def test_disinfection_is_held_to_its_method_minimum(
    clock: TestClock, city: City, record: dict[str, Any], meets: bool
) -> None:
    day = clock.today()
    raw = {"date": day.isoformat(), "items": ["bowls"], **record}
    opened = submit(city, "disinfection", raw, clock.now())
    assert len(opened) == (0 if meets else 1)
    if not meets:
        assert {(a.rule, a.alert_class) for a in alerts(city)} == {
            ("disinfection_below_minimum", 3)
        }
    with city.app.state.platform.sessions() as session:
        summary = json.loads(session.execute(select(RecordRow.summary)).scalar_one())
    assert summary["meets_minimum"] is meets
    assert Disinfection.model_validate(raw).method == record["method"]


def test_a_batch_with_one_unacceptable_record_stores_nothing(clock: TestClock, city: City) -> None:
    platform = city.app.state.platform
    day = clock.today()
    book = RecordBook(platform.log)
    records = [
        read_records(
            (
                "date,supplier,supplier_licence,supplier_certificate_expiry,product,lot_code,"
                "quantity,unit,certificate_sha256,receiver\n"
                f"{day},Farm,SC1,{day},Eggs,L1,30,pcs,,Zhao\n"
                f"{day},Farm,SC1,{day},Eggs,L2,30,pcs,{'ab' * 32},Zhao\n"
            ).encode(),
            "purchase_inspection",
        )
    ][0]
    with platform.sessions() as session:
        before = session.scalar(select(func.count()).select_from(EventRow))
    with pytest.raises(RecordRejected) as raised, transaction(platform.sessions) as session:
        premises = session.get(PremisesRow, "p-1")
        assert premises is not None
        book.submit_many(session, premises, [r for _, r in records], actor="x", now=clock.now())
    assert [(i, p.field) for i, p in raised.value.problems] == [(1, "certificate_sha256")]
    with platform.sessions() as session:
        assert session.scalar(select(func.count()).select_from(EventRow)) == before
        assert session.scalar(select(func.count()).select_from(RecordRow)) == 0


def test_attachment_store_refuses_what_it_cannot_read(clock: TestClock, city: City) -> None:
    store = AttachmentStore()
    with transaction(city.app.state.platform.sessions) as session:
        for data, reason in (
            (b"%PDF-1.7 truncated", "truncated"),
            (
                b"\x89PNG\r\n\x1a\n" + b"\x00" * 4 + b"IHDR" + (10**5).to_bytes(4, "big") * 2,
                "pixels",
            ),
            (b"GIF89a", "not a JPEG"),
        ):
            with pytest.raises(Invalid, match=reason):
                store.store(
                    session,
                    premises_id="p-1",
                    data=data,
                    declared_type=None,
                    uploaded_by="t",
                    now=clock.now(),
                )


@pytest.mark.parametrize(
    ("cell", "refused"),
    [
        ("=cmd|' /C calc'!A0", True),
        ("+1+2", True),
        ("-2+3", True),
        ("@SUM(A1)", True),
        ("\t=1", True),
        ("\r@x", True),
        ("-18", False),
        ("+4.5", False),
        ("-1e3", False),
        ("Rice", False),
        ("", False),
    ],
)
def test_formula_cells(cell: str, refused: bool) -> None:
    assert (formula_problem(cell) is not None) is refused


def test_the_documented_headers_are_the_ones_accepted() -> None:
    from pathlib import Path

    from traceability.records.csv_import import LAYOUTS

    doc = (Path(__file__).parents[3] / "docs" / "records.md").read_text(encoding="utf-8")
    for record_type, spec in LAYOUTS.items():
        assert f"### {record_type} " in doc
        assert f"\n{spec.header}\n" in doc, record_type


def test_the_record_checks_task_runs_eagerly(clock: TestClock, city: City) -> None:
    from traceability.entrypoints.worker import RECORD_CHECKS, celery_for

    platform = city.app.state.platform
    day = clock.today() - timedelta(days=1)
    with transaction(platform.sessions) as session:
        for premises in session.execute(select(PremisesRow)).scalars():
            premises.created_at = at(day, 0)
    task = celery_for(platform).tasks[RECORD_CHECKS]
    result = task.delay(now=at(day, 7, 30).isoformat()).get(timeout=30)
    assert sorted(result["opened"]) == sorted(a.alert_id for a in alerts(city))
    assert {(a.premises_id, a.rule) for a in alerts(city)} == {
        ("p-1", "morning_check_missing"),
        ("p-2", "morning_check_missing"),
    }
    assert task.delay(now=at(day, 7, 45).isoformat()).get(timeout=30) == {"opened": []}


def test_a_gtin_with_a_wrong_check_digit_is_refused(city: City) -> None:
    from traceability.records.schemas import PurchaseInspection

    good = {
        "date": "2026-11-20",
        "supplier": "Green Valley Farm",
        "supplier_licence": "SC10633011500012",
        "supplier_certificate_expiry": "2027-01-01",
        "product": "Pak choi",
        "gtin": "06912345678902",
        "lot_code": "L-1",
        "quantity": 10,
        "unit": "kg",
        "receiver": "Wang",
    }
    assert PurchaseInspection.model_validate(good).gtin == "06912345678902"
    with pytest.raises(ValueError, match="check digit is 2"):
        PurchaseInspection.model_validate({**good, "gtin": "06912345678901"})
