"""All SQL of inspections and grades."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.storage.models import GradeRow, InspectionRow


def add_inspection(session: Session, row: InspectionRow) -> None:
    session.add(row)
    session.flush()


def inspections_of(
    session: Session, premises_id: str, *, offset: int, limit: int
) -> Sequence[InspectionRow]:
    """Newest first."""
    return list(
        session.execute(
            select(InspectionRow)
            .where(InspectionRow.premises_id == premises_id)
            .order_by(InspectionRow.inspected_on.desc(), InspectionRow.recorded_at.desc())
            .offset(offset)
            .limit(limit)
        ).scalars()
    )


def inspections_between(
    session: Session, premises_id: str, first: date, last: date, *, limit: int
) -> Sequence[InspectionRow]:
    """Inspected on ``first`` .. ``last`` (inclusive), oldest first."""
    return list(
        session.execute(
            select(InspectionRow)
            .where(
                InspectionRow.premises_id == premises_id,
                InspectionRow.inspected_on >= first,
                InspectionRow.inspected_on <= last,
            )
            .order_by(InspectionRow.inspected_on, InspectionRow.recorded_at)
            .limit(limit)
        ).scalars()
    )


def latest_inspection(session: Session, premises_id: str) -> InspectionRow | None:
    rows = inspections_of(session, premises_id, offset=0, limit=1)
    return rows[0] if rows else None


def grade(session: Session, premises_id: str, year: int) -> GradeRow | None:
    return session.get(GradeRow, (premises_id, year))


def grades_of(session: Session, premises_id: str, *, offset: int, limit: int) -> Sequence[GradeRow]:
    """Newest year first."""
    return list(
        session.execute(
            select(GradeRow)
            .where(GradeRow.premises_id == premises_id)
            .order_by(GradeRow.year.desc())
            .offset(offset)
            .limit(limit)
        ).scalars()
    )


def current_grade(session: Session, premises_id: str) -> GradeRow | None:
    """The grade of the latest year decided."""
    rows = grades_of(session, premises_id, offset=0, limit=1)
    return rows[0] if rows else None
