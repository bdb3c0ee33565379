"""Probe day summaries are logged facts that anyone can recompute from the readings they name.

Fixed instants throughout: nothing depends on the wall clock or the time of day.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from seeded_city import City
from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.devices.registry import DeviceRegistry
from traceability.public_record import summary_repository
from traceability.public_record.day_summaries import DaySummaries
from traceability.public_record.summaries import (
    LoggedReading,
    SummaryWindow,
    day_end,
    recompute,
    summarise_day,
)
from traceability.storage.db import transaction
from traceability.storage.models import EventRow, PremisesRow, ProbeDaySummaryRow
from traceability.transparency.events import (
    EventKind,
    PreparedEvent,
    ProbeDaySummary,
    prepared,
    rfc3339,
)
from traceability.transparency.ingest import Ingest

NOW = datetime(2026, 3, 10, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
DEVICE = "fr-sum"


def _reading(seq: int, at: datetime, celsius: float) -> PreparedEvent:
    text = rfc3339(at)
    return prepared(
        event_id=f"00000000-0000-4000-8000-{seq:012d}",
        kind=EventKind.PROBE_READING,
        subject=f"device:{DEVICE}",
        occurred_at=at,
        occurred_text=text,
        recorded_at=at,
        recorded_text=text,
        payload={
            "device_id": DEVICE,
            "seq": seq,
            "measured_at": text,
            "values": [{"type": "Temperature", "value": celsius, "uom": "CEL"}],
        },
    )


def _seed(city: City) -> tuple[str, int]:
    """A fridge at p-1 registered two days before NOW, a reading every 10 minutes since,
    all at 4 °C but one at 11 °C (out of the fridge's 8 °C limit) yesterday at 10:00 local."""
    platform = city.app.state.platform
    with transaction(platform.sessions) as session:
        zone = session.execute(
            select(PremisesRow.timezone).where(PremisesRow.premises_id == "p-1")
        ).scalar_one()
        DeviceRegistry().register_device(
            session,
            device_id=DEVICE,
            premises_id="p-1",
            location="walk-in fridge",
            kind="fridge",
            profile="cn",
            public_key=Ed25519PrivateKey.generate()
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw),
            now=NOW - timedelta(days=2),
        )
        hot = datetime.combine(
            NOW.astimezone(ZoneInfo(zone)).date() - timedelta(days=1),
            datetime.min.time().replace(hour=10),
            ZoneInfo(zone),
        ).astimezone(UTC)
        events = []
        at, seq = NOW - timedelta(days=2), 0
        while at < NOW:
            seq += 1
            events.append(_reading(seq, at, 11.0 if at == hot else 4.0))
            at += timedelta(minutes=10)
        Ingest(platform.log).append(session, events)
    return zone, seq


def _logged(session: Session) -> list[tuple[ProbeDaySummaryRow, dict[str, object]]]:
    rows = session.execute(
        select(ProbeDaySummaryRow).where(ProbeDaySummaryRow.device_id == DEVICE)
    ).scalars()
    out = []
    for row in rows:
        body = session.execute(
            select(EventRow.body).where(EventRow.event_id == row.event_id)
        ).scalar_one()
        out.append((row, json.loads(body)))
    return out


def test_summaries_are_logged_and_recomputable_from_the_readings_they_name(city: City) -> None:
    zone, count = _seed(city)
    platform = city.app.state.platform
    summaries = DaySummaries(platform.log)
    with transaction(platform.sessions) as session:
        report = summaries.tick(session, NOW)
    assert report.running >= 1 and report.closed >= 2
    with platform.sessions() as session:
        logged = _logged(session)
        today = NOW.astimezone(ZoneInfo(zone)).date()
        assert {row.day for row, _ in logged} == {today - timedelta(days=n) for n in (0, 1, 2)}
        assert sum(row.count for row, _ in logged) == count
        for row, event in logged:
            payload = event["payload"]
            assert isinstance(payload, dict)
            ProbeDaySummary.model_validate(payload)
            assert event["kind"] == "probe_day_summary" and event["subject"] == f"device:{DEVICE}"
            assert (row.status == "running") == (row.day == today)
            named = summary_repository.readings_in_leaf_range(
                session, DEVICE, row.first_leaf_index or 0, row.last_leaf_index or 0
            )
            readings = [LoggedReading(i, body) for i, body in named]
            # Anyone recomputes the summary from the readings it names: the same payload.
            assert recompute(payload, readings) == payload
            # The cache row says what the event says.
            assert (row.count, row.min, row.max, row.mean) == (
                payload["count"],
                payload["min"],
                payload["max"],
                payload["mean"],
            )
            if row.day == today - timedelta(days=1):
                # One reading at 11 °C, held until the next one 10 minutes later.
                assert (payload["max"], payload["minutes_out_of_range"]) == (11.0, 10.0)
                assert payload["through"] == rfc3339(day_end(row.day, zone))
                # A changed reading no longer matches what the summary committed to.
                first = readings[0]
                changed = first.body.replace(b'"value":4', b'"value":5', 1)
                assert changed != first.body
                again = recompute(
                    payload, [LoggedReading(first.leaf_index, changed), *readings[1:]]
                )
                assert again["readings_sha256"] != payload["readings_sha256"]
                assert again["mean"] != payload["mean"]

    # Within the cadence nothing is due; after local midnight today closes.
    with transaction(platform.sessions) as session:
        quiet = summaries.tick(session, NOW + timedelta(minutes=5))
    assert (quiet.closed, quiet.running) == (0, 0)
    midnight = day_end(today, zone)
    with transaction(platform.sessions) as session:
        summaries.tick(session, midnight + timedelta(minutes=1))
    with platform.sessions() as session:
        closed = {row.day: (row, event) for row, event in _logged(session)}[today]
    assert closed[0].status == "closed"
    assert closed[1]["payload"]["through"] == rfc3339(midnight)  # type: ignore[index]


def test_summarise_day_is_pure_and_ignores_what_it_does_not_cover() -> None:
    window = SummaryWindow(
        device_id=DEVICE,
        day=NOW.date(),
        timezone="UTC",
        status="closed",
        through=day_end(NOW.date(), "UTC"),
        band=None,
        silent_after=timedelta(minutes=30),
    )
    inside = _reading(1, NOW, 3.5)
    outside = _reading(2, NOW + timedelta(days=1), 9.0)
    payload = summarise_day(
        [LoggedReading(7, inside.body), LoggedReading(8, outside.body)],
        window,
    )
    assert (payload["count"], payload["min"], payload["first_leaf_index"]) == (1, 3.5, 7)
    assert payload["minutes_out_of_range"] is None and payload["last_leaf_index"] == 7
    empty = summarise_day([], window)
    assert empty["count"] == 0 and empty["first_leaf_index"] is None
    assert empty["readings_sha256"] == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )


def test_the_audit_recomputes_every_summary_and_names_a_false_one(city: City) -> None:
    """The projection audit re-derives ``probe_day_summaries`` from the readings each summary
    names: an edited cache row is named, and so is a logged summary that misstates them."""
    from traceability.projections.audit import audit_projections

    _seed(city)
    platform = city.app.state.platform
    with transaction(platform.sessions) as session:
        DaySummaries(platform.log).tick(session, NOW)

    def findings() -> list[tuple[str, str]]:
        with platform.sessions() as session:
            report = audit_projections(session, platform.log.size(session))
        return [(f.table, f.field) for f in report.findings]

    assert findings() == []
    with transaction(platform.sessions) as session:
        row = session.execute(
            select(ProbeDaySummaryRow).where(ProbeDaySummaryRow.device_id == DEVICE).limit(1)
        ).scalar_one()
        row.max = 3.0  # the cache says the day was cooler than its readings
    assert ("probe_day_summaries", "max") in findings()

    # A summary event that lies about its readings, its cache row copying the lie.
    with transaction(platform.sessions) as session:
        row.max = None  # restored below from the lying event
        honest = json.loads(
            session.execute(
                select(EventRow.body).where(EventRow.event_id == row.event_id)
            ).scalar_one()
        )
        lie = {**honest["payload"], "count": honest["payload"]["count"] - 1}
        forged = prepared(
            event_id="00000000-0000-4000-9000-000000000001",
            kind=EventKind.PROBE_DAY_SUMMARY,
            subject=f"device:{DEVICE}",
            occurred_at=NOW,
            occurred_text=rfc3339(NOW),
            recorded_at=NOW,
            recorded_text=rfc3339(NOW),
            payload=lie,
        )
        Ingest(platform.log).append(session, [forged])
        stored = session.merge(row)
        for name in ("count", "min", "mean", "max"):
            setattr(stored, name, lie[name])
        stored.event_id = forged.event_id
    assert ("probe_day_summaries", "count") in findings()
