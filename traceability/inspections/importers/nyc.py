"""NYC DOHMH Restaurant Inspection Results (open data): one row per violation cited.

Columns used: CAMIS, DBA, BORO, BUILDING, STREET, ZIPCODE, PHONE, CUISINE DESCRIPTION,
INSPECTION DATE (MM/DD/YYYY), INSPECTION TYPE, VIOLATION CODE, VIOLATION DESCRIPTION,
CRITICAL FLAG, SCORE, GRADE, Latitude, Longitude. An establishment not yet inspected
carries the date 01/01/1900: read as a business, skipped as an inspection. A
coordinate of 0 means none.
"""

from __future__ import annotations

from traceability.inspections.importers.flat import FlatColumns, parse_flat
from traceability.inspections.importers.parsed import ParsedFile

COLUMNS = FlatColumns(
    business_id="camis",
    name="dba",
    address=None,
    address_parts=("building", "street"),
    city="boro",
    region=None,
    postal_code="zipcode",
    latitude="latitude",
    longitude="longitude",
    phone="phone",
    business_type="cuisine description",
    inspection_date="inspection date",
    inspection_id=None,
    inspection_type="inspection type",
    score="score",
    rating="grade",
    violation_code="violation code",
    violation_description="violation description",
    violation_risk="critical flag",
)
AUTHORITY = "NYC DOHMH"


def _not_inspected(row: dict[str, str]) -> str | None:
    if row.get("inspection date", "").strip() in ("01/01/1900", "1/1/1900"):
        return "not inspected yet (INSPECTION DATE 01/01/1900)"
    return None


def parse_nyc(name: str, text: str) -> ParsedFile:
    parsed = parse_flat(
        "nyc",
        name,
        text,
        COLUMNS,
        ["%m/%d/%Y", "%Y-%m-%dT%H:%M:%S.%f", "%Y-%m-%d"],
        not_inspection=_not_inspected,
        zero_is_missing_coordinate=True,
    )
    parsed.authority = AUTHORITY
    return parsed
