"""Every message the pages can show, by a stable code: the one catalog of the server side.

An error answer keeps its English ``detail`` (for API clients and logs) and adds ``code``
and ``params``; the pages translate the code with the parameters (mobile_web/static/js/
i18n_messages.js holds the zh and en texts, and a test fails when a code here has no
translation there). A code names what went wrong, never where: ``record.date_in_future``
with ``{"date": ..., "today": ...}``. The English templates are ``str.format`` templates
over the parameters; change a code only together with the pages' catalog.

Row and field problems (a CSV file's rows, a record's fields) carry a code and parameters
each, the same way. Pydantic's own errors map onto ``field.*`` codes by their error type.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Param = str | int | float | bool | None | list[str] | list[int]

CATALOG: dict[str, str] = {
    # Sign-in and access (401/403/404).
    "auth.header_missing": "an 'Authorization: Bearer <API key>' header is required",
    "auth.header_malformed": "the Authorization header must be 'Bearer <API key>'",
    "auth.key_malformed": "the API key is malformed (expected slk_<16 hex>_<secret>)",
    "auth.key_unknown": "API key {key_id} is not valid",
    "auth.key_revoked": "API key {key_id} was revoked",
    "auth.key_expired": "API key {key_id} expired",
    "auth.org_inactive": "the organisation of API key {key_id} is not active",
    "auth.role_required": "this needs the role {roles}; key {key_id} of {org_id} is {role}",
    "premises.not_found": "no premises {premises_id}",
    "premises.read_forbidden": "{org_id} may not read premises {premises_id}",
    "premises.write_forbidden": "{org_id} may not write records of premises {premises_id}",
    "premises.supervise_forbidden": "{org_id} does not supervise premises {premises_id}",
    # Alerts: the queue, the detail and the lifecycle's steps.
    "alert.not_found": "no alert {alert_id}",
    "alert.read_forbidden": "{org_id} may not read alert {alert_id}",
    "alert.step_role": "to {step} an alert needs the role {roles}; {org_id} is a {role}",
    "alert.step_forbidden": "{org_id} may not {step} alert {alert_id} (premises {premises_id})",
    "alert.close_before_rectification": (
        "alert {alert_id} is {status}: a regulator closes an alert only after the "
        "restaurant submitted rectification evidence"
    ),
    "alert.step_not_allowed": "alert {alert_id} is {status}; to {step} it must be {allowed}",
    "alert.note_required": "a note is required to {step}",
    "alert.note_too_long": "the note is {length} characters; at most {max}",
    "alert.evidence_not_sha256": "evidence {value!r} is not a SHA-256 hex digest (64 hex digits)",
    "alert.evidence_required": (
        "rectification needs evidence: at least one uploaded attachment's SHA-256"
    ),
    "alert.evidence_too_many": "{count} evidence attachments; at most {max}",
    "alert.evidence_not_uploaded": (
        "evidence {sha256} is not an attachment uploaded for premises {premises_id}"
    ),
    "alert.due_without_zone": "due_at must carry its time zone (e.g. 2026-12-01T12:00:00Z)",
    "alert.due_not_future": "due_at {due_at} is not in the future",
    "alert.filter_class": "class {value} is not 1, 2 or 3",
    "alert.filter_status": "status {value!r} is not one of {choices}",
    "alert.filter_source": "source {value!r} is not one of {choices}",
    "alert.filter_escalation": "escalation {value!r} is not one of {choices}",
    "alert.filter_dates": "opened_to is before opened_from",
    # A record's own rules (the kitchen's forms and CSV rows).
    "record.type_unknown": "record_type {record_type!r} is not one of {choices}",
    "record.invalid": "the record is not valid",
    "record.rejected": "{count} problem(s) in the record(s); nothing was stored",
    "record.year_out_of_range": "the year {year} is outside {earliest}-{latest}",
    "record.gtin_digits": "GTIN {gtin!r} must be 8 to 14 digits",
    "record.gtin_check_digit": (
        "GTIN {gtin} has the wrong check digit {digit}; the GS1 check digit is {expected}"
    ),
    "record.lot_code_path_segment": (
        "a lot code of {value!r} cannot be a path segment; use letters or digits"
    ),
    "record.produced_after_received": "the production date is after the day the lot was received",
    "record.reference_incomplete": (
        "give both reference_document_type and reference_document_number"
    ),
    "record.removed_before_in": "the sample was removed before it was put in",
    "record.temperature_required": "a temperature is required for method {method}",
    "record.concentration_required": "a concentration is required for method chemical",
    "record.additive_not_weighed": "the additive must be weighed where a maximum (max_g) applies",
    "record.no_risk_but_failed": "true, but these items failed: {items}",
    "record.risk_but_all_ok": "false, but every item is ok (a clean day is 'no risk found')",
    "record.date_in_future": "{date} is in the future (today is {today})",
    "record.time_in_future": "{value} is in the future",
    "record.checked_at_other_day": "is not on the day {date}",
    "record.attachment_missing": "no attachment {sha256} was uploaded for premises {premises_id}",
    "record.dates_reversed": "from ({date_from}) is after to ({date_to})",
    "record.body_too_large": "the body is {size} bytes; at most {max} are accepted",
    "record.body_over_limit": "the body is over {max} bytes; at most {max} are accepted",
    # Pydantic's errors, by their type (the field is named beside the message).
    "field.missing": "Field required",
    "field.extra_forbidden": "Extra inputs are not permitted",
    "field.greater_than": "Input should be greater than {gt}",
    "field.greater_than_equal": "Input should be greater than or equal to {ge}",
    "field.less_than": "Input should be less than {lt}",
    "field.less_than_equal": "Input should be less than or equal to {le}",
    "field.string_too_short": "String should have at least {min_length} character(s)",
    "field.string_too_long": "String should have at most {max_length} characters",
    "field.string_pattern_mismatch": "String should match pattern '{pattern}'",
    "field.string_type": "Input should be a valid string",
    "field.literal_error": "Input should be {expected}",
    "field.number": "Input should be a valid number",
    "field.integer": "Input should be a valid integer",
    "field.bool": "Input should be a valid boolean",
    "field.date": "Input should be a valid date; write YYYY-MM-DD",
    "field.datetime": "Input should be a valid datetime; write YYYY-MM-DD HH:MM",
    "field.too_short": "List should have at least {min_length} item(s)",
    "field.too_long": "List should have at most {max_length} items",
    "field.list_type": "Input should be a valid list",
    "field.object_type": "Input should be an object",
    "field.json_invalid": "Invalid JSON: {error}",
    "field.invalid": "{reason}",
    "request.invalid": "{reasons}",
    # The CSV upload: the file, its header, its rows and its cells.
    "csv.too_large": "the file is {size} bytes; at most {max}",
    "csv.empty": "the file is empty",
    "csv.nul_byte": (
        "the file holds a NUL byte at offset {offset}: it is binary or UTF-16, not UTF-8 text"
    ),
    "csv.not_utf8": (
        "the file is not UTF-8: byte 0x{byte} at offset {offset} (line {line}) is not valid "
        "UTF-8; save the file as UTF-8 (GBK and other encodings are not accepted)"
    ),
    "csv.not_utf8_row": "not valid UTF-8",
    "csv.not_csv": "the file is not valid CSV at line {line}: {error}",
    "csv.not_csv_row": "{error}",
    "csv.header_wrong": "the header is not the documented one",
    "csv.unknown_column": "unknown column; the {record_type} header is {header}",
    "csv.duplicate_column": "the column appears more than once",
    "csv.missing_column": "this required column is missing",
    "csv.no_records": "the file has a header but no records",
    "csv.too_many_rows": "the file has {rows} rows; at most {max}",
    "csv.cell_count": "{cells} cells; the header has {expected}",
    "csv.example_row": (
        "this is the template's example row; delete it or write a real record over it"
    ),
    "csv.formula_cell": (
        "the cell starts with {char!r} and could run as a spreadsheet formula ({start!r}); "
        "remove the leading character"
    ),
    "csv.differs_from_row": (
        "differs from row {first_row}, which starts the same record (date {date}); give each "
        "record's {column} once, the same on every row"
    ),
    "csv.problems": "{count} problem(s) in the file; nothing was stored",
    "csv.content_type": "the body must be text/csv, not {content_type}",
    "csv.date_ambiguous": (
        "day and month order is ambiguous ({value!r} is a different day in China or the UK "
        "than in the US); write YYYY-MM-DD, e.g. 2026-12-05"
    ),
    "csv.date_serial": (
        "looks like a spreadsheet date serial number ({guess} in Excel's Windows 1900 system, "
        "another day in its Mac 1904 system); format the column as a date or as text and "
        "write YYYY-MM-DD"
    ),
    "csv.not_a_date": "is not a date; write YYYY-MM-DD, e.g. 2026-12-05",
    "csv.not_a_calendar_day": (
        "is not a day of the calendar (year {year}, month {month}, day {day}); write YYYY-MM-DD"
    ),
    "csv.not_a_datetime": "is not a date and time; write YYYY-MM-DD HH:MM, e.g. 2026-12-05 11:30",
    "csv.no_time_of_day": "has no time of day; write YYYY-MM-DD HH:MM, e.g. {day} 11:30",
    "csv.not_a_time": "{time!r} is not a time of day; write HH:MM",
    "csv.not_a_bool": "is not true or false; write true or false (yes/no, 1/0)",
    # Attachments (rectification photos, certificates).
    "attachment.empty": "the attachment is empty",
    "attachment.too_large": "the attachment is {size} bytes; at most {max}",
    "attachment.unknown_type": (
        "the attachment is not a JPEG, PNG, WebP image or a PDF (its first bytes {head} match "
        "none of them)"
    ),
    "attachment.type_mismatch": "the Content-Type says {claimed} but the content is {kind}",
    "attachment.not_an_image": "the attachment starts like {kind} but does not decode as an image",
    "attachment.pdf_truncated": "the PDF is truncated (no %%EOF marker at its end)",
    "attachment.image_malformed": "the {format} image is malformed: {reason}",
    "attachment.image_empty": "the {format} declares an empty canvas of {width}x{height} pixels",
    "attachment.image_side_too_large": (
        "the {format} claims {width}x{height} pixels; a side may be at most {max} pixels"
    ),
    "attachment.image_too_many_pixels": (
        "the {format} claims {width}x{height} pixels; at most {max} (60 megapixels) are accepted"
    ),
    "attachment.not_sha256": "{value!r} is not a SHA-256 in lowercase hex",
    "attachment.not_found": "no attachment {sha256}",
    "attachment.read_forbidden": "{org_id} may not read attachment {sha256}",
    # The console's inspection and grade screens.
    "inspection.after_today": (
        "inspected_on {inspected_on} is after today ({today} at the premises)"
    ),
    "inspection.before_2000": "inspected_on {inspected_on} is before 2000",
    "inspection.cn_needs_items": "items: a cn inspection lists at least one item (its key items)",
    "inspection.type_unknown": (
        "inspection type {inspection_type!r} is not one of scheme {scheme}'s: {choices}"
    ),
    "inspection.score_out_of_range": (
        "score {score} is outside scheme {scheme}'s range {min}-{max}"
    ),
    "inspection.sub_score_unknown": "sub-score {name!r} is not one of scheme {scheme}'s",
    "inspection.sub_score_out_of_range": (
        "sub-score {name} {value} is outside {min}-{max} (scheme {scheme})"
    ),
    "inspection.rating_unknown": "rating {rating!r} is not one of scheme {scheme}'s: {choices}",
    "grade.year_out_of_range": "year {year} must lie between 2000 and this year ({this_year})",
    "grade.too_many_inspections": (
        "premises {premises_id} has more than {max} inspections in {year}; a grade event "
        "cannot list them all"
    ),
    # What the HTTP layer itself answers.
    "http.no_route": "no route {path}",
    "http.method_not_allowed": "{method} is not allowed on {path}",
    "http.payload_too_large": "the request body is over the limit of {max} bytes",
    "http.bad_content_length": "the Content-Length header is not valid",
    "http.too_many_requests": "too many requests; try again in {retry_after} s",
    "http.unavailable": "the database is unreachable; nothing was stored, try again later",
    "http.internal": "the server failed on this request; reference {reference} in its log",
    "log.corrupted": "{reason}",
}


@dataclass(frozen=True)
class Message:
    """A code, its parameters, and the English text (the ``detail`` of an answer)."""

    code: str
    params: Mapping[str, Param] = field(default_factory=dict)
    text: str = ""

    def as_json(self) -> dict[str, object]:
        return {"code": self.code, "params": dict(self.params)}


def message(code: str, *, text: str | None = None, **params: Param) -> Message:
    """The message ``code`` with ``params``; its English text from the catalog unless
    ``text`` gives a fuller one (a summary naming the first problems, say).

    An unknown code raises ``KeyError`` at once: a message the pages cannot translate
    must not reach them."""
    template = CATALOG[code]
    return Message(code, params, template.format_map(params) if text is None else text)


# Pydantic error types -> our codes (several pydantic types say the same to a person).
_PYDANTIC: dict[str, str] = {
    "missing": "field.missing",
    "extra_forbidden": "field.extra_forbidden",
    "greater_than": "field.greater_than",
    "greater_than_equal": "field.greater_than_equal",
    "less_than": "field.less_than",
    "less_than_equal": "field.less_than_equal",
    "string_too_short": "field.string_too_short",
    "string_too_long": "field.string_too_long",
    "string_pattern_mismatch": "field.string_pattern_mismatch",
    "string_type": "field.string_type",
    "literal_error": "field.literal_error",
    "enum": "field.literal_error",
    "float_parsing": "field.number",
    "float_type": "field.number",
    "finite_number": "field.number",
    "int_parsing": "field.integer",
    "int_type": "field.integer",
    "int_from_float": "field.integer",
    "bool_parsing": "field.bool",
    "bool_type": "field.bool",
    "too_short": "field.too_short",
    "too_long": "field.too_long",
    "list_type": "field.list_type",
    "dict_type": "field.object_type",
    "model_type": "field.object_type",
    "model_attributes_type": "field.object_type",
    "json_invalid": "field.json_invalid",
}


def _plain(value: object) -> Param:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def field_message(error: Mapping[str, Any]) -> Message:
    """The message of one pydantic error (``ValidationError.errors()`` item).

    Our own validators raise ``PydanticCustomError`` with a catalog code as the error type
    and the parameters as its context; pydantic's own types map onto ``field.*``; any other
    keeps pydantic's English as ``field.invalid``'s reason."""
    kind = str(error.get("type", ""))
    text = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    context = error.get("ctx") or {}
    params: dict[str, Param] = {
        k: _plain(v) for k, v in context.items() if k != "error" or kind == "json_invalid"
    }
    if kind in CATALOG:
        return Message(kind, params, text)
    if kind.startswith("datetime"):
        code = "field.datetime"
    elif kind.startswith("date"):
        code = "field.date"
    else:
        code = _PYDANTIC.get(kind, "field.invalid")
    if code == "field.invalid":
        params = {"reason": text}
    # Pydantic's date messages do not say which form is expected.
    if code in ("field.date", "field.datetime") and "YYYY" not in text:
        text += "; write YYYY-MM-DD HH:MM" if code == "field.datetime" else "; write YYYY-MM-DD"
    return Message(code, params, text)
