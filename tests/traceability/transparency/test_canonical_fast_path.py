"""The json.dumps fast path of canonical_bytes writes exactly what the careful encoder writes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from traceability.transparency import canonical

values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**60), max_value=2**60)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


@settings(max_examples=3000, deadline=None)
@given(values)
def test_fast_path_agrees_or_steps_aside(value: Any) -> None:
    fast = canonical._fast_text(value)
    try:
        careful: str | None = canonical._serialise(value)
    except canonical.CanonicalizationError:
        careful = None
    if fast is not None:
        assert careful is not None and fast == careful


def test_floats_where_repr_and_ecmascript_differ_use_the_careful_path() -> None:
    for number in (1e-5, 1e16, 1e21, 1.5e300, 5e-324, 2.0**60, 9007199254740994.0):
        assert canonical._fast_text([number]) is None
    assert canonical._fast_text([4.0, 4.5, -0.0, 1e15]) == "[4,4.5,0,1000000000000000]"
    assert canonical.canonical_bytes({"b": 1.0, "a": "€"}) == '{"a":"€","b":1}'.encode()


# -- FixedKeys: the composed texts of hot paths (probe intake, event envelopes) --------------

ascii_keys = st.text(st.characters(max_codepoint=127), max_size=8)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(ascii_keys, values, min_size=1, max_size=6))
def test_fixed_keys_compose_the_canonical_text(value: dict[str, Any]) -> None:
    try:
        expected = canonical.canonical_text(value)
        members = {key: canonical.canonical_text(item) for key, item in value.items()}
    except canonical.CanonicalizationError:
        return
    assert canonical.FixedKeys(*value).text(**members) == expected


@given(st.lists(values, max_size=6))
def test_canonical_array_composes_the_canonical_text(items: list[Any]) -> None:
    try:
        expected = canonical.canonical_text(items)
    except canonical.CanonicalizationError:
        return
    assert canonical.canonical_array(canonical.canonical_text(i) for i in items) == expected


def test_fixed_keys_refuse_what_they_cannot_write_faithfully() -> None:
    import pytest

    shape = canonical.FixedKeys("b", "a")
    assert shape.keys == ("a", "b")
    with pytest.raises(canonical.CanonicalizationError, match="expected the members"):
        shape.text(a="1")
    with pytest.raises(canonical.CanonicalizationError, match="expected the members"):
        shape.text(a="1", b="2", c="3")
    with pytest.raises(canonical.CanonicalizationError, match="ASCII"):
        canonical.FixedKeys("é")
    with pytest.raises(canonical.CanonicalizationError, match="distinct"):
        canonical.FixedKeys("a", "a")


def _readings() -> st.SearchStrategy[dict[str, Any]]:
    from traceability.devices.intake import PHYSICAL_RANGE

    def value(kind: tuple[str, str]) -> st.SearchStrategy[dict[str, Any]]:
        low, high = PHYSICAL_RANGE[kind]
        number = st.floats(min_value=low, max_value=high) | st.integers(
            int(low) + (low != int(low)), int(high)
        )
        return number.map(lambda n: {"type": kind[0], "value": n, "uom": kind[1]})

    from datetime import datetime

    moments = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1))
    times = moments.map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S")) | st.tuples(
        moments, st.integers(1, 6)
    ).map(lambda p: p[0].strftime("%Y-%m-%dT%H:%M:%S.%f")[: 20 + p[1]])
    return st.fixed_dictionaries(
        {
            "device_id": st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True),
            "seq": st.integers(0, 2**53),
            "measured_at": times.map(lambda t: t + "Z"),
            "values": st.lists(
                st.sampled_from(sorted(PHYSICAL_RANGE)).flatmap(value), min_size=1, max_size=16
            ),
        }
    )


@settings(max_examples=200, deadline=None)
@given(_readings(), st.text(), st.binary(min_size=64, max_size=64))
def test_a_signed_readings_logged_event_is_its_canonical_form(
    unsigned: dict[str, Any], key_id: str, signature: bytes
) -> None:
    import base64
    from datetime import UTC, datetime

    from traceability.devices.intake import ProbeIntake, parse_submission
    from traceability.transparency.events import rfc3339

    sig = base64.b64encode(signature).decode()
    reading = parse_submission({"readings": [{**unsigned, "sig": sig}]}).readings[0]
    assert reading.unsigned_text == canonical.canonical_text(unsigned)
    now = datetime(2026, 11, 25, 10, 0, 0, 123456, tzinfo=UTC)
    event = ProbeIntake._event(
        reading, rfc3339(now), now, {unsigned["device_id"]: key_id}, None, None
    )
    assert event.body == canonical.canonical_bytes(event.public)
    assert event.public["payload"] == {**unsigned, "key_id": key_id, "signature": sig}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(_readings(), min_size=1, max_size=4),
    st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", fullmatch=True),
    st.integers(0, 2**53),
    st.dictionaries(st.text(max_size=8), st.text() | st.integers(-(2**53), 2**53), max_size=4),
)
def test_a_gateway_batch_and_its_events_are_their_canonical_forms(
    readings: list[dict[str, Any]], gateway_id: str, seq: int, gateway: dict[str, Any]
) -> None:
    import base64
    from datetime import UTC, datetime

    from traceability.devices.intake import ProbeIntake, parse_submission
    from traceability.transparency.events import rfc3339

    unsigned = {"gateway_id": gateway_id, "seq": seq, "readings": readings}
    body = {**unsigned, "sig": base64.b64encode(bytes(64)).decode()}
    submission = parse_submission(body)
    assert submission.batch_bytes == canonical.canonical_bytes(unsigned)
    now = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    gateway_text = canonical.canonical_text(gateway)
    for reading in submission.readings:
        event = ProbeIntake._event(reading, rfc3339(now), now, {}, gateway, gateway_text)
        assert event.body == canonical.canonical_bytes(event.public)
