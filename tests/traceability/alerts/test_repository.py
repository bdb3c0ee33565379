"""The alerts repository's queries for other domains, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from traceability.alerts.repository import AlertCount, alert_counts
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import AlertRow

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def add_alert(
    session: Session, n: int, alert_class: int, status: str, escalation: str | None = None
) -> None:
    row = AlertRow(
        alert_id=f"a-{n}",
        premises_id="p-1",
        subject="premises:p-1",
        source="probe",
        rule="cold_holding",
        alert_class=alert_class,
        status=status,
        detail="fridge at 9.1 °C for 40 min",
        started_at=NOW - timedelta(minutes=40),
        opened_at=NOW + timedelta(minutes=n),
        breach_event_id=f"e-{n}",
    )
    if escalation is not None:  # else the column's default, as a newly raised alert has
        row.escalation = escalation
    session.add(row)


def test_alert_counts_group_by_class_status_and_card(settings: Settings) -> None:
    engine, sessions, _log, _signer = open_platform(settings)
    try:
        with sessions() as session:
            assert alert_counts(session) == []
        with transaction(sessions) as session:
            add_alert(session, 1, 2, "open")
            add_alert(session, 2, 2, "open")
            add_alert(session, 3, 2, "open", "yellow")
            add_alert(session, 4, 1, "acknowledged", "red")
            add_alert(session, 5, 2, "closed", "red")
            add_alert(session, 6, 1, "acknowledged", "red")
        with sessions() as session:
            counts = alert_counts(session)
        assert counts == [
            AlertCount(1, "acknowledged", "red", 2),
            AlertCount(2, "closed", "red", 1),
            AlertCount(2, "open", "none", 2),
            AlertCount(2, "open", "yellow", 1),
        ]
    finally:
        engine.dispose()
