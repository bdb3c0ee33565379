"""What a reader gives: businesses, inspections with violations, refused rows."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from traceability.errors import Invalid

FORMATS = ("lives", "fhrs", "nyc", "csv")
MAX_ROW_TEXT = 500


@dataclass(frozen=True)
class Business:
    external_id: str
    name: str
    address: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    business_type: str | None = None
    where: str = ""


@dataclass(frozen=True)
class ViolationIn:
    code: str | None
    description: str | None
    risk_category: str | None


@dataclass
class InspectionIn:
    where: str
    """The file and line (or record) it came from."""
    business_id: str
    inspected_on: date
    inspection_type: str | None = None
    score: float | None = None
    authority_rating: str | None = None
    sub_scores: dict[str, float] | None = None
    inspection_id: str | None = None
    violations: list[ViolationIn] = field(default_factory=list)
    row: str = ""


@dataclass(frozen=True)
class Refusal:
    where: str
    reason: str
    row: str


@dataclass
class ParsedFile:
    format: str
    businesses: dict[str, Business] = field(default_factory=dict)
    inspections: list[InspectionIn] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    skipped: list[Refusal] = field(default_factory=list)
    """Rows read but not loaded, with why: not an inspection (an establishment awaiting
    its first one), or a repeated violation line."""
    authority: str | None = None
    legend: list[tuple[float, float, str]] | None = None


def decode(data: bytes, encoding: str, name: str) -> str:
    """The text of ``data``; a wrong encoding names the file, byte offset and line."""
    try:
        codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
        return data.decode(codec)
    except LookupError:
        raise Invalid(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 4].hex(" ")
        raise Invalid(
            f"{name} is not valid {encoding}: byte offset {exc.start} (line {line}) starts "
            f"with bytes {bad} ({exc.reason}); pass the file's encoding, e.g. --encoding cp1252"
        ) from None


def csv_rows(
    text: str, name: str, required: Sequence[str]
) -> Iterator[tuple[str, dict[str, str], str]]:
    """(where, row by lower-cased column, raw text) per data row; refuses a file without
    the required columns (before any row is read)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise Invalid(f"{name} is empty (no header line)") from None
    except csv.Error as exc:
        raise Invalid(f"{name} line 1: {exc}") from None
    columns = [c.strip().lower() for c in header]
    missing = [c for c in required if c not in columns]
    if missing:
        raise Invalid(
            f"{name} lacks the column(s) {', '.join(missing)} (has: {', '.join(columns)})"
        )
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise Invalid(f"{name} line {reader.line_num}: {exc}") from None
        if not any(v.strip() for v in values):
            continue
        where = f"{name} line {reader.line_num}"
        raw = ",".join(values)[:MAX_ROW_TEXT]
        row = {c: (values[i].strip() if i < len(values) else "") for i, c in enumerate(columns)}
        yield where, row, raw


def text_or_none(value: str | None, limit: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value[:limit] if value else None


def number_or_none(value: str | None, what: str) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        number = float(value.strip())
    except ValueError:
        raise ValueError(f"{what} {value!r} is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{what} {value!r} is not a number")
    return number


def parse_day(value: str | None, what: str, formats: Sequence[str]) -> date:
    text = (value or "").strip()
    if not text:
        raise ValueError(f"{what} is missing")
    day = _day(text, tuple(formats))
    if day is None:
        raise ValueError(f"{what} {text!r} is not a date ({' or '.join(formats)})")
    return day


@functools.lru_cache(maxsize=65_536)
def _day(text: str, formats: tuple[str, ...]) -> date | None:
    """Files repeat the same days on many rows: each spelling is parsed once."""
    for fmt in formats:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
