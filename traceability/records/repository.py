"""All SQL of restaurant records, received lots and the record checks."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.storage.models import PremisesRow, RecordRow


def add_all(session: Session, rows: Sequence[object]) -> None:
    session.add_all(rows)
    session.flush()


def records_page(
    session: Session,
    premises_id: str,
    *,
    record_type: str | None,
    date_from: date | None,
    date_to: date | None,
    offset: int,
    limit: int,
) -> Sequence[RecordRow]:
    query = select(RecordRow).where(RecordRow.premises_id == premises_id)
    if record_type is not None:
        query = query.where(RecordRow.record_type == record_type)
    if date_from is not None:
        query = query.where(RecordRow.record_date >= date_from)
    if date_to is not None:
        query = query.where(RecordRow.record_date <= date_to)
    query = query.order_by(
        RecordRow.record_date.desc(), RecordRow.recorded_at.desc(), RecordRow.event_id
    )
    return list(session.execute(query.offset(offset).limit(limit)).scalars())


def morning_check_recorded(session: Session, premises_id: str, day: date, by: datetime) -> bool:
    """Whether a morning check for ``day`` reached the log no later than ``by``."""
    found = session.execute(
        select(RecordRow.event_id)
        .where(
            RecordRow.premises_id == premises_id,
            RecordRow.record_type == "morning_check",
            RecordRow.record_date == day,
            RecordRow.recorded_at <= by,
        )
        .limit(1)
    ).first()
    return found is not None


def meals_sampled(session: Session, premises_id: str, day: date) -> set[str]:
    summaries = session.execute(
        select(RecordRow.summary).where(
            RecordRow.premises_id == premises_id,
            RecordRow.record_type == "sample_retention",
            RecordRow.record_date == day,
        )
    ).scalars()
    return {str(json.loads(s).get("meal")) for s in summaries}


def premises_to_check(session: Session) -> Sequence[PremisesRow]:
    return list(
        session.execute(
            select(PremisesRow)
            .where(PremisesRow.licence_status == "valid")
            .where(PremisesRow.inspection_only.is_(False))  # no daily records kept here
            .order_by(PremisesRow.premises_id)
        ).scalars()
    )
