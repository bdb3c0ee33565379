"""LIVES feeds: the 1.0 bundle (businesses, inspections, violations, legend, feed_info CSVs;
a zip or a directory) and the later flattened form (one CSV, ISO dates, prefixed columns).

LIVES 1.0 dates are YYYYMMDD. Violations name a business and a day, not an
inspection: when a business had several inspections that day, its violations go
to the first of them in the file (a scored one if there is exactly one).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path

from traceability.errors import Invalid
from traceability.inspections.importers.flat import FlatColumns, parse_flat
from traceability.inspections.importers.parsed import (
    Business,
    InspectionIn,
    ParsedFile,
    Refusal,
    ViolationIn,
    csv_rows,
    decode,
    number_or_none,
    parse_day,
    text_or_none,
)

BUNDLE_FILES = (
    "businesses.csv",
    "inspections.csv",
    "violations.csv",
    "legend.csv",
    "feed_info.csv",
)
MAX_BUNDLE_BYTES = 1 << 30


def bundle_files(path: Path) -> dict[str, bytes]:
    """The CSV files of a LIVES bundle given as a zip, a directory, or one flat CSV."""
    if path.is_dir():
        return {n: (path / n).read_bytes() for n in BUNDLE_FILES if (path / n).is_file()}
    data = path.read_bytes()
    if zipfile.is_zipfile(io.BytesIO(data)):
        return zip_files(data, path.name)
    return {path.name: data}


def zip_files(data: bytes, name: str) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise Invalid(f"{name} is not a readable zip: {exc}") from None
    files: dict[str, bytes] = {}
    total = 0
    for info in archive.infolist():
        base = info.filename.rsplit("/", 1)[-1].lower()
        if base not in BUNDLE_FILES:
            continue
        total += info.file_size
        if total > MAX_BUNDLE_BYTES:
            raise Invalid(f"{name} unpacks to more than {MAX_BUNDLE_BYTES} bytes")
        files[base] = archive.read(info)
    return files


def parse_lives(files: Mapping[str, bytes], encoding: str) -> ParsedFile:
    if "inspections.csv" in files or "businesses.csv" in files:
        return _parse_bundle(files, encoding)
    if len(files) == 1:
        [(name, data)] = files.items()
        return _parse_flat(name, decode(data, encoding, name))
    raise Invalid(
        "a LIVES feed needs businesses.csv and inspections.csv (a zip or a directory), "
        "or one flattened CSV; found: " + (", ".join(sorted(files)) or "nothing")
    )


def _business(where: str, row: dict[str, str], prefix: str = "") -> Business:
    def get(name: str, limit: int) -> str | None:
        return text_or_none(row.get(prefix + name), limit)

    business_id = get("id", 100)
    name = get("name", 200)
    if business_id is None:
        raise ValueError(f"{prefix}id is missing")
    if name is None:
        raise ValueError(f"{prefix}name is missing")
    return Business(
        external_id=business_id,
        name=name,
        address=get("address", 300),
        city=get("city", 100),
        region=get("state", 100),
        postal_code=get("postal_code", 20),
        latitude=_coordinate(row.get(prefix + "latitude"), "latitude", 90),
        longitude=_coordinate(row.get(prefix + "longitude"), "longitude", 180),
        phone=get("phone_number", 40),
        business_type=get("business_type", 100) if prefix else None,
        where=where,
    )


def _coordinate(value: str | None, what: str, bound: float) -> float | None:
    number = number_or_none(value, what)
    if number is not None and not -bound <= number <= bound:
        raise ValueError(f"{what} {number:g} is outside ±{bound:g}")
    return number


def _parse_bundle(files: Mapping[str, bytes], encoding: str) -> ParsedFile:
    for required in ("businesses.csv", "inspections.csv"):
        if required not in files:
            raise Invalid(f"the LIVES bundle has no {required}")
    text = {name: decode(data, encoding, name) for name, data in files.items()}
    parsed = ParsedFile("lives")
    for where, row, raw in csv_rows(
        text["businesses.csv"], "businesses.csv", ["business_id", "name"]
    ):
        try:
            business = _business(where, {"id": row.get("business_id", ""), **row})
        except ValueError as exc:
            parsed.refused.append(Refusal(where, str(exc), raw))
            continue
        if business.external_id in parsed.businesses:
            first = parsed.businesses[business.external_id].where
            parsed.refused.append(
                Refusal(where, f"business_id {business.external_id} repeats ({first})", raw)
            )
            continue
        parsed.businesses[business.external_id] = business
    by_day: dict[tuple[str, str], list[InspectionIn]] = {}
    for where, row, raw in csv_rows(
        text["inspections.csv"], "inspections.csv", ["business_id", "score", "date"]
    ):
        try:
            business_id = text_or_none(row.get("business_id"), 100)
            if business_id is None:
                raise ValueError("business_id is missing")
            inspection = InspectionIn(
                where=where,
                business_id=business_id,
                inspected_on=parse_day(row.get("date"), "date", ["%Y%m%d"]),
                inspection_type=text_or_none(row.get("type"), 200),
                score=number_or_none(row.get("score"), "score"),
                row=raw,
            )
        except ValueError as exc:
            parsed.refused.append(Refusal(where, str(exc), raw))
            continue
        parsed.inspections.append(inspection)
        by_day.setdefault((business_id, inspection.inspected_on.isoformat()), []).append(inspection)
    if "violations.csv" in text:
        for where, row, raw in csv_rows(
            text["violations.csv"], "violations.csv", ["business_id", "date", "description"]
        ):
            try:
                business_id = row.get("business_id", "").strip()
                day = parse_day(row.get("date"), "date", ["%Y%m%d"])
            except ValueError as exc:
                parsed.refused.append(Refusal(where, str(exc), raw))
                continue
            same_day = by_day.get((business_id, day.isoformat()))
            if not same_day:
                parsed.refused.append(
                    Refusal(where, f"no inspection of business {business_id} on {day}", raw)
                )
                continue
            _target(same_day).violations.append(
                ViolationIn(
                    code=text_or_none(row.get("code"), 40),
                    description=text_or_none(row.get("description"), 4000),
                    risk_category=text_or_none(row.get("risk_category"), 60),
                )
            )
    if "legend.csv" in text:
        legend = []
        for where, row, raw in csv_rows(
            text["legend.csv"], "legend.csv", ["minimum_score", "maximum_score", "description"]
        ):
            try:
                low = number_or_none(row["minimum_score"], "minimum_score")
                high = number_or_none(row["maximum_score"], "maximum_score")
            except ValueError as exc:
                raise Invalid(f"{where}: {exc}") from None
            if low is None or high is None:
                raise Invalid(f"{where}: a legend line needs both scores ({raw})")
            legend.append((low, high, row["description"]))
        parsed.legend = legend
    if "feed_info.csv" in text:
        for _where, row, _raw in csv_rows(text["feed_info.csv"], "feed_info.csv", []):
            parsed.authority = text_or_none(row.get("municipality_name"), 64)
            break
    return parsed


def _target(same_day: list[InspectionIn]) -> InspectionIn:
    scored = [i for i in same_day if i.score is not None]
    return scored[0] if len(scored) == 1 else same_day[0]


FLAT_COLUMNS = FlatColumns(
    business_id="business_id",
    name="business_name",
    address="business_address",
    city="business_city",
    region="business_state",
    postal_code="business_postal_code",
    latitude="business_latitude",
    longitude="business_longitude",
    phone="business_phone_number",
    business_type=None,
    inspection_date="inspection_date",
    inspection_id="inspection_id",
    inspection_type="inspection_type",
    score="inspection_score",
    rating="inspection_result",
    violation_code="violation_code",
    violation_description="violation_description",
    violation_risk="violation_risk_category",
)


def _parse_flat(name: str, text: str) -> ParsedFile:
    """The flattened form: one row per violation (or per inspection without any)."""
    return parse_flat("lives", name, text, FLAT_COLUMNS, ["%Y-%m-%d", "%Y%m%d"])
