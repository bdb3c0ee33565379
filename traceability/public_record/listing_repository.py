"""The read-only SQL behind the public list of premises (the landing page's search).

The text search is a case-insensitive substring match on name, address and district,
served by the text index of migration 0013 (``traceability.storage.premises_search``:
pg_trgm on PostgreSQL, FTS5 trigram on SQLite; queries of one or two characters scan).
The page's order (name) and the district filter use the indexes of migration 0012.
Problems and grades are read for one page's premises only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from traceability.storage.models import AlertRow, GradeRow, PremisesRow
from traceability.storage.premises_search import premises_matching

MAX_DISTRICTS = 500


@dataclass(frozen=True)
class OpenProblems:
    """A premises' alerts that are not closed, as the projection tables hold them."""

    total: int = 0
    class_1: int = 0
    overdue: int = 0
    yellow_cards: int = 0
    red_cards: int = 0


def _filters(session: Session, text: str | None, district: str | None) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if district is not None:
        found.append(PremisesRow.district == district)
    if text:
        found.append(premises_matching(session.get_bind().dialect.name, text))
    return found


def search(
    session: Session, *, text: str | None, district: str | None, offset: int, limit: int
) -> tuple[int, Sequence[PremisesRow]]:
    """(how many premises match, the page of them from ``offset``, by name then id)."""
    where = _filters(session, text, district)
    total = session.execute(
        select(func.count()).select_from(PremisesRow).where(*where)
    ).scalar_one()
    rows = session.execute(
        select(PremisesRow)
        .where(*where)
        .order_by(PremisesRow.name, PremisesRow.premises_id)
        .offset(offset)
        .limit(limit)
    ).scalars()
    return int(total), list(rows)


def open_problems(
    session: Session, premises_ids: Sequence[str], now: datetime
) -> dict[str, OpenProblems]:
    """Each premises' open (not closed) alerts: how many, of class 1, overdue, carded."""
    if not premises_ids:
        return {}
    overdue = and_(AlertRow.due_at.is_not(None), AlertRow.due_at < now)
    rows = session.execute(
        select(
            AlertRow.premises_id,
            func.count(),
            func.sum(case((AlertRow.alert_class == 1, 1), else_=0)),
            func.sum(case((overdue, 1), else_=0)),
            func.sum(case((AlertRow.escalation == "yellow", 1), else_=0)),
            func.sum(case((AlertRow.escalation == "red", 1), else_=0)),
        )
        .where(AlertRow.premises_id.in_(sorted(set(premises_ids))), AlertRow.status != "closed")
        .group_by(AlertRow.premises_id)
    ).all()
    return {
        pid: OpenProblems(int(n), int(c1 or 0), int(late or 0), int(y or 0), int(r or 0))
        for pid, n, c1, late, y, r in rows
    }


def current_grades(session: Session, premises_ids: Sequence[str]) -> dict[str, GradeRow]:
    """Each premises' grade of the latest year decided."""
    if not premises_ids:
        return {}
    latest = (
        select(GradeRow.premises_id, func.max(GradeRow.year).label("year"))
        .where(GradeRow.premises_id.in_(sorted(set(premises_ids))))
        .group_by(GradeRow.premises_id)
        .subquery()
    )
    rows = session.execute(
        select(GradeRow).join(
            latest,
            and_(GradeRow.premises_id == latest.c.premises_id, GradeRow.year == latest.c.year),
        )
    ).scalars()
    return {row.premises_id: row for row in rows}


def districts(session: Session) -> list[str]:
    """The districts that have premises, in order (the search form's choices)."""
    rows = session.execute(
        select(PremisesRow.district).distinct().order_by(PremisesRow.district).limit(MAX_DISTRICTS)
    ).scalars()
    return list(rows)
