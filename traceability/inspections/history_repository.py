"""All SQL of importing inspection history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.storage.models import InspectionRow, PremisesExternalIdRow, PremisesRow

CHUNK = 500


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


def external_ids(session: Session, source: str) -> dict[str, str]:
    """External id → premises id, for one source."""
    rows = session.execute(
        select(PremisesExternalIdRow.external_id, PremisesExternalIdRow.premises_id).where(
            PremisesExternalIdRow.source == source
        )
    ).all()
    return {str(e): str(p) for e, p in rows}


def external_ids_of(
    session: Session, premises_ids: Sequence[str]
) -> dict[str, list[tuple[str, str]]]:
    """Premises id → [(source, external id)]."""
    found: dict[str, list[tuple[str, str]]] = {}
    for chunk in _chunks(premises_ids):
        for row in session.execute(
            select(PremisesExternalIdRow).where(PremisesExternalIdRow.premises_id.in_(chunk))
        ).scalars():
            found.setdefault(row.premises_id, []).append((row.source, row.external_id))
    return found


def existing_premises(session: Session, premises_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(premises_ids):
        found.update(
            session.execute(
                select(PremisesRow.premises_id).where(PremisesRow.premises_id.in_(chunk))
            ).scalars()
        )
    return found


def districts_other_than(
    session: Session, premises_ids: Sequence[str], district: str
) -> dict[str, str]:
    """Premises id → district, for those of ``premises_ids`` outside ``district``."""
    found: dict[str, str] = {}
    for chunk in _chunks(premises_ids):
        rows = session.execute(
            select(PremisesRow.premises_id, PremisesRow.district).where(
                PremisesRow.premises_id.in_(chunk), PremisesRow.district != district
            )
        ).all()
        found.update({str(p): str(d) for p, d in rows})
    return found


def premises_by_ids(session: Session, premises_ids: Sequence[str]) -> dict[str, PremisesRow]:
    found: dict[str, PremisesRow] = {}
    for chunk in _chunks(premises_ids):
        for row in session.execute(
            select(PremisesRow).where(PremisesRow.premises_id.in_(chunk))
        ).scalars():
            found[row.premises_id] = row
    return found


def existing_inspections(session: Session, event_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(event_ids):
        found.update(
            session.execute(
                select(InspectionRow.event_id).where(InspectionRow.event_id.in_(chunk))
            ).scalars()
        )
    return found


def add_all(session: Session, rows: Sequence[object]) -> None:
    session.add_all(rows)
    session.flush()
