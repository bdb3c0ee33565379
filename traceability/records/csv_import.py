"""CSV bulk upload of restaurant records: one documented header per record type.

A file is all or nothing. Every problem of the file is reported in one answer
with its row (the header is row 1, as a spreadsheet numbers it), its column, the
cell's value and the reason: formula cells, unreadable dates, schema errors and
the record book's own checks (a date in the future) alike. One bad row rejects
the whole file and nothing is stored. The file must be UTF-8 (a BOM
is fine). Cells that a spreadsheet would run as a formula (starting with
``= + - @`` or a tab or carriage return) are refused, except plain numbers
such as ``-18``.

Morning checks and self-inspections have one row per handler (per checklist
item); the rows that share a ``date`` make one record. Disinfection ``items``
are separated by ``;``. Dates, times and booleans are read as ``csv_columns``
says (the forms spreadsheets write). The template's example row is refused if
it is uploaded as it is.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.messages import Message, message
from traceability.records.csv_columns import EXAMPLES, CellProblem, kinds, read_cell
from traceability.records.schemas import RECORD_TYPES, RecordModel
from traceability.records.service import (
    FieldProblem,
    LoggedRecord,
    RecordBook,
    RecordRejected,
    parse_record,
)
from traceability.storage.models import PremisesRow

MAX_CSV_BYTES = 2 * 1024 * 1024
MAX_CSV_ROWS = 5_000
MAX_REPORTED = 200
LIST_SEPARATOR = ";"
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvLayout:
    """The columns of one record type's CSV, and how they map onto the record."""

    record_type: str
    columns: tuple[str, ...]
    required: frozenset[str]
    list_columns: frozenset[str] = frozenset()
    item_field: str | None = None
    """For one-row-per-item types: the record's list field the rows fill."""
    item_columns: Mapping[str, str] = field(default_factory=dict)
    """For one-row-per-item types: CSV column -> field of the item."""

    @property
    def header(self) -> str:
        return ",".join(self.columns)

    @property
    def example(self) -> str:
        """The template's example row (one filled-in record), as a CSV line."""
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(
            [EXAMPLES.get(self.record_type, {}).get(c, "") for c in self.columns]
        )
        return out.getvalue()


def _flat(record_type: str, list_columns: frozenset[str] = frozenset()) -> CsvLayout:
    schema = RECORD_TYPES[record_type]
    fields = schema.model_fields
    return CsvLayout(
        record_type,
        tuple(fields),
        frozenset(name for name, info in fields.items() if info.is_required()),
        list_columns,
    )


LAYOUTS: dict[str, CsvLayout] = {
    "morning_check": CsvLayout(
        "morning_check",
        (
            "date",
            "checked_at",
            "checked_by",
            "staff_name",
            "health_certificate_expiry",
            "excluded_reason",
        ),
        frozenset({"date", "staff_name"}),
        item_field="staff",
        item_columns={
            "staff_name": "name",
            "health_certificate_expiry": "health_certificate_expiry",
            "excluded_reason": "excluded_reason",
        },
    ),
    "purchase_inspection": _flat("purchase_inspection"),
    "sample_retention": _flat("sample_retention"),
    "disinfection": _flat("disinfection", frozenset({"items"})),
    "additive_use": _flat("additive_use"),
    "waste_oil": _flat("waste_oil"),
    "self_inspection": CsvLayout(
        "self_inspection",
        ("date", "item", "ok", "finding", "no_risk_found", "person"),
        frozenset({"date", "item", "ok", "no_risk_found"}),
        item_field="items",
        item_columns={"item": "item", "ok": "ok", "finding": "finding"},
    ),
}


def layout(record_type: str) -> CsvLayout:
    found = LAYOUTS.get(record_type)
    if found is None:
        raise Invalid(
            message(
                "record.type_unknown",
                record_type=record_type[:40],
                choices=", ".join(sorted(LAYOUTS)),
            )
        )
    return found


@dataclass(frozen=True)
class RowProblem:
    row: int
    column: str | None
    said: Message
    """What is wrong: its code and parameters for the pages, its English ``reason``."""
    value: str | None = None
    """The cell as the file has it, when the problem is in one cell."""

    @property
    def reason(self) -> str:
        return self.said.text

    def as_json(self) -> dict[str, object]:
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
            **self.said.as_json(),
        }


class CsvRejected(Invalid):
    """A CSV file refused whole; ``rows`` says where each problem is."""

    def __init__(self, summary: Message, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)[:MAX_REPORTED]
        first = "; ".join(
            f"row {p.row}"
            + (f", column {p.column}" if p.column else "")
            + (f" ({p.value!r})" if p.value is not None else "")
            + f": {p.reason}"
            for p in self.problems[:3]
        )
        text = f"{summary.text}; nothing was stored" + (f" ({first})" if first else "")
        super().__init__(Message(summary.code, summary.params, text))

    def extra(self) -> dict[str, object]:
        return {"rows": [p.as_json() for p in self.problems]}


def decode(data: bytes) -> str:
    """The text of an uploaded file, which must be UTF-8 (with or without a BOM)."""
    if len(data) > MAX_CSV_BYTES:
        raise CsvRejected(message("csv.too_large", size=len(data), max=MAX_CSV_BYTES), [])
    if not data.strip():
        raise CsvRejected(message("csv.empty"), [])
    if b"\x00" in data:
        offset = data.index(b"\x00")
        raise CsvRejected(message("csv.nul_byte", offset=offset), [])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CsvRejected(
            message("csv.not_utf8", byte=f"{data[exc.start]:02x}", offset=exc.start, line=line),
            [RowProblem(line, None, message("csv.not_utf8_row"))],
        ) from None


def formula_problem(cell: str) -> Message | None:
    """Why a cell could run as a spreadsheet formula, or None when it cannot."""
    if not cell or not cell.startswith(_FORMULA_START):
        return None
    if _NUMBER.match(cell):
        return None
    return message("csv.formula_cell", char=cell[0], start=cell[:40])


@dataclass
class _Group:
    rows: list[int]
    values: dict[str, Any]


def _table(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        lines = [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise CsvRejected(
            message("csv.not_csv", line=reader.line_num, error=str(exc)),
            [RowProblem(reader.line_num, None, message("csv.not_csv_row", error=str(exc)))],
        ) from None
    if not lines:
        raise CsvRejected(message("csv.empty"), [])
    header = [c.strip() for c in lines[0][1]]
    # Rows are numbered as a spreadsheet shows them (header = row 1), empty lines included.
    body = [(number, cells) for number, (_, cells) in enumerate(lines[1:], start=2)]
    return header, body


def _check_header(header: list[str], spec: CsvLayout) -> list[RowProblem]:
    problems = []
    for column in header:
        if column not in spec.columns:
            problems.append(
                RowProblem(
                    1,
                    column,
                    message("csv.unknown_column", record_type=spec.record_type, header=spec.header),
                )
            )
    for column in sorted(set(header)):
        if header.count(column) > 1:
            problems.append(RowProblem(1, column, message("csv.duplicate_column")))
    for column in spec.columns:
        if column in spec.required and column not in header:
            problems.append(RowProblem(1, column, message("csv.missing_column")))
    return problems


def read_records(data: bytes, record_type: str) -> list[tuple[list[int], RecordModel]]:
    """Parse and validate a whole file; each record with the rows it came from."""
    records, problems, _ = _read(data, record_type)
    if problems:
        raise CsvRejected(_summary(problems), problems)
    return records


@dataclass
class _Cells:
    """The file's cells by (row, column), and the cells already reported as wrong."""

    raw: dict[tuple[int, str], str] = field(default_factory=dict)
    reported: set[tuple[int, str]] = field(default_factory=set)

    def with_value(self, problem: RowProblem) -> RowProblem:
        if problem.column is None or problem.value is not None:
            return problem
        raw = self.raw.get((problem.row, problem.column))
        return (
            problem if raw is None else RowProblem(problem.row, problem.column, problem.said, raw)
        )

    def fresh(self, problem: RowProblem) -> bool:
        """False for a schema error on a cell already reported (e.g. a formula cell's
        "field required" once the cell is set aside)."""
        return problem.column is None or (problem.row, problem.column) not in self.reported


def _read(
    data: bytes, record_type: str
) -> tuple[list[tuple[list[int], RecordModel]], list[RowProblem], _Cells]:
    """The file's records that are valid, every problem found in the others, and the
    cells (to name the value of a problem found later).

    A file whose header, size or encoding is wrong raises ``CsvRejected`` at once: its
    rows cannot be read."""
    spec = layout(record_type)
    header, body = _table(decode(data))
    problems = _check_header(header, spec)
    if problems:
        raise CsvRejected(message("csv.header_wrong"), problems)
    rows = [(n, cells) for n, cells in body if any(c.strip() for c in cells)]
    if not rows:
        raise CsvRejected(message("csv.no_records"), [])
    if len(rows) > MAX_CSV_ROWS:
        raise CsvRejected(message("csv.too_many_rows", rows=len(rows), max=MAX_CSV_ROWS), [])
    kind = kinds(record_type, spec.columns)
    example = EXAMPLES.get(record_type, {})
    cells = _Cells()
    readable: list[tuple[int, dict[str, str]]] = []
    for number, row in rows:
        if len(row) != len(header):
            problems.append(
                RowProblem(
                    number, None, message("csv.cell_count", cells=len(row), expected=len(header))
                )
            )
            continue
        if example and all(
            c.strip() == example.get(h, "") for h, c in zip(header, row, strict=True)
        ):
            problems.append(RowProblem(number, None, message("csv.example_row")))
            continue
        values: dict[str, str] = {}
        for column, cell in zip(header, row, strict=True):
            cells.raw[(number, column)] = cell
            reason = formula_problem(cell)
            text = cell.strip()
            if reason is None and text:
                try:
                    text = read_cell(kind[column], text)
                except CellProblem as exc:
                    reason = exc.said
            if reason is not None:
                problems.append(RowProblem(number, column, reason, cell))
                cells.reported.add((number, column))
            elif text:
                values[column] = text
        readable.append((number, values))
    mismatched: list[RowProblem] = []
    groups = _groups(spec, readable, mismatched)
    problems.extend(p for p in mismatched if cells.fresh(p))
    records: list[tuple[list[int], RecordModel]] = []
    for group in groups:
        try:
            records.append((group.rows, parse_record(record_type, group.values)))
        except RecordRejected as exc:
            located = (_locate(spec, group.rows, p) for _, p in exc.problems)
            problems.extend(p for p in located if cells.fresh(p))
    return records, _in_order(spec, [cells.with_value(p) for p in problems]), cells


def _summary(problems: Sequence[RowProblem]) -> Message:
    return message(
        "csv.problems", text=f"{len(problems)} problem(s) in the file", count=len(problems)
    )


def _in_order(spec: CsvLayout, problems: list[RowProblem]) -> list[RowProblem]:
    """By row, then by the column's place in the documented header."""
    place = {c: i for i, c in enumerate(spec.columns)}
    return sorted(problems, key=lambda p: (p.row, place.get(p.column or "", -1)))


def _groups(
    spec: CsvLayout,
    rows: list[tuple[int, dict[str, str]]],
    problems: list[RowProblem],
) -> list[_Group]:
    groups: list[_Group] = []
    by_date: dict[str, _Group] = {}
    for number, values in rows:
        listed: dict[str, Any] = {
            c: [part.strip() for part in v.split(LIST_SEPARATOR) if part.strip()]
            if c in spec.list_columns
            else v
            for c, v in values.items()
        }
        if spec.item_field is None:
            groups.append(_Group([number], listed))
            continue
        item = {spec.item_columns[c]: v for c, v in listed.items() if c in spec.item_columns}
        own = {c: v for c, v in listed.items() if c not in spec.item_columns}
        # A row whose date is missing or unreadable starts a record of its own.
        key = own.get("date") or f"row {number}"
        group = by_date.get(key)
        if group is None:
            group = by_date[key] = _Group([number], {**own, spec.item_field: [item]})
            groups.append(group)
            continue
        for column in sorted(set(own) | {c for c in group.values if c != spec.item_field}):
            if own.get(column) != group.values.get(column):
                problems.append(
                    RowProblem(
                        number,
                        column,
                        message(
                            "csv.differs_from_row", first_row=group.rows[0], date=key, column=column
                        ),
                    )
                )
        group.rows.append(number)
        group.values[spec.item_field].append(item)
    return groups


def _locate(spec: CsvLayout, rows: list[int], problem: FieldProblem) -> RowProblem:
    """The row and column of a problem in a record built from ``rows``."""
    parts = problem.field.split(".")
    top = parts[0]
    if spec.item_field is not None and top == spec.item_field:
        if len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(rows):
            row = rows[int(parts[1])]
            if len(parts) >= 3:
                column = {f: c for c, f in spec.item_columns.items()}.get(parts[2], parts[2])
                return RowProblem(row, column, problem.said)
            return RowProblem(row, None, problem.said)
        return RowProblem(rows[0], None, problem.said)
    said = problem.said
    if top in spec.columns:
        # A record of a one-row type: the row is its only row ("items.2": the third item).
        if len(parts) > 1 and parts[1].isdigit():
            entry = int(parts[1]) + 1
            said = Message(
                said.code, {**said.params, "entry": entry}, f"entry {entry}: {said.text}"
            )
        return RowProblem(rows[0], top, said)
    params = {**said.params, "field": problem.field}
    return RowProblem(rows[0], None, Message(said.code, params, f"{problem.field}: {said.text}"))


def import_csv(
    book: RecordBook,
    session: Session,
    premises: PremisesRow,
    record_type: str,
    data: bytes,
    *,
    actor: str,
    now: datetime,
) -> list[LoggedRecord]:
    """Log every record of a file in one batch, or raise ``CsvRejected`` storing nothing.

    The record book's checks (dates in the future, attachments) run on every record
    that the schema accepts, so one answer names every problem of the file."""
    spec = layout(record_type)
    records, problems, cells = _read(data, record_type)
    for rows, record in records:
        problems.extend(
            cells.with_value(_locate(spec, rows, p))
            for p in book.problems(session, premises, record, now)
        )
    if problems:
        raise CsvRejected(_summary(problems), _in_order(spec, problems))
    try:
        return book.submit_many(
            session, premises, [record for _, record in records], actor=actor, now=now
        )
    except RecordRejected as exc:
        problems = [_locate(spec, records[i][0], p) for i, p in exc.problems]
        raise CsvRejected(_summary(problems), problems) from None
