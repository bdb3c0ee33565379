"""All SQL of the demo: the counts its printout and its summary report."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.storage.models import AlertRow


def alert_counts(session: Session) -> dict[str, int]:
    """Alerts by status."""
    rows = session.execute(select(AlertRow.status, func.count()).group_by(AlertRow.status)).all()
    return {str(status): int(count) for status, count in rows}


def first_breach_event(session: Session, rule: str) -> str | None:
    """The breach event of the first alert raised by ``rule`` (the printout's proof example)."""
    return session.execute(
        select(AlertRow.breach_event_id)
        .where(AlertRow.rule == rule)
        .order_by(AlertRow.opened_at)
        .limit(1)
    ).scalar_one_or_none()
