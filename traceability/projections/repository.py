"""The reads of the projection audit: event bodies by kind, and the projection tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.storage.models import (
    AlertRow,
    AlertTransitionRow,
    DeviceRow,
    EventRow,
    GradeRow,
    InspectionRow,
    LotRow,
    ProbeDaySummaryRow,
    RecordRow,
)


def event_bodies_page(
    session: Session, kinds: Sequence[str], after: int, before: int, limit: int
) -> Sequence[tuple[int, bytes]]:
    """(leaf_index, body) of events of ``kinds`` with ``after < leaf_index < before``, in order."""
    query = (
        select(EventRow.leaf_index, EventRow.body)
        .where(EventRow.leaf_index > after, EventRow.leaf_index < before)
        .where(EventRow.kind.in_(list(kinds)))
        .order_by(EventRow.leaf_index)
        .limit(limit)
    )
    return [(int(i), bytes(b)) for i, b in session.execute(query).all()]


def _all(session: Session, model: Any) -> list[Any]:
    return list(session.execute(select(model).execution_options(populate_existing=True)).scalars())


def grades(session: Session) -> list[GradeRow]:
    return _all(session, GradeRow)


def inspections(session: Session) -> list[InspectionRow]:
    return _all(session, InspectionRow)


def records(session: Session) -> list[RecordRow]:
    return _all(session, RecordRow)


def lots(session: Session) -> list[LotRow]:
    return _all(session, LotRow)


def alerts(session: Session) -> list[AlertRow]:
    return _all(session, AlertRow)


def alert_transitions(session: Session) -> list[AlertTransitionRow]:
    return _all(session, AlertTransitionRow)


def devices(session: Session) -> list[DeviceRow]:
    return _all(session, DeviceRow)


def probe_day_summaries(session: Session) -> list[ProbeDaySummaryRow]:
    return _all(session, ProbeDaySummaryRow)
