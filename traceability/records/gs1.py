"""GTINs and GS1 Digital Link paths (``/01/{gtin}/10/{lot}``) for received lots."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from traceability.errors import Invalid
from traceability.messages import message

_DIGITS = re.compile(r"^[0-9]{8,14}$")


def check_digit(body: str) -> int:
    """The GS1 mod-10 check digit of the digits before it (weights 3, 1, 3, ... from the right)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def normalise_gtin(gtin: str) -> str:
    """The GTIN as 14 digits (GTIN-8/12/13 padded with zeros), its check digit verified.

    Raises ``Invalid`` naming the GTIN and, for a wrong check digit, the expected one.
    """
    if not _DIGITS.match(gtin):
        raise Invalid(message("record.gtin_digits", gtin=gtin[:40]))
    expected = check_digit(gtin[:-1])
    if int(gtin[-1]) != expected:
        raise Invalid(
            message("record.gtin_check_digit", gtin=gtin, digit=int(gtin[-1]), expected=expected)
        )
    return gtin.zfill(14)


def gtin_spellings(gtin14: str) -> list[str]:
    """Every 8-14 digit spelling of a 14-digit GTIN (leading zeros dropped one by one)."""
    spellings = [gtin14]
    text = gtin14
    while len(text) > 8 and text[0] == "0":
        text = text[1:]
        spellings.append(text)
    return spellings


def digital_link_path(gtin: str, lot_code: str) -> str:
    """``/01/<14-digit GTIN>/10/<lot, percent-encoded>``: the lot's GS1 Digital Link path.

    Every character outside the unreserved set is percent-encoded, a ``/`` as ``%2F``
    (GS1 AI 10 allows ``/`` and ``%``); ``lot_from_path`` reads it back."""
    return f"/01/{gtin.zfill(14)}/10/{quote(lot_code, safe='')}"


@dataclass(frozen=True)
class LotPath:
    """A GS1 Digital Link path of a lot, decoded: ``/01/{gtin}/10/{lot}[/{tail}]``."""

    gtin: str
    lot_code: str
    tail: str | None
    """``qr.svg`` for the lot's QR code; None for the lot itself."""


def lot_from_path(raw_path: str) -> LotPath | None:
    """The lot a path names, read from the path as sent (still percent-encoded), so that a
    ``/`` inside the lot code (``%2F``) is not taken for a separator. None when the path
    is not ``/01/{gtin}/10/{lot}`` or ``/01/{gtin}/10/{lot}/qr.svg``."""
    parts = raw_path.split("/")
    if len(parts) not in (5, 6) or parts[0] != "" or parts[1] != "01" or parts[3] != "10":
        return None
    tail = parts[5] if len(parts) == 6 else None
    if tail not in (None, "qr.svg"):
        return None
    try:
        lot_code = unquote(parts[4], errors="strict")
    except UnicodeDecodeError:
        raise Invalid(f"the lot code {parts[4][:100]!r} in the path is not UTF-8") from None
    return LotPath(unquote(parts[2]), lot_code, tail)
