"""The reads of the consumer-format exports (LIVES bundle, FHRS establishments)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.storage.models import InspectionRow, PremisesExternalIdRow, PremisesRow

_CHUNK = 500


def inspections_of_scheme(
    session: Session, scheme: str, district: str | None
) -> list[tuple[InspectionRow, PremisesRow]]:
    """Every inspection under ``scheme`` with its premises, by premises then day."""
    query = (
        select(InspectionRow, PremisesRow)
        .join(PremisesRow, PremisesRow.premises_id == InspectionRow.premises_id)
        .where(InspectionRow.scheme == scheme)
        .order_by(InspectionRow.premises_id, InspectionRow.inspected_on, InspectionRow.event_id)
    )
    if district is not None:
        query = query.where(PremisesRow.district == district)
    return [(i, p) for i, p in session.execute(query).all()]


def premises_of_scheme(session: Session, scheme: str, district: str | None) -> list[PremisesRow]:
    query = select(PremisesRow).where(PremisesRow.scheme == scheme)
    if district is not None:
        query = query.where(PremisesRow.district == district)
    return list(session.execute(query.order_by(PremisesRow.premises_id)).scalars())


def premises_page(
    session: Session, district: str | None, offset: int, limit: int
) -> list[PremisesRow]:
    query = select(PremisesRow).order_by(PremisesRow.premises_id)
    if district is not None:
        query = query.where(PremisesRow.district == district)
    return list(session.execute(query.offset(offset).limit(limit)).scalars())


def premises_count(session: Session, district: str | None) -> int:
    query = select(func.count()).select_from(PremisesRow)
    if district is not None:
        query = query.where(PremisesRow.district == district)
    return int(session.execute(query).scalar_one())


def latest_inspections(session: Session, premises_ids: Sequence[str]) -> dict[str, InspectionRow]:
    """The newest inspection (by day, then recording) of each premises that has one."""
    latest: dict[str, InspectionRow] = {}
    ids = sorted(set(premises_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(InspectionRow)
            .where(InspectionRow.premises_id.in_(ids[start : start + _CHUNK]))
            .order_by(
                InspectionRow.premises_id,
                InspectionRow.inspected_on.desc(),
                InspectionRow.recorded_at.desc(),
                InspectionRow.event_id.desc(),
            )
        ).scalars()
        for row in rows:
            latest.setdefault(row.premises_id, row)
    return latest


def external_ids(session: Session, source: str, premises_ids: Sequence[str]) -> dict[str, str]:
    """Premises id → its id under ``source``, where it has one."""
    found: dict[str, str] = {}
    ids = sorted(set(premises_ids))
    for start in range(0, len(ids), _CHUNK):
        rows = session.execute(
            select(PremisesExternalIdRow.premises_id, PremisesExternalIdRow.external_id).where(
                PremisesExternalIdRow.source == source,
                PremisesExternalIdRow.premises_id.in_(ids[start : start + _CHUNK]),
            )
        ).all()
        found.update({str(p): str(e) for p, e in rows})
    return found
