"""Flat inspection files: one row per violation (or per inspection without any), the
business repeated on each row. The LIVES flattened form, NYC DOHMH's open data and our
own CSV are all read this way, each with its column names."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from traceability.inspections.importers.parsed import (
    Business,
    InspectionIn,
    ParsedFile,
    Refusal,
    ViolationIn,
    csv_rows,
    number_or_none,
    parse_day,
    text_or_none,
)


@dataclass(frozen=True)
class FlatColumns:
    """Which (lower-cased) column holds each field; None when the format has none."""

    business_id: str
    name: str
    address: str | None
    city: str | None
    region: str | None
    postal_code: str | None
    latitude: str | None
    longitude: str | None
    phone: str | None
    business_type: str | None
    inspection_date: str
    inspection_id: str | None
    inspection_type: str | None
    score: str | None
    rating: str | None
    violation_code: str | None
    violation_description: str | None
    violation_risk: str | None
    sub_score_prefix: str | None = None
    address_parts: tuple[str, ...] = ()
    """Columns joined (with spaces) into the address when ``address`` is None."""


NotInspection = Callable[[dict[str, str]], str | None]


def parse_flat(
    fmt: str,
    name: str,
    text: str,
    columns: FlatColumns,
    date_formats: Sequence[str],
    *,
    not_inspection: NotInspection | None = None,
    zero_is_missing_coordinate: bool = False,
) -> ParsedFile:
    parsed = ParsedFile(fmt)
    inspections: dict[tuple[str, ...], InspectionIn] = {}
    seen_violations: dict[tuple[str, ...], str] = {}
    required = [columns.business_id, columns.name, columns.inspection_date]

    def get(row: dict[str, str], column: str | None, limit: int) -> str | None:
        return None if column is None else text_or_none(row.get(column), limit)

    def coordinate(
        row: dict[str, str], column: str | None, what: str, bound: float
    ) -> float | None:
        number = None if column is None else number_or_none(row.get(column), what)
        if number is not None and zero_is_missing_coordinate and number == 0:
            return None
        if number is not None and not -bound <= number <= bound:
            raise ValueError(f"{what} {number:g} is outside ±{bound:g}")
        return number

    for where, row, raw in csv_rows(text, name, required):
        try:
            business_id = get(row, columns.business_id, 100)
            if business_id is None:
                raise ValueError(f"{columns.business_id} is missing")
            business_name = get(row, columns.name, 200)
            if business_name is None:
                raise ValueError(f"{columns.name} is missing")
            address = get(row, columns.address, 300)
            if address is None and columns.address_parts:
                joined = " ".join(row.get(c, "").strip() for c in columns.address_parts).strip()
                address = " ".join(joined.split())[:300] or None
            business = Business(
                external_id=business_id,
                name=business_name,
                address=address,
                city=get(row, columns.city, 100),
                region=get(row, columns.region, 100),
                postal_code=get(row, columns.postal_code, 20),
                latitude=coordinate(row, columns.latitude, "latitude", 90),
                longitude=coordinate(row, columns.longitude, "longitude", 180),
                phone=get(row, columns.phone, 40),
                business_type=get(row, columns.business_type, 100),
                where=where,
            )
            skip = None if not_inspection is None else not_inspection(row)
            if skip is not None:
                parsed.businesses.setdefault(business_id, business)
                parsed.skipped.append(Refusal(where, skip, raw))
                continue
            day = parse_day(row.get(columns.inspection_date), columns.inspection_date, date_formats)
            sub_scores: dict[str, float] = {}
            if columns.sub_score_prefix:
                for column, value in row.items():
                    if column.startswith(columns.sub_score_prefix) and value:
                        number = number_or_none(value, column)
                        if number is not None:
                            sub_scores[column.removeprefix(columns.sub_score_prefix)] = number
            key = (
                business_id,
                day.isoformat(),
                row.get(columns.inspection_id or "", ""),
                row.get(columns.inspection_type or "", ""),
                row.get(columns.score or "", ""),
                row.get(columns.rating or "", ""),
            )
            inspection = inspections.get(key)
            if inspection is None:
                inspection = InspectionIn(
                    where=where,
                    business_id=business_id,
                    inspected_on=day,
                    inspection_type=get(row, columns.inspection_type, 200),
                    score=None
                    if columns.score is None
                    else number_or_none(row.get(columns.score), columns.score),
                    authority_rating=get(row, columns.rating, 40),
                    sub_scores=sub_scores or None,
                    inspection_id=get(row, columns.inspection_id, 100),
                    row=raw,
                )
        except ValueError as exc:
            parsed.refused.append(Refusal(where, str(exc), raw))
            continue
        parsed.businesses.setdefault(business_id, business)
        if key not in inspections:
            inspections[key] = inspection
            parsed.inspections.append(inspection)
        code = get(row, columns.violation_code, 40)
        description = get(row, columns.violation_description, 4000)
        if code or description:
            violation_key = (*key, code or "", description or "")
            if violation_key in seen_violations:
                parsed.skipped.append(
                    Refusal(where, f"duplicate of {seen_violations[violation_key]}", raw)
                )
                continue
            seen_violations[violation_key] = where
            inspection.violations.append(
                ViolationIn(code, description, get(row, columns.violation_risk, 60))
            )
    return parsed
