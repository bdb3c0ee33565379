"""Tests for traceability.transparency.canonical: RFC 8785 (JCS) canonical JSON.

Expected outputs come from RFC 8785 itself (Sections 3.2.2-3.2.4 and Appendix B) and
from the reference test data of cyberphone/json-canonicalization (testdata/input and
testdata/output). Characters the sources write as escapes are written as escapes here
too, so that nothing invisible is lost in transcription.
"""

from __future__ import annotations

import json
import math
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traceability.errors import Invalid
from traceability.transparency.canonical import (
    CanonicalizationError,
    canonical_bytes,
    canonical_text,
    parse_json,
)

BS = "\\"

# --------------------------------------------------------------------------- RFC 8785 3.2.2

# The input of Section 3.2.2 as JSON text, exactly as the RFC spells it.
RFC_322_INPUT = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""

# Section 3.2.3: the canonical form (the RFC wraps it over two lines for display only).
RFC_322_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"\u20ac$' + BS + "u000f" + BS + "nA'B" + BS + '"' + BS + BS + BS + BS + BS + '"/"}'
)

# Section 3.2.4: the same canonical form as UTF-8 bytes.
RFC_324_HEX = """
7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d
"""


def test_rfc_3_2_2_example_text() -> None:
    assert canonical_text(parse_json(RFC_322_INPUT)) == RFC_322_OUTPUT


def test_rfc_3_2_4_example_bytes() -> None:
    expected = bytes.fromhex("".join(RFC_324_HEX.split()))
    assert canonical_bytes(parse_json(RFC_322_INPUT)) == expected
    assert canonical_bytes(json.loads(RFC_322_INPUT)) == expected
    assert expected.decode("utf-8") == RFC_322_OUTPUT


def test_rfc_3_2_2_example_built_in_python() -> None:
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    assert canonical_text(value) == RFC_322_OUTPUT


# --------------------------------------------------------------------------- RFC 8785 3.2.3

RFC_323_INPUT = (
    '{"' + BS + 'u20ac":"Euro Sign","' + BS + 'r":"Carriage Return",'
    '"' + BS + 'ufb33":"Hebrew Letter Dalet With Dagesh","1":"One",'
    '"' + BS + "ud83d" + BS + 'ude00":"Emoji: Grinning Face","' + BS + 'u0080":"Control",'
    '"' + BS + 'u00f6":"Latin Small Letter O With Diaeresis"}'
)

RFC_323_ORDER = [
    "Carriage Return",
    "One",
    "Control",
    "Latin Small Letter O With Diaeresis",
    "Euro Sign",
    "Emoji: Grinning Face",
    "Hebrew Letter Dalet With Dagesh",
]


def test_rfc_3_2_3_sorting() -> None:
    value = parse_json(RFC_323_INPUT)
    assert value == {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    text = canonical_text(value)
    pairs = json.loads(text, object_pairs_hook=lambda p: p)
    assert [v for _, v in pairs] == RFC_323_ORDER
    assert text == (
        '{"' + BS + 'r":"Carriage Return","1":"One","\u0080":"Control",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f600":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    )


def test_non_bmp_sorts_by_surrogates_not_code_point() -> None:
    # U+1F600 is D83D DE00 in UTF-16, which sorts *before* U+FB33 and U+FFFF,
    # although its code point is larger.
    text = canonical_text({"\uffff": 1, "\U0001f600": 2, "\ufb33": 3, "\ud7ff": 4})
    assert text == '{"\ud7ff":4,"\U0001f600":2,"\ufb33":3,"\uffff":1}'


# --------------------------------------------------------------------------- Appendix B

APPENDIX_B = [
    ("0000000000000000", "0"),  # Zero
    ("8000000000000000", "0"),  # Minus zero
    ("0000000000000001", "5e-324"),  # Min pos number
    ("8000000000000001", "-5e-324"),  # Min neg number
    ("7fefffffffffffff", "1.7976931348623157e+308"),  # Max pos number
    ("ffefffffffffffff", "-1.7976931348623157e+308"),  # Max neg number
    ("4340000000000000", "9007199254740992"),  # Max pos int
    ("c340000000000000", "-9007199254740992"),  # Max neg int
    ("4430000000000000", "295147905179352830000"),  # ~2**68
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),  # Round to even
]

APPENDIX_B_INVALID = [
    ("7fffffffffffffff", "NaN"),
    ("7ff0000000000000", "Infinity"),
]


def _double(hex16: str) -> float:
    value: float = struct.unpack(">d", bytes.fromhex(hex16))[0]
    return value


@pytest.mark.parametrize(("ieee754", "expected"), APPENDIX_B)
def test_appendix_b(ieee754: str, expected: str) -> None:
    value = _double(ieee754)
    assert canonical_text(value) == expected
    assert canonical_bytes([value]) == f"[{expected}]".encode("ascii")
    # Canonical number text re-parses to the very same double.
    parsed = parse_json(expected)
    assert isinstance(parsed, (int, float))
    assert float(parsed) == value


@pytest.mark.parametrize(("ieee754", "name"), APPENDIX_B_INVALID)
def test_appendix_b_invalid(ieee754: str, name: str) -> None:
    value = _double(ieee754)
    assert math.isnan(value) or math.isinf(value)
    with pytest.raises(CanonicalizationError, match="not allowed"):
        canonical_bytes(value)
    with pytest.raises(CanonicalizationError, match=r"at \$\.n\[1\]"):
        canonical_bytes({"n": [1, value]})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (9.5e-7, "9.5e-7"),
        (1e-6, "0.000001"),
        (1.5e-6, "0.0000015"),
        (1.2345e30, "1.2345e+30"),
        (-5e-324, "-5e-324"),
        (-0.0, "0"),
        (0.0, "0"),
        (56.0, "56"),
        (4.5, "4.5"),
        (0.1, "0.1"),
        (1e-4, "0.0001"),
        (1e16, "10000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (2.5e-5, "0.000025"),
        (0, "0"),
        (-1, "-1"),
        (2**53, "9007199254740992"),
        (-(2**53), "-9007199254740992"),
    ],
)
def test_number_forms(value: float, expected: str) -> None:
    assert canonical_text(value) == expected


def test_int_and_float_agree() -> None:
    for n in (0, 1, -1, 12345, 2**52 + 1, 2**53, -(2**53), 10**15):
        assert canonical_text(n) == canonical_text(float(n))


# --------------------------------------------------------------------------- cyberphone testdata

CYBERPHONE_CASES = {
    "arrays": (
        '[\n  56,\n  {\n    "d": true,\n    "10": null,\n    "1": [ ]\n  }\n]',
        '[56,{"1":[],"10":null,"d":true}]',
    ),
    "french": (
        '{\n  "peach": "This sorting order",\n  "p\u00e9ch\u00e9": "is wrong according to French",'
        '\n  "p\u00eache": "but canonicalization MUST",\n  "sin":   "ingnore locale"\n}\n',
        '{"peach":"This sorting order","p\u00e9ch\u00e9":"is wrong according to French",'
        '"p\u00eache":"but canonicalization MUST","sin":"ingnore locale"}',
    ),
    "structures": (
        '{\n  "1": {"f": {"f": "hi","F": 5} ,"' + BS + 'n": 56.0},\n  "10": { },\n'
        '  "": "empty",\n  "a": { },\n  "111": [ { } ],\n  "A": { }\n}',
        '{"":"empty","1":{"' + BS + 'n":56,"f":{"F":5,"f":"hi"}},"10":{},"111":[{}],"A":{},"a":{}}',
    ),
    "unicode": (
        '{\n  "Unnormalized Unicode":"' + BS + "u1e0d" + BS + 'u0307"\n}\n',
        '{"Unnormalized Unicode":"\u1e0d\u0307"}',
    ),
    "values": (
        '{\n  "numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],'
        '\n  "escaping": "'
        + BS
        + "u20ac$"
        + BS
        + "u000F"
        + BS
        + "u000aA'"
        + BS
        + "u0042"
        + BS
        + "u0022"
        + BS
        + "u005c"
        + BS
        + BS
        + BS
        + '"'
        + BS
        + '/",'
        '\n  "literals": [null, true, false]\n}',
        '{"escaping":"\u20ac$'
        + BS
        + "u000f"
        + BS
        + "nA'B"
        + BS
        + '"'
        + BS
        + BS
        + BS
        + BS
        + BS
        + '"/","literals":[null,true,false],'
        '"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}',
    ),
    "weird": (
        '{\n  "' + BS + 'u20ac": "Euro Sign",\n  "1": "One",\n'
        '  "' + BS + 'u0080": "Control' + BS + 'u007f",\n'
        '  "' + BS + "ud83d" + BS + 'ude02": "Smiley",\n'
        '  "' + BS + 'u00f6": "Latin Small Letter O With Diaeresis",\n'
        '  "' + BS + 'ufb33": "Hebrew Letter Dalet With Dagesh",\n'
        '  "</script>": "Browser Challenge"\n}\n',
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    ),
    "simpleString": (
        '    "this is a test string 1235"',
        '"this is a test string 1235"',
    ),
}


@pytest.mark.parametrize("name", sorted(CYBERPHONE_CASES))
def test_cyberphone_testdata(name: str) -> None:
    source, expected = CYBERPHONE_CASES[name]
    value = parse_json(source)
    assert canonical_text(value) == expected
    assert canonical_bytes(value) == expected.encode("utf-8")
    # The bytes input form parses the same, and canonical output is a fixed point.
    assert parse_json(source.encode("utf-8")) == value
    assert canonical_text(parse_json(expected)) == expected


def test_cyberphone_simple_string_outhex() -> None:
    outhex = "22 74 68 69 73 20 69 73 20 61 20 74 65 73 74 20 73 74 72 69 6E 67 20 31 32 33 35 22"
    assert canonical_bytes("this is a test string 1235") == bytes.fromhex(outhex)


# --------------------------------------------------------------------------- strings


def _reference_escape(s: str) -> str:
    """JSON.stringify's QuoteJSONString (ES2019 24.5.2.2), written out longhand."""
    named = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
    out = ['"']
    for ch in s:
        if ch in named:
            out.append(named[ch])
        elif ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def test_string_escaping_matches_json_stringify_for_every_bmp_character() -> None:
    for start in range(0, 0x10000, 0x800):
        chars = "".join(chr(cp) for cp in range(start, start + 0x800) if not 0xD800 <= cp <= 0xDFFF)
        if chars:
            assert canonical_text(chars) == _reference_escape(chars)
    astral = "\U00010000\U0001f600\U0010ffff"
    assert canonical_text(astral) == _reference_escape(astral)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("\x00", '"' + BS + 'u0000"'),
        ("\x1f", '"' + BS + 'u001f"'),
        ("\x0b", '"' + BS + 'u000b"'),
        ("\x7f", '"\x7f"'),
        ("\u2028\u2029", '"\u2028\u2029"'),
        ("/", '"/"'),
        ("\b\f\n\r\t", '"' + BS + "b" + BS + "f" + BS + "n" + BS + "r" + BS + 't"'),
        ('"\\', '"' + BS + '"' + BS + BS + '"'),
        ("\u00e9\u20ac", '"\u00e9\u20ac"'),
    ],
)
def test_string_escapes(value: str, expected: str) -> None:
    assert canonical_text(value) == expected
    assert canonical_bytes(value) == expected.encode("utf-8")


# --------------------------------------------------------------------------- structure


def test_no_whitespace_and_nested_sorting() -> None:
    value = {"b": [1, {"z": None, "y": [True, False]}], "a": {}, "c": []}
    assert canonical_text(value) == '{"a":{},"b":[1,{"y":[true,false],"z":null}],"c":[]}'


def test_tuple_is_a_list_and_bool_is_not_an_int() -> None:
    assert canonical_text((1, True, False, None)) == "[1,true,false,null]"
    assert canonical_text({"t": True, "f": False, "one": 1}) == '{"f":false,"one":1,"t":true}'


def test_str_and_int_subclasses() -> None:
    class Name(str):
        pass

    class Count(int):
        pass

    assert canonical_text({Name("k"): Name("v"), "n": Count(3)}) == '{"k":"v","n":3}'


def test_canonical_text_and_bytes_agree() -> None:
    value = {"\u20ac": ["\U0001f600", 1.5, -0.0, "\x01"]}
    assert canonical_bytes(value) == canonical_text(value).encode("utf-8")


# --------------------------------------------------------------------------- errors


def test_error_is_invalid() -> None:
    assert issubclass(CanonicalizationError, Invalid)
    with pytest.raises(Invalid) as caught:
        canonical_bytes(float("nan"))
    assert caught.value.status_code == 422
    assert "NaN" in caught.value.detail or "nan" in caught.value.detail


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_rejected(value: float) -> None:
    with pytest.raises(CanonicalizationError, match=r"not allowed.* at \$\.x"):
        canonical_bytes({"x": value})
    with pytest.raises(CanonicalizationError):
        canonical_text(value)


@pytest.mark.parametrize("value", [2**53 + 1, -(2**53) - 1, 10**30])
def test_int_beyond_2_53_rejected(value: int) -> None:
    with pytest.raises(CanonicalizationError, match=r"2\*\*53.* at \$\.seq"):
        canonical_bytes({"seq": value})


def test_lone_surrogate_rejected_with_path() -> None:
    with pytest.raises(CanonicalizationError, match=r"lone surrogate U\+D800 at \$\.a\[1\]"):
        canonical_bytes({"a": ["ok", "x\ud800"]})
    with pytest.raises(CanonicalizationError, match=r"lone surrogate U\+DE00 at \$\.a"):
        canonical_text({"a": "\ude00"})
    with pytest.raises(CanonicalizationError, match="key contains lone surrogate"):
        canonical_bytes({"k\udc00": 1})
    # A surrogate *pair* as two Python code points is still two lone surrogates.
    with pytest.raises(CanonicalizationError, match="lone surrogate"):
        canonical_bytes("\ud83d\ude00")


def test_non_str_key_rejected() -> None:
    with pytest.raises(CanonicalizationError, match=r"key 1 has type int, not str at \$\.p"):
        canonical_bytes({"p": {1: "one"}})
    with pytest.raises(CanonicalizationError, match="has type NoneType"):
        canonical_bytes({None: 1})


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        (b"raw", "bytes"),
        (bytearray(b"raw"), "bytearray"),
        ({1, 2}, "set"),
        (frozenset(), "frozenset"),
        (object(), "object"),
        (complex(1, 2), "complex"),
    ],
)
def test_unsupported_type_names_type_and_path(value: object, type_name: str) -> None:
    with pytest.raises(CanonicalizationError) as caught:
        canonical_bytes({"payload": {"values": [1, 2, value]}})
    assert str(caught.value) == f"unsupported type {type_name} at $.payload.values[2]"


def test_unsupported_stdlib_types() -> None:
    import datetime
    import decimal

    with pytest.raises(CanonicalizationError, match=r"unsupported type datetime at \$$"):
        canonical_bytes(datetime.datetime(2024, 1, 1))
    with pytest.raises(CanonicalizationError, match=r"Decimal at \$\[0\]"):
        canonical_bytes([decimal.Decimal("1.5")])


def test_path_quotes_non_identifier_keys() -> None:
    with pytest.raises(CanonicalizationError, match=r'at \$\["a b"\]\.c\[0\]\["1"\]$'):
        canonical_bytes({"a b": {"c": [{"1": b""}]}})


def test_cycle_rejected() -> None:
    loop: list[object] = []
    loop.append(loop)
    with pytest.raises(CanonicalizationError, match="nested too deeply"):
        canonical_bytes(loop)


# --------------------------------------------------------------------------- parse_json


def test_parse_json_duplicate_keys() -> None:
    with pytest.raises(CanonicalizationError, match='duplicate object key "a"'):
        parse_json('{"a": 1, "b": 2, "a": 3}')
    # Duplicates are found after unescaping.
    with pytest.raises(CanonicalizationError, match='duplicate object key "a"'):
        parse_json('{"a": 1, "' + BS + 'u0061": 2}')
    with pytest.raises(CanonicalizationError, match="duplicate"):
        parse_json('[{"x": {"k": 1, "k": 1}}]')


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_parse_json_rejects_non_finite_literals(literal: str) -> None:
    with pytest.raises(CanonicalizationError, match=literal):
        parse_json(f'{{"x": [{literal}]}}')


def test_parse_json_rejects_overflowing_numbers() -> None:
    with pytest.raises(CanonicalizationError, match="overflows"):
        parse_json("[1e400]")
    with pytest.raises(CanonicalizationError, match="cannot be represented"):
        parse_json("1" + "0" * 400)


def test_parse_json_integers() -> None:
    assert parse_json("9007199254740992") == 2**53
    assert type(parse_json("-9007199254740992")) is int
    # Beyond 2**53 an integer that a double holds exactly, or that is a double's own
    # canonical spelling, is read as that double (as ECMAScript would) ...
    assert parse_json("9007199254740994") == 9007199254740994.0
    assert parse_json("295147905179352830000") == _double("4430000000000000")
    # ... but one a double would silently change is refused.
    with pytest.raises(CanonicalizationError, match="9007199254740993 cannot be represented"):
        parse_json("9007199254740993")


def test_parse_json_lone_surrogates() -> None:
    with pytest.raises(CanonicalizationError, match=r"lone surrogate U\+D800 at \$\.a\[0\]"):
        parse_json('{"a": ["' + BS + 'ud800"]}')
    with pytest.raises(CanonicalizationError, match=r"lone surrogate U\+DE00"):
        parse_json('"' + BS + "ude00" + BS + 'ud83d"')
    with pytest.raises(CanonicalizationError, match="key contains lone surrogate"):
        parse_json('{"' + BS + 'udfff": 1}')
    with pytest.raises(CanonicalizationError, match="lone surrogate"):
        parse_json('"raw \ud800"')
    # A proper pair is one character; an escaped backslash before "ud800" is text.
    assert parse_json('"' + BS + "ud83d" + BS + 'ude00"') == "\U0001f600"
    assert parse_json('"' + BS + BS + 'ud800"') == BS + "ud800"


def test_parse_json_malformed() -> None:
    for text in ["", "{", '{"a" 1}', "[1,]", "[1] x", "'a'", '"tab\there"', "\ufeff[]"]:
        with pytest.raises(CanonicalizationError, match="invalid JSON"):
            parse_json(text)


def test_parse_json_bytes() -> None:
    assert parse_json('{"\u20ac": [1, 2.5]}'.encode()) == {"\u20ac": [1, 2.5]}
    with pytest.raises(CanonicalizationError, match="not valid UTF-8"):
        parse_json(b'"\xff"')
    with pytest.raises(CanonicalizationError, match="not valid UTF-8"):
        parse_json(b'"\xed\xa0\x80"')  # an encoded surrogate


def test_parse_json_too_deep() -> None:
    with pytest.raises(CanonicalizationError, match="too deeply"):
        parse_json("[" * 100_000 + "]" * 100_000)


# --------------------------------------------------------------------------- properties

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


def _numbers_as_floats(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict):
        return {k: _numbers_as_floats(v) for k, v in value.items()}
    return [_numbers_as_floats(v) for v in value]


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_round_trip(value: Any) -> None:
    text = canonical_text(value)
    # json.loads reads it back to the same value (numbers compared as doubles, which
    # is also what makes -0.0 equal 0).
    assert _numbers_as_floats(json.loads(text, parse_int=float)) == _numbers_as_floats(value)
    # Canonicalisation is idempotent, with either parser.
    assert canonical_text(parse_json(text)) == text
    assert canonical_bytes(parse_json(text.encode("utf-8"))) == text.encode("utf-8")
    # No insignificant whitespace ever: outside strings, none at all.
    assert canonical_text(json.loads(text, parse_int=float)) == text


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_float_round_trip(value: float) -> None:
    text = canonical_text(value)
    assert float(text) == value
    assert canonical_text(float(text)) == text
    # ES Number::toString writes positional digits exactly when -6 < n <= 21 (the
    # decimal exponent of the leading digit plus one), i.e. for 1e-6 <= |x| < 1e21.
    if value == 0 or 1e-6 <= abs(value) < 1e21:
        assert "e" not in text
    else:
        assert "e" in text


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), st.integers(min_value=0, max_value=9), max_size=12))
def test_member_order_is_utf16_code_unit_order(value: dict[str, int]) -> None:
    pairs = json.loads(canonical_text(value), object_pairs_hook=lambda p: p)
    names = [name for name, _ in pairs]
    assert names == sorted(value, key=lambda k: k.encode("utf-16-be"))
