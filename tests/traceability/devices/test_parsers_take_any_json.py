"""Property: the reading, record and record-CSV parsers refuse any JSON they cannot read with the
project's own refusal (``ReadingRejected`` with a code, ``RecordRejected``/``Invalid`` with
the field), and never raise anything else (issue 15).

Hypothesis feeds them arbitrary JSON, and near-valid documents in which any field may hold
any JSON value (lists where strings go, 401-digit integers, NaN and infinities, nested
objects, unknown keys), so the checks behind the first one are reached too. A reading's
refusal must also name what is wrong: the last-resort "unforeseen shape" refusal of
``parse_submission`` counts as a failure here.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from traceability.devices.intake import (
    REJECTION_CODES,
    UNFORESEEN_SHAPE,
    ReadingRejected,
    parse_submission,
)
from traceability.errors import SunledgerError
from traceability.records.checks import RecordPolicy, record_findings
from traceability.records.csv_import import layout, read_records
from traceability.records.schemas import RECORD_TYPES
from traceability.records.service import (
    _localised,
    _moment,
    parse_record,
    public_fields,
    summary_of,
)

# Examples per property: 500 in ``make test``, 3,000 under SUNLEDGER_RELIABILITY=full.
EXAMPLES = 3000 if os.environ.get("SUNLEDGER_RELIABILITY", "").lower() == "full" else 500
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
ZONE = ZoneInfo("Asia/Shanghai")

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**53, 2**53 + 1, -1, 0, 2**64]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.sampled_from(
        [
            "Temperature",
            "CEL",
            "Chlorine",
            "MGL",
            "2026-11-25",
            "2026-11-25T10:00:00Z",
            "2026-11-25T10:00:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-02-30T10:00:00Z",
            "fr-1\n",
            "fr-1",
            "٢٠٢٦-١١-٢٥T10:00:00Z",
            "A" * 88,
            base64.b64encode(bytes(64)).decode(),
            "lunch",
            "heat",
            "chemical",
            "fever",
            "frying_oil",
            "kg",
            "06901234567892",
            "0" * 64,
        ]
    ),
)
any_json = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


# Out-of-range numbers, and a list or an object where a string or number goes: the classic
# poisons first.
hostile = st.one_of(
    st.sampled_from([10**400, -(10**400), 2**64, float("nan"), float("inf"), True, None]),
    st.lists(leaves, min_size=1, max_size=2),
    st.dictionaries(st.text(max_size=5), leaves, min_size=1, max_size=2),
    leaves,
    any_json,
)


def _spoilt(good: dict[str, Any], **deeper: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` with one field (or an extra one) holding any JSON instead."""
    keys = [*good, "extra", *list(deeper) * 4]  # the nested fields are spoilt more often

    def spoil(chosen: set[str]) -> st.SearchStrategy[dict[str, Any]]:
        fields = {k: st.just(v) for k, v in good.items()}
        for key in chosen:
            fields[key] = deeper[key] if key in deeper else hostile
        return st.fixed_dictionaries(fields)

    return st.sampled_from(keys).flatmap(lambda key: spoil({key}))


GOOD_VALUE = {"type": "Temperature", "value": 3.5, "uom": "CEL"}


def _reading(signed: bool) -> st.SearchStrategy[Any]:
    good: dict[str, Any] = {
        "device_id": "fr-1",
        "seq": 7,
        "measured_at": "2026-11-25T09:59:00Z",
        "values": [GOOD_VALUE],
    }
    if signed:
        good["sig"] = base64.b64encode(bytes(64)).decode()
    values = st.lists(_spoilt(GOOD_VALUE) | st.just(GOOD_VALUE), min_size=1, max_size=2)
    return st.one_of(_spoilt(good, values=values), st.just(good), any_json)


submissions = st.one_of(
    st.fixed_dictionaries({"readings": st.lists(_reading(True), min_size=1, max_size=2)}),
    st.fixed_dictionaries(
        {
            "gateway_id": st.just("gw-1") | any_json,
            "seq": st.just(3) | any_json,
            "sig": st.just(base64.b64encode(bytes(64)).decode()) | any_json,
            "readings": st.lists(_reading(False), min_size=1, max_size=2),
        }
    ),
    any_json,
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(submissions)
def test_any_json_is_parsed_or_refused_with_its_code(body: Any) -> None:
    try:
        parsed = parse_submission(body)
    except ReadingRejected as exc:
        assert exc.code in REJECTION_CODES
        assert exc.detail != UNFORESEEN_SHAPE, f"no check foresaw {body!r}"
        json.dumps({"detail": exc.detail, **exc.extra()})  # the refusal itself can be sent
        return
    for reading in parsed.readings:
        # What passed is what gets signed and logged: RFC 8785 text that is valid JSON.
        assert json.loads(reading.unsigned_text) == json.loads(
            json.dumps(reading.unsigned, allow_nan=False)
        )


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_json)
def test_the_poison_readings_of_issue_15_are_refused_before_any_signature_check(
    noise: Any,
) -> None:
    reading = {
        "device_id": "fr-1",
        "seq": 1,
        "measured_at": "2026-11-25T09:59:00Z",
        "sig": "not even base64",  # refused on shape first: the signature is never looked at
    }
    for value, code in (
        ({"type": ["Temperature"], "value": 3, "uom": "CEL"}, "malformed"),
        ({"type": "Temperature", "value": 3, "uom": {"a": noise}}, "malformed"),
        ({"type": "Temperature", "value": 10**400, "uom": "CEL"}, "impossible_value"),
        ({"type": "Temperature", "value": -(10**400), "uom": "CEL"}, "impossible_value"),
    ):
        try:
            parse_submission({"readings": [{**reading, "values": [value]}]})
        except ReadingRejected as exc:
            assert exc.code == code, exc.detail
        else:
            raise AssertionError(f"{value} was not refused")


def _record(fields: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(
        any_json,
        st.dictionaries(st.sampled_from([*fields, "extra"]), any_json, max_size=len(fields) + 1),
    )


records = st.sampled_from(sorted(RECORD_TYPES)).flatmap(
    lambda kind: st.tuples(st.just(kind), _record(list(RECORD_TYPES[kind].model_fields)))
) | st.tuples(st.text(max_size=20), any_json)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records)
def test_any_json_record_is_parsed_or_refused_with_its_fields(case: tuple[str, Any]) -> None:
    record_type, raw = case
    try:
        record = parse_record(record_type, raw)
    except SunledgerError as exc:
        assert exc.status_code == 422 and exc.detail
        json.dumps({"detail": exc.detail, **exc.extra()})
        return
    # What parsed goes through the rest of the pure pipeline without surprises.
    local = _localised(record, ZONE)
    _moment(local, ZONE, NOW)
    public_fields(local)
    summary_of(local, [])
    list(record_findings(local, "p-1", RecordPolicy()))


cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "2026-11-25", "2026-11-25 10:00", "lunch", "heat", "3", "1e400", "-1",
                     "nan", "a;b;;c", '"', "=1+1", "yes", "no", "true", "06901234567892"]),
)  # fmt: skip


def _csv(record_type: str) -> st.SearchStrategy[bytes]:
    columns = list(layout(record_type).columns)

    def file(header: list[str], rows: list[list[str]]) -> bytes:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
        return out.getvalue().encode()

    header = (
        st.just(columns)
        | st.permutations(columns)
        | st.lists(st.sampled_from([*columns, "extra"]), max_size=len(columns) + 1)
    )
    return st.one_of(
        header.flatmap(
            lambda h: st.builds(
                file, st.just(h), st.lists(st.lists(cells, min_size=len(h), max_size=len(h)) |
                                           st.lists(cells, max_size=3), max_size=3)
            )
        ),
        st.binary(max_size=200),
    )  # fmt: skip


csv_files = st.sampled_from(sorted(RECORD_TYPES)).flatmap(
    lambda kind: st.tuples(st.just(kind), _csv(kind))
)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(csv_files)
def test_any_csv_file_is_read_or_refused_with_its_rows(case: tuple[str, bytes]) -> None:
    record_type, data = case
    try:
        read_records(data, record_type)
    except SunledgerError as exc:
        assert exc.status_code == 422 and exc.detail
        json.dumps({"detail": exc.detail, **exc.extra()})
