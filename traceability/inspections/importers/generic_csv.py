"""Our own flat CSV (docs/inspection-import.md): one row per violation, or per
inspection without any; ISO dates; sub-scores in ``sub_score_<name>`` columns."""

from __future__ import annotations

from traceability.inspections.importers.flat import FlatColumns, parse_flat
from traceability.inspections.importers.parsed import ParsedFile

COLUMNS = FlatColumns(
    business_id="business_id",
    name="business_name",
    address="address",
    city="city",
    region="region",
    postal_code="postal_code",
    latitude="latitude",
    longitude="longitude",
    phone="phone",
    business_type="business_type",
    inspection_date="inspection_date",
    inspection_id="inspection_id",
    inspection_type="inspection_type",
    score="score",
    rating="rating",
    violation_code="violation_code",
    violation_description="violation_description",
    violation_risk="violation_risk_category",
    sub_score_prefix="sub_score_",
)


def parse_csv(name: str, text: str) -> ParsedFile:
    return parse_flat("csv", name, text, COLUMNS, ["%Y-%m-%d"])
