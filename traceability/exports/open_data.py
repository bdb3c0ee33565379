"""The open-data inspection dataset: one row per official inspection, like the public
restaurant inspection datasets cities publish, with the premises' current grade and a link
to the inspection's proof bundle. No personal data: inspections name organisations only."""

from __future__ import annotations

import json
from datetime import date
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from traceability.exports import repository as repo
from traceability.exports.spreadsheet import csv_text
from traceability.storage.models import InspectionRow, PremisesRow

COLUMNS = (
    "premises_id",
    "premises_name",
    "licence_number",
    "address",
    "district",
    "inspection_date",
    "inspecting_authority",
    "score",
    "result",
    "items_failed",
    "key_items_failed",
    "current_grade",
    "grade_year",
    "event_id",
    "leaf_index",
    "proof_link",
    # Issue 18: what LIVES / FHRS consumers read.
    "city",
    "postal_code",
    "latitude",
    "longitude",
    "phone",
    "business_type",
    "scheme",
    "inspection_type",
    "rating",
    "authority_rating",
    "violation_count",
    "violation_codes",
)


def failed_counts(inspection: InspectionRow) -> tuple[int | None, int | None]:
    """(items failed, key items failed) from the published summary, None where it does not
    say (the summary is the inspection service's JSON: ``{"counts": {...}}``)."""
    try:
        summary = json.loads(inspection.summary)
    except (TypeError, ValueError):
        return None, None
    counts = summary.get("counts") if isinstance(summary, dict) else None
    if not isinstance(counts, dict):
        return None, None
    failed, key_failed = counts.get("failed"), counts.get("key_items_failed")
    return (
        failed if isinstance(failed, int) else None,
        key_failed if isinstance(key_failed, int) else None,
    )


def registry_columns(inspection: InspectionRow, premises: PremisesRow) -> dict[str, Any]:
    """The columns added for consumers of LIVES / FHRS data: the premises' registry fields
    and the inspection's scheme, type, ratings and violation codes (``;``-separated)."""
    try:
        violations = json.loads(inspection.violations)
    except (TypeError, ValueError):
        violations = []
    codes = [str(v.get("code")) for v in violations if isinstance(v, dict) and v.get("code")]
    return {
        "city": premises.city,
        "postal_code": premises.postal_code,
        "latitude": premises.latitude,
        "longitude": premises.longitude,
        "phone": premises.phone,
        "business_type": premises.business_type,
        "scheme": inspection.scheme,
        "inspection_type": inspection.inspection_type,
        "rating": inspection.rating,
        "authority_rating": inspection.authority_rating,
        "violation_count": len(violations),
        "violation_codes": ";".join(codes) or None,
    }


def inspection_records(
    session: Session,
    *,
    offset: int,
    limit: int,
    proof_base: str,
    district: str | None = None,
    premises_id: str | None = None,
    first: date | None = None,
    last: date | None = None,
) -> list[dict[str, Any]]:
    """Up to ``limit`` rows from ``offset``, oldest inspection first; each a dict keyed by
    ``COLUMNS`` (``current_grade`` is None in a no-grade period or before any grade)."""
    rows = repo.inspections_page(
        session,
        offset=offset,
        limit=limit,
        district=district,
        premises_id=premises_id,
        first=first,
        last=last,
    )
    grades = repo.latest_grades(session, [p.premises_id for _, p in rows])
    leaves = repo.leaf_indexes(session, [i.event_id for i, _ in rows])
    records = []
    for inspection, premises in rows:
        grade = grades.get(premises.premises_id)
        failed, key_failed = failed_counts(inspection)
        records.append(
            {
                "premises_id": premises.premises_id,
                "premises_name": premises.name,
                "licence_number": premises.licence_number,
                "address": premises.address,
                "district": premises.district,
                "inspection_date": inspection.inspected_on.isoformat(),
                "inspecting_authority": inspection.regulator_org,
                "score": inspection.score,
                "result": inspection.result,
                "items_failed": failed,
                "key_items_failed": key_failed,
                "current_grade": None if grade is None else grade.grade,
                "grade_year": None if grade is None else grade.year,
                "event_id": inspection.event_id,
                "leaf_index": leaves.get(inspection.event_id),
                "proof_link": proof_base + quote(inspection.event_id, safe=""),
                **registry_columns(inspection, premises),
            }
        )
    return records


def records_csv(records: list[dict[str, Any]]) -> str:
    return csv_text(COLUMNS, ([record[c] for c in COLUMNS] for record in records))
