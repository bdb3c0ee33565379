"""All SQL of the exports: read-only queries over lots, inspections, grades and the log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from traceability.storage.models import (
    DeviceRow,
    EventRow,
    GradeRow,
    InspectionRow,
    LotRow,
    PremisesRow,
)
from traceability.transparency.events import EventKind


def device_subjects(session: Session, premises_id: str) -> list[str]:
    """The log subjects (``device:<id>``) of the probes registered at a premises."""
    ids = session.execute(
        select(DeviceRow.device_id)
        .where(DeviceRow.premises_id == premises_id)
        .order_by(DeviceRow.device_id)
    ).scalars()
    return [f"device:{device_id}" for device_id in ids]


def _during(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(EventRow.occurred_at >= start, EventRow.occurred_at < end)


def _readings_where(subjects: Sequence[str], start: datetime, end: datetime) -> Any:
    return and_(
        EventRow.kind == EventKind.PROBE_READING.value,
        EventRow.subject.in_(list(subjects)),
        _during(start, end),
    )


def count_epcis_events(
    session: Session, premises_id: str, subjects: Sequence[str], start: datetime, end: datetime
) -> int:
    """How many receipts, probe readings and inspections of a premises fall in [start, end)."""
    receipts = session.execute(
        select(func.count())
        .select_from(LotRow)
        .join(EventRow, EventRow.event_id == LotRow.event_id)
        .where(LotRow.premises_id == premises_id, _during(start, end))
    ).scalar_one()
    inspections = session.execute(
        select(func.count())
        .select_from(InspectionRow)
        .join(EventRow, EventRow.event_id == InspectionRow.event_id)
        .where(InspectionRow.premises_id == premises_id, _during(start, end))
    ).scalar_one()
    readings = 0
    if subjects:
        readings = session.execute(
            select(func.count()).select_from(EventRow).where(_readings_where(subjects, start, end))
        ).scalar_one()
    return int(receipts) + int(inspections) + int(readings)


def receipts_in(
    session: Session, premises_id: str, start: datetime, end: datetime
) -> list[tuple[LotRow, EventRow]]:
    rows = session.execute(
        select(LotRow, EventRow)
        .join(EventRow, EventRow.event_id == LotRow.event_id)
        .where(LotRow.premises_id == premises_id, _during(start, end))
        .order_by(EventRow.leaf_index)
    ).all()
    return [(lot, event) for lot, event in rows]


def readings_in(
    session: Session, subjects: Sequence[str], start: datetime, end: datetime
) -> list[EventRow]:
    if not subjects:
        return []
    return list(
        session.execute(
            select(EventRow)
            .where(_readings_where(subjects, start, end))
            .order_by(EventRow.leaf_index)
        ).scalars()
    )


def inspections_in(
    session: Session, premises_id: str, start: datetime, end: datetime
) -> list[tuple[InspectionRow, EventRow]]:
    rows = session.execute(
        select(InspectionRow, EventRow)
        .join(EventRow, EventRow.event_id == InspectionRow.event_id)
        .where(InspectionRow.premises_id == premises_id, _during(start, end))
        .order_by(EventRow.leaf_index)
    ).all()
    return [(inspection, event) for inspection, event in rows]


def lot_receipts(
    session: Session,
    *,
    lot_code: str,
    gtin: str | None,
    first: date,
    last: date,
    premises_ids: Sequence[str] | None,
    limit: int,
) -> list[tuple[LotRow, EventRow | None]]:
    """Receipts of a lot code received in [first, last], optionally of one GTIN, at the given
    premises (None: all), sorted by date received, premises, then log order."""
    query = (
        select(LotRow, EventRow)
        .outerjoin(EventRow, EventRow.event_id == LotRow.event_id)
        .where(LotRow.lot_code == lot_code, LotRow.received_on.between(first, last))
        .order_by(LotRow.received_on, LotRow.premises_id, EventRow.leaf_index, LotRow.id)
        .limit(limit)
    )
    if gtin is not None:
        query = query.where(LotRow.gtin == gtin)
    if premises_ids is not None:
        query = query.where(LotRow.premises_id.in_(list(premises_ids)))
    return [(lot, event) for lot, event in session.execute(query).all()]


def inspections_page(
    session: Session,
    *,
    offset: int,
    limit: int,
    district: str | None = None,
    premises_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[tuple[InspectionRow, PremisesRow]]:
    """Inspections with their premises, oldest first (a stable order for paging)."""
    query = select(InspectionRow, PremisesRow).join(
        PremisesRow, PremisesRow.premises_id == InspectionRow.premises_id
    )
    if district is not None:
        query = query.where(PremisesRow.district == district)
    if premises_id is not None:
        query = query.where(InspectionRow.premises_id == premises_id)
    if first is not None:
        query = query.where(InspectionRow.inspected_on >= first)
    if last is not None:
        query = query.where(InspectionRow.inspected_on <= last)
    query = query.order_by(InspectionRow.inspected_on, InspectionRow.event_id)
    rows = session.execute(query.offset(offset).limit(limit)).all()
    return [(inspection, premises) for inspection, premises in rows]


def latest_grades(session: Session, premises_ids: Sequence[str]) -> dict[str, GradeRow]:
    """The most recent year's grade decision of each premises that has one."""
    if not premises_ids:
        return {}
    rows = session.execute(
        select(GradeRow)
        .where(GradeRow.premises_id.in_(sorted(set(premises_ids))))
        .order_by(GradeRow.premises_id, GradeRow.year.desc())
    ).scalars()
    latest: dict[str, GradeRow] = {}
    for row in rows:
        latest.setdefault(row.premises_id, row)
    return latest


def leaf_indexes(session: Session, event_ids: Sequence[str]) -> dict[str, int]:
    if not event_ids:
        return {}
    rows = session.execute(
        select(EventRow.event_id, EventRow.leaf_index).where(
            EventRow.event_id.in_(sorted(set(event_ids)))
        )
    ).all()
    return {event_id: int(index) for event_id, index in rows}
