"""What each CSV column holds, how its cells are read, and the template's example row.

Dates are read in the forms spreadsheets write when a date cell is saved as CSV:
``2026-12-05``, ``2026/12/05``, ``2026/12/5``, ``2026.12.5`` and ``2026年12月5日``
(year first, so the order is never in doubt). Day-first or month-first dates
(``05/12/2026``) are refused: the same text is 5 December in China and the UK and
12 May in the US, and a wrong guess would log a wrong date for ever. Spreadsheet
serial numbers (``46361``, what a date cell becomes when its column is formatted as a
number) are refused too: Excel counts from 1899-12-30 on Windows but from 1904-01-01
in old Mac files, so the number alone does not name a day; the error says which day
it would be in the Windows system. Times are the date followed by ``HH:MM`` or
``HH:MM:SS`` (``T`` or a space between), with an optional zone (``Z``, ``+08:00``).

Booleans: ``true``/``false``, ``yes``/``no``, ``1``/``0`` (any case) and ``是``/``否``.
"""

from __future__ import annotations

import datetime as dt
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Literal, Union

from pydantic import BaseModel

from traceability.messages import Message, message
from traceability.records.schemas import RECORD_TYPES, ChecklistItem, StaffCheck

DATE_FORMAT = "YYYY-MM-DD"
DATETIME_FORMAT = "YYYY-MM-DD HH:MM"
EXCEL_EPOCH = dt.date(1899, 12, 30)
DATES_NOTE = (
    "dates year first: 2026-12-05, 2026/12/05, 2026/12/5, 2026.12.5 or 2026年12月5日; "
    "times: the date then HH:MM (2026-12-05 11:30), local time of the premises unless a zone "
    "(Z, +08:00) follows; day-first or month-first dates (05/12/2026) and spreadsheet serial "
    "numbers (46361) are refused"
)

_YEAR_FIRST = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})[-/.](\d{1,2})|年(\d{1,2})月(\d{1,2})日?)$")
_DAY_OR_MONTH_FIRST = re.compile(r"^\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}$")
_SERIAL = re.compile(r"^\d{4,6}(\.\d+)?$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?$")
_TRUE = {"true", "yes", "y", "1", "t", "on", "是"}
_FALSE = {"false", "no", "n", "0", "f", "off", "否"}

Kind = Literal["text", "number", "integer", "date", "datetime", "bool", "choice", "list"]


@dataclass(frozen=True)
class Column:
    """One CSV column: what it holds (``kind``, ``choices``) and whether it must be given."""

    name: str
    kind: Kind
    required: bool
    choices: tuple[str, ...] = ()
    example: str = ""

    def as_json(self) -> dict[str, object]:
        return {
            "column": self.name,
            "kind": self.kind,
            "required": self.required,
            "choices": list(self.choices),
            "format": {"date": DATE_FORMAT, "datetime": DATETIME_FORMAT}.get(self.kind),
            "example": self.example,
        }


class CellProblem(ValueError):
    """A cell that cannot be read as its column's kind; the message says what to write."""

    def __init__(self, said: Message) -> None:
        super().__init__(said.text)
        self.said = said


def _kind_of(annotation: object) -> tuple[Kind, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _kind_of(typing.get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        [inner] = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _kind_of(inner)
    if origin is Literal:
        return "choice", tuple(str(a) for a in typing.get_args(annotation))
    if origin is list:
        return "list", ()
    # datetime is a date: test it first.
    if annotation is dt.datetime:
        return "datetime", ()
    if annotation is dt.date:
        return "date", ()
    if annotation is bool:
        return "bool", ()
    if annotation is int:
        return "integer", ()
    if annotation is float:
        return "number", ()
    return "text", ()


def _fields(model: type[BaseModel]) -> dict[str, tuple[Kind, tuple[str, ...], bool]]:
    return {
        name: (*_kind_of(info.annotation), info.is_required())
        for name, info in model.model_fields.items()
    }


# The columns of the one-row-per-item types that fill an item, and the item's model.
_ITEM_MODELS: dict[str, tuple[type[BaseModel], Mapping[str, str]]] = {
    "morning_check": (
        StaffCheck,
        {
            "staff_name": "name",
            "health_certificate_expiry": "health_certificate_expiry",
            "excluded_reason": "excluded_reason",
        },
    ),
    "self_inspection": (ChecklistItem, {"item": "item", "ok": "ok", "finding": "finding"}),
}

# One row of each type as it would be filled in, for the template (see ``is_example``).
EXAMPLES: dict[str, dict[str, str]] = {
    "morning_check": {
        "date": "2026-12-01",
        "checked_at": "2026-12-01 07:30",
        "checked_by": "Manager Wang",
        "staff_name": "Cook Li",
        "health_certificate_expiry": "2027-06-30",
    },
    "purchase_inspection": {
        "date": "2026-12-01",
        "supplier": "Green Farm Co.",
        "supplier_licence": "JY13101010001",
        "supplier_certificate_expiry": "2027-03-31",
        "product": "Pork belly",
        "lot_code": "L20261130",
        "quantity": "20",
        "unit": "kg",
        "production_date": "2026-11-30",
        "shelf_life_days": "5",
        "reference_document_type": "invoice",
        "reference_document_number": "INV-0001",
        "receiver": "Cook Zhao",
    },
    "sample_retention": {
        "date": "2026-12-01",
        "dish": "Fried rice",
        "meal": "lunch",
        "weight_g": "150",
        "time_in": "2026-12-01 11:30",
        "fridge": "sample-fridge-1",
        "person": "Cook Li",
    },
    "disinfection": {
        "date": "2026-12-01",
        "items": "bowls;chopsticks",
        "method": "steam",
        "temperature_c": "100",
        "duration_min": "15",
        "started_at": "2026-12-01 14:00",
        "person": "Cook Li",
    },
    "additive_use": {
        "date": "2026-12-01",
        "additive": "sodium nitrite",
        "batch": "B-01",
        "food": "cured pork",
        "amount_g": "1.5",
        "max_g": "2",
        "weighed": "true",
        "used_at": "2026-12-01 09:00",
        "person": "Cook Zhao",
    },
    "waste_oil": {
        "date": "2026-12-01",
        "oil_type": "frying_oil",
        "quantity": "12",
        "unit": "kg",
        "collector": "City Oil Recycling",
        "collector_licence": "HB-2026-001",
        "collected_at": "2026-12-01 20:00",
    },
    "self_inspection": {
        "date": "2026-12-01",
        "item": "fridges at 0-8 °C",
        "ok": "true",
        "no_risk_found": "true",
        "person": "Manager Wang",
    },
}


def columns(record_type: str, names: tuple[str, ...], required: frozenset[str]) -> list[Column]:
    """The legend of a record type's CSV columns, in header order."""
    fields = _fields(RECORD_TYPES[record_type])
    item_model, item_columns = _ITEM_MODELS.get(record_type, (None, {}))
    item_fields = {} if item_model is None else _fields(item_model)
    example = EXAMPLES.get(record_type, {})
    legend = []
    for name in names:
        if name in item_columns:
            kind, choices, _ = item_fields[item_columns[name]]
        else:
            kind, choices, _ = fields[name]
        legend.append(Column(name, kind, name in required, choices, example.get(name, "")))
    return legend


def kinds(record_type: str, names: tuple[str, ...]) -> dict[str, Kind]:
    return {c.name: c.kind for c in columns(record_type, names, frozenset())}


def _date(text: str) -> dt.date:
    found = _YEAR_FIRST.match(text)
    if found is None:
        if _DAY_OR_MONTH_FIRST.match(text):
            raise CellProblem(message("csv.date_ambiguous", value=text))
        if _SERIAL.match(text):
            number = float(text)
            guess = EXCEL_EPOCH + dt.timedelta(days=int(number))
            raise CellProblem(message("csv.date_serial", guess=guess.isoformat()))
        raise CellProblem(message("csv.not_a_date"))
    year = int(found.group(1))
    month = int(found.group(2) or found.group(4))
    day = int(found.group(3) or found.group(5))
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CellProblem(
            message("csv.not_a_calendar_day", year=year, month=month, day=day)
        ) from None


def read_cell(kind: Kind, text: str) -> str:
    """The cell as the record's schema reads it (dates in ISO form), or ``CellProblem``.

    Only dates, times and booleans are rewritten; numbers, choices and text are left to
    the schema, whose message names the expected values."""
    if kind == "date":
        return _date(text).isoformat()
    if kind == "datetime":
        day_text, sep, time_text = text.replace("T", " ", 1).partition(" ")
        clock = _TIME.match(time_text.strip()) if sep else None
        if clock is None:
            try:
                _date(day_text)
            except CellProblem as exc:
                if _SERIAL.match(text):
                    raise
                raise CellProblem(message("csv.not_a_datetime")) from exc
            raise CellProblem(message("csv.no_time_of_day", day=day_text))
        day = _date(day_text)
        hour, minute, second = int(clock.group(1)), int(clock.group(2)), clock.group(3)
        if hour > 23 or minute > 59 or (second is not None and int(second) > 59):
            raise CellProblem(message("csv.not_a_time", time=time_text.strip()))
        zone = clock.group(5) or ""
        seconds = f":{second}{clock.group(4) or ''}" if second is not None else ""
        return f"{day.isoformat()}T{hour:02d}:{minute:02d}{seconds}{zone}"
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return "true"
        if lowered in _FALSE:
            return "false"
        raise CellProblem(message("csv.not_a_bool"))
    return text
