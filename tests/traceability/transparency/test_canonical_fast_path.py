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
