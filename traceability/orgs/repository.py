"""All SQL of organisations, premises and API keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from traceability.storage.models import (
    ApiKeyRow,
    OrganisationRow,
    PremisesExternalIdRow,
    PremisesRow,
)
from traceability.storage.premises_search import premises_matching


def organisation(session: Session, org_id: str) -> OrganisationRow | None:
    return session.get(OrganisationRow, org_id)


def organisations(
    session: Session, *, offset: int = 0, limit: int = 10_000
) -> Sequence[OrganisationRow]:
    return list(
        session.execute(
            select(OrganisationRow).order_by(OrganisationRow.org_id).offset(offset).limit(limit)
        ).scalars()
    )


def premises(session: Session, premises_id: str) -> PremisesRow | None:
    return session.get(PremisesRow, premises_id)


def premises_by_licence(session: Session, licence_number: str) -> PremisesRow | None:
    return session.execute(
        select(PremisesRow).where(PremisesRow.licence_number == licence_number)
    ).scalar_one_or_none()


def premises_by_external_id(session: Session, source: str, external_id: str) -> str | None:
    row = session.get(PremisesExternalIdRow, (source, external_id))
    return None if row is None else row.premises_id


def external_ids(session: Session, premises_id: str) -> dict[str, str]:
    """Source → the premises' id there."""
    rows = session.execute(
        select(PremisesExternalIdRow).where(PremisesExternalIdRow.premises_id == premises_id)
    ).scalars()
    return {r.source: r.external_id for r in rows}


def premises_list(
    session: Session,
    *,
    org_id: str | None = None,
    districts: Sequence[str] | None = None,
    text: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> Sequence[PremisesRow]:
    """By id; with ``text`` (in the name, address or district, any case; the text index of
    migration 0013), by name then id, as a picker lists them."""
    query = select(PremisesRow).order_by(PremisesRow.premises_id)
    if text:
        dialect = session.get_bind().dialect.name
        query = (
            select(PremisesRow)
            .where(premises_matching(dialect, text))
            .order_by(PremisesRow.name, PremisesRow.premises_id)
        )
    if org_id is not None:
        query = query.where(PremisesRow.org_id == org_id)
    if districts is not None:
        query = query.where(PremisesRow.district.in_(list(districts)))
    return list(session.execute(query.offset(offset).limit(limit)).scalars())


def premises_count(
    session: Session, *, org_id: str | None = None, districts: Sequence[str] | None = None
) -> int:
    query = select(func.count()).select_from(PremisesRow)
    if org_id is not None:
        query = query.where(PremisesRow.org_id == org_id)
    if districts is not None:
        query = query.where(PremisesRow.district.in_(list(districts)))
    return int(session.execute(query).scalar_one())


def premises_ids_of(session: Session, org_id: str) -> list[str]:
    return list(
        session.execute(select(PremisesRow.premises_id).where(PremisesRow.org_id == org_id))
        .scalars()
        .all()
    )


def api_key(session: Session, key_id: str) -> ApiKeyRow | None:
    return session.get(ApiKeyRow, key_id)


def add(session: Session, row: object) -> None:
    session.add(row)
    session.flush()
