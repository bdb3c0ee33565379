"""RFC 8785 JSON Canonicalization Scheme (JCS).

The canonical form of a JSON value is the byte string every party hashes and
signs, so it must not depend on who produced it:

* objects have their members sorted by name, comparing names as arrays of
  UTF-16 code units (a character beyond the BMP sorts by its surrogates);
* there is no whitespace anywhere;
* strings are escaped exactly as ECMAScript's ``JSON.stringify`` does: ``\\"``,
  ``\\\\``, ``\\b``, ``\\f``, ``\\n``, ``\\r``, ``\\t``, every other control
  character below U+0020 as ``\\u00xx`` with lowercase hex, and everything else
  (non-ASCII, U+2028/U+2029, ``/``, DEL) literally;
* numbers are IEEE-754 doubles written by the ECMAScript Number-to-String
  algorithm (ES2019 7.1.12.1): the shortest digits that round-trip, in plain
  decimal notation when 1e-6 <= |x| < 1e21, otherwise as ``1e+21`` / ``1e-7``;
  ``-0`` is written ``0``;
* the result is encoded as UTF-8.

Values that have no faithful canonical form are refused with
:class:`CanonicalizationError` rather than silently altered: NaN and the
infinities, Python ints beyond 2**53 (a double cannot hold them exactly),
strings holding surrogate code points, non-string object keys, and any type
other than dict, list/tuple, str, int, float, bool and None.

The module is pure (standard library only) and has no state.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from json.encoder import encode_basestring as _quote
from typing import NoReturn, cast

from traceability.errors import Invalid

__all__ = [
    "CanonicalizationError",
    "FixedKeys",
    "canonical_array",
    "canonical_bytes",
    "canonical_number",
    "canonical_object",
    "canonical_string",
    "canonical_text",
    "parse_json",
]

# Every integer n with |n| <= 2**53 is exactly a double; beyond that some are not.
_MAX_EXACT_INT = 2**53

_SURROGATE = re.compile("[\ud800-\udfff]")
# A ``\uD800``..``\uDFFF`` escape in JSON source text (may be a false positive
# after an escaped backslash; it only gates a slower exact check).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


class CanonicalizationError(Invalid):
    """A value cannot be canonicalised (or parsed) under RFC 8785 rules."""


class _Refused(Exception):
    """Internal: a refusal on its way up, collecting the path as it unwinds."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.segments: list[str] = []


def _key_segment(key: str) -> str:
    if key.isidentifier():
        return "." + key
    return "[" + json.dumps(key) + "]"


def _path(segments: list[str]) -> str:
    """Format a JSON path from its segments, innermost first."""
    return "$" + "".join(reversed(segments))


def _refusal(reason: str, segments: list[str]) -> CanonicalizationError:
    return CanonicalizationError(f"{reason} at {_path(segments)}")


# --------------------------------------------------------------------------- numbers


def _format_float(x: float) -> str:
    """ECMAScript Number::toString for a finite double (``-0`` gives ``0``)."""
    if x == 0.0:
        return "0"
    r = repr(x)
    if "e" not in r:
        # repr uses positional notation for 1e-4 <= |x| < 1e16, a range in which
        # ECMAScript also writes positional digits; only the ".0" differs.
        return r[:-2] if r[-2:] == ".0" else r
    sign = ""
    if r[0] == "-":
        sign = "-"
        r = r[1:]
    mantissa, _, exp = r.partition("e")
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    stripped = digits.lstrip("0")
    # n: the position of the decimal point relative to the first significant digit,
    # i.e. x = 0.d1d2...dk * 10**n (ES2019 7.1.12.1 step 5).
    n = len(int_part) + int(exp) - (len(digits) - len(stripped))
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exponent = ("e+" if e >= 0 else "e-") + str(abs(e))
    if k == 1:
        return sign + digits + exponent
    return sign + digits[0] + "." + digits[1:] + exponent


def _number(value: int | float) -> str:
    if isinstance(value, int):
        if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
            return int.__repr__(value)
        raise _Refused(
            f"integer {value} is beyond 2**53 and cannot be represented exactly "
            "as an IEEE-754 double"
        )
    if not math.isfinite(value):
        raise _Refused(f"number {value!r} is not allowed (NaN and Infinity have no JSON form)")
    return _format_float(float(value))


# --------------------------------------------------------------------------- encoder


def _utf16_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _sorted_keys(obj: dict[object, object]) -> list[str]:
    # Checked right here: join raises TypeError if any key is not a str.
    str_keyed = cast("dict[str, object]", obj)
    try:
        joined = "".join(str_keyed)
    except TypeError:
        for key in obj:
            if not isinstance(key, str):
                raise _Refused(
                    f"object key {key!r} has type {type(key).__qualname__}, not str"
                ) from None
        raise
    keys = sorted(str_keyed)
    if not joined.isascii() and max(joined) > "\uffff":
        # Outside the BMP, code point order and UTF-16 code unit order differ.
        keys.sort(key=_utf16_key)
    return keys


def _encode(value: object, out: list[str]) -> None:
    if type(value) is str:
        out.append(_quote(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, (int, float)):
        out.append(_number(value))
    elif isinstance(value, dict):
        out.append("{")
        first = True
        for key in _sorted_keys(value):
            if first:
                first = False
                out.append(_quote(key if type(key) is str else str.__str__(key)) + ":")
            else:
                out.append("," + _quote(key if type(key) is str else str.__str__(key)) + ":")
            item = value[key]
            if type(item) is str:
                out.append(_quote(item))
                continue
            try:
                _encode(item, out)
            except _Refused as refused:
                refused.segments.append(_key_segment(key))
                raise
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            try:
                _encode(item, out)
            except _Refused as refused:
                refused.segments.append(f"[{index}]")
                raise
        out.append("]")
    elif isinstance(value, str):
        out.append(_quote(str.__str__(value)))
    else:
        raise _Refused(f"unsupported type {type(value).__qualname__}")


def _find_surrogate(value: object, segments: list[str]) -> None:
    """Raise for the first string (or key) holding a surrogate code point.

    ``segments`` is the path so far, innermost segment first.
    """
    if isinstance(value, str):
        match = _SURROGATE.search(value)
        if match is not None:
            raise _refusal(f"string contains lone surrogate U+{ord(match.group()):04X}", segments)
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = [_key_segment(str(key)), *segments]
            if isinstance(key, str) and (match := _SURROGATE.search(key)) is not None:
                raise _refusal(
                    f"object key contains lone surrogate U+{ord(match.group()):04X}", inner
                )
            _find_surrogate(item, inner)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _find_surrogate(item, [f"[{index}]", *segments])


def _serialise(value: object) -> str:
    out: list[str] = []
    try:
        _encode(value, out)
    except _Refused as refused:
        raise _refusal(refused.reason, refused.segments) from None
    except RecursionError:
        raise CanonicalizationError(
            "value is nested too deeply (or contains a reference cycle)"
        ) from None
    return "".join(out)


def _to_utf8(text: str, value: object) -> bytes:
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        pass
    # Slow path, only on failure: say where the offending string is.
    _find_surrogate(value, [])
    raise CanonicalizationError("value contains a lone surrogate")


class _NotFast(Exception):
    """The value needs the careful encoder (or is refused by it)."""


def _plain(value: object) -> object:
    """``value`` rebuilt so that ``json.dumps`` writes exactly its RFC 8785 text.

    Integral floats become ints (JSON's ``4.0`` is JCS's ``4``); other floats
    are kept only where Python's repr and ECMAScript agree (1e-4 <= |x| < 1e16).
    Anything else (big ints, odd floats, keys outside the BMP, other types)
    raises ``_NotFast``.
    """
    kind = type(value)
    if kind is str or value is None or value is True or value is False:
        return value
    if kind is int:
        if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:  # type: ignore[operator]
            return value
        raise _NotFast
    if kind is float:
        number = cast(float, value)
        if number.is_integer():
            if -_MAX_EXACT_INT <= number <= _MAX_EXACT_INT:
                return int(number)
            raise _NotFast  # repr would add ".0"
        if 1e-4 <= abs(number) < 1e16:
            return number
        raise _NotFast
    if kind is dict:
        out = {}
        for key, item in cast("dict[object, object]", value).items():
            if type(key) is not str or (not key.isascii() and max(key) > "\uffff"):
                raise _NotFast
            out[key] = _plain(item)
        return out
    if kind is list or kind is tuple:
        return [_plain(item) for item in cast("list[object]", value)]
    raise _NotFast


def _fast_text(value: object) -> str | None:
    try:
        return json.dumps(
            _plain(value),
            ensure_ascii=False,
            separators=(",", ":"),
            sort_keys=True,
            allow_nan=False,
        )
    except (_NotFast, ValueError, RecursionError):
        return None


def canonical_bytes(value: object) -> bytes:
    """Return the RFC 8785 canonical form of ``value`` as UTF-8 bytes.

    ``value`` is a JSON value built from dict (str keys), list or tuple, str,
    int, float, bool and None. Raises :class:`CanonicalizationError`, naming
    the JSON path (e.g. ``$.payload.values[2]``), for NaN or infinite floats,
    ints beyond 2**53, strings with surrogate code points, non-str keys and
    unsupported types.
    """
    text = _fast_text(value)
    if text is not None:
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:
            pass  # a lone surrogate: the careful path names where
    return _to_utf8(_serialise(value), value)


def canonical_number(value: int | float) -> str:
    """The RFC 8785 text of one number (ECMAScript ``Number::toString``).

    Raises :class:`CanonicalizationError` for NaN, infinities and integers beyond 2**53.
    """
    if isinstance(value, bool):
        raise CanonicalizationError("a boolean is not a number")
    try:
        return _number(value)
    except _Refused as refused:
        raise _refusal(refused.reason, refused.segments) from None


def canonical_string(text: str) -> str:
    """The RFC 8785 text of one string (quoted and escaped as JCS requires)."""
    return _quote(text)


def canonical_object(members: Mapping[str, str]) -> str:
    """The RFC 8785 text of an object whose member values are already canonical text.

    For hot paths that build an event from parts they have canonicalised once
    (a reading's values, a gateway attestation). Keys must be ASCII, which
    makes code-point order the UTF-16 order JCS asks for.
    """
    if not all(key.isascii() for key in members):
        raise CanonicalizationError("canonical_object takes ASCII keys only")
    return (
        "{" + ",".join(f"{canonical_string(key)}:{members[key]}" for key in sorted(members)) + "}"
    )


def canonical_array(items: Iterable[str]) -> str:
    """The RFC 8785 text of an array whose items are already canonical text."""
    return "[" + ",".join(items) + "]"


class FixedKeys:
    """Canonical text of objects with one fixed set of ASCII keys, composed from member
    texts that are already canonical: the hot paths' alternative to encoding a dict.

    The keys are sorted once, here (ASCII keys: code-point order is the UTF-16 order
    JCS asks for), so :meth:`text` is one join. Each member's text must itself be
    canonical: from :func:`canonical_string`, :func:`canonical_number`,
    :func:`canonical_text`, :func:`canonical_array` or another ``FixedKeys``.
    ``tests/traceability/transparency/test_canonical_fast_path.py`` proves the
    result equal to :func:`canonical_text` of the same object.
    """

    __slots__ = ("_parts", "keys")

    def __init__(self, *keys: str) -> None:
        if not keys or len(set(keys)) != len(keys):
            raise CanonicalizationError(f"FixedKeys needs distinct keys, got {keys!r}")
        if not all(isinstance(key, str) and key.isascii() for key in keys):
            raise CanonicalizationError(f"FixedKeys takes ASCII keys only, got {keys!r}")
        self.keys: tuple[str, ...] = tuple(sorted(keys))
        self._parts = tuple(
            (("{" if i == 0 else ",") + canonical_string(key) + ":", key)
            for i, key in enumerate(self.keys)
        )

    def text(self, /, **members: str) -> str:
        """The object's canonical text; ``members`` maps every key to its value's text."""
        try:
            if len(members) == len(self._parts):
                return "".join([head + members[key] for head, key in self._parts]) + "}"
        except KeyError:
            pass
        expected = list(self.keys)
        raise CanonicalizationError(f"expected the members {expected}, got {sorted(members)}")


def canonical_text(value: object) -> str:
    """Return the RFC 8785 canonical form of ``value`` as text.

    Same rules and errors as :func:`canonical_bytes`; the bytes are this text
    encoded as UTF-8.
    """
    text = _serialise(value)
    if not text.isascii() and _SURROGATE.search(text) is not None:
        _to_utf8(text, value)
    return text


# --------------------------------------------------------------------------- parser


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CanonicalizationError(f"duplicate object key {json.dumps(key)}")
            seen.add(key)
    return obj


def _reject_constant(name: str) -> NoReturn:
    raise CanonicalizationError(f"{name} is not a JSON number (I-JSON allows finite numbers only)")


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise CanonicalizationError(
            f"number {literal} overflows an IEEE-754 double (I-JSON allows finite numbers only)"
        )
    return value


def _parse_int(literal: str) -> int | float:
    digits = len(literal) - literal.startswith("-")
    if digits <= 15:
        return int(literal)
    if digits <= 400:
        value = int(literal)
        if -_MAX_EXACT_INT <= value <= _MAX_EXACT_INT:
            return value
        as_float = float(literal)
        # Beyond 2**53 an integer literal is read as the double it denotes, but only
        # when nothing is lost: the double is exactly this integer, or the literal is
        # that double's own canonical spelling (so canonical output always re-parses).
        if math.isfinite(as_float) and (
            int(as_float) == value or _format_float(as_float) == literal
        ):
            return as_float
    raise CanonicalizationError(
        f"integer {literal[:40]}{'...' if len(literal) > 40 else ''} cannot be represented "
        "exactly as an IEEE-754 double"
    )


def parse_json(text: str | bytes) -> object:
    """Parse JSON text under the I-JSON rules RFC 8785 relies on.

    Bytes must be UTF-8. Raises :class:`CanonicalizationError` with the reason
    for malformed JSON, duplicate object keys (compared after unescaping),
    ``NaN``/``Infinity`` literals, numbers that overflow a double, integer
    literals beyond 2**53 that a double cannot hold exactly, and strings or
    keys containing lone surrogates (raw, or as ``\\uD800``-style escapes).
    Integer literals within 2**53 come back as int; other numbers as float.
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            source = bytes(text).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise CanonicalizationError(f"JSON text is not valid UTF-8: {exc.reason}") from None
    else:
        source = text
    try:
        value = json.loads(
            source,
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
    except json.JSONDecodeError as exc:
        raise CanonicalizationError(f"invalid JSON: {exc}") from None
    except RecursionError:
        raise CanonicalizationError("JSON text is nested too deeply") from None
    if _SURROGATE_ESCAPE.search(source) is not None or (
        not source.isascii() and _SURROGATE.search(source) is not None
    ):
        _find_surrogate(value, [])
    return value
