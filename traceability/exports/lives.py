"""A LIVES 1.0 bundle (zip of businesses, inspections, violations, legend, feed_info CSVs)
of the inspections under one scheme, proof-linked.

Each business is named by its id under the chosen source (the id it was imported
with), else by its premises id. Beyond the LIVES columns, businesses carry
``premises_id`` and every inspection and violation row carries its inspection's
``event_id`` and ``proof_link``: what the row says is in that logged event. The
legend is the scheme's bands. A LIVES bundle imported and exported again gives the
same rows and fields.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from traceability.exports import consumer_repository as repo
from traceability.exports.spreadsheet import neutralised
from traceability.rules.schemes import load_scheme

BUSINESS_COLUMNS = (
    "business_id",
    "name",
    "address",
    "city",
    "state",
    "postal_code",
    "latitude",
    "longitude",
    "phone_number",
    "premises_id",
)
INSPECTION_COLUMNS = (
    "business_id",
    "score",
    "date",
    "description",
    "type",
    "event_id",
    "proof_link",
)
VIOLATION_COLUMNS = (
    "business_id",
    "date",
    "code",
    "description",
    "risk_category",
    "event_id",
    "proof_link",
)
LEGEND_COLUMNS = ("minimum_score", "maximum_score", "description")
FEED_COLUMNS = (
    "feed_date",
    "feed_version",
    "municipality_name",
    "municipality_url",
    "contact_email",
)
# A plain number or an international phone number cannot run as a formula: kept as is.
_LITERAL = re.compile(r"^[+-]?[0-9]+(\.[0-9]+)?$")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        value = f"{value:.10g}"
    text = str(value)
    return text if _LITERAL.match(text) else neutralised(text)


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(c) for c in row])
    return out.getvalue().encode("utf-8")


def lives_tables(
    session: Session,
    *,
    scheme: str,
    source: str,
    district: str | None,
    proof_base: str,
    municipality: str,
    feed_date: date,
) -> dict[str, list[dict[str, Any]]]:
    """The five LIVES tables as rows (dicts keyed by their columns)."""
    rules = load_scheme(scheme)
    premises = repo.premises_of_scheme(session, scheme, district)
    inspections = repo.inspections_of_scheme(session, scheme, district)
    named = repo.external_ids(session, source, [p.premises_id for p in premises])

    def business_id(premises_id: str) -> str:
        return named.get(premises_id, premises_id)

    businesses = [
        {
            "business_id": business_id(p.premises_id),
            "name": p.name,
            "address": p.address or None,
            "city": p.city,
            "state": p.region,
            "postal_code": p.postal_code,
            "latitude": p.latitude,
            "longitude": p.longitude,
            "phone_number": p.phone,
            "premises_id": p.premises_id,
        }
        for p in premises
    ]
    rows: list[dict[str, Any]] = []
    violations: list[dict[str, Any]] = []
    for inspection, place in inspections:
        day = inspection.inspected_on.strftime("%Y%m%d")
        link = proof_base + quote(inspection.event_id, safe="")
        bid = business_id(place.premises_id)
        rows.append(
            {
                "business_id": bid,
                "score": inspection.score,
                "date": day,
                "description": None,
                "type": inspection.inspection_type,
                "event_id": inspection.event_id,
                "proof_link": link,
            }
        )
        for v in json.loads(inspection.violations):
            violations.append(
                {
                    "business_id": bid,
                    "date": day,
                    "code": v.get("code"),
                    "description": v.get("description"),
                    "risk_category": v.get("risk_category"),
                    "event_id": inspection.event_id,
                    "proof_link": link,
                }
            )
    legend = []
    for band in rules.bands:
        if band.min is None and band.max is None and band.below is None:
            continue
        high = (
            band.max
            if band.max is not None
            else (band.below - 0.01 if band.below is not None else rules.score.max)
        )
        legend.append(
            {"minimum_score": band.min, "maximum_score": high, "description": band.rating}
        )
    feed = [
        {
            "feed_date": feed_date.isoformat(),
            "feed_version": "1.0",
            "municipality_name": municipality,
            "municipality_url": None,
            "contact_email": None,
        }
    ]
    return {
        "businesses.csv": businesses,
        "inspections.csv": rows,
        "violations.csv": violations,
        "legend.csv": legend,
        "feed_info.csv": feed,
    }


COLUMNS_OF = {
    "businesses.csv": BUSINESS_COLUMNS,
    "inspections.csv": INSPECTION_COLUMNS,
    "violations.csv": VIOLATION_COLUMNS,
    "legend.csv": LEGEND_COLUMNS,
    "feed_info.csv": FEED_COLUMNS,
}


def lives_zip(tables: dict[str, list[dict[str, Any]]]) -> bytes:
    """The tables as a LIVES zip (UTF-8 CSVs; spreadsheet-safe cells)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, columns in COLUMNS_OF.items():
            rows = tables[name]
            archive.writestr(name, _csv(columns, ([r[c] for c in columns] for r in rows)))
    return out.getvalue()
