"""QR codes (segno) for the door of a premises and for received lots.

The SVG carries the target URL in its ``<desc>`` too, so a screen reader (and a
test) can read where the code points without decoding it.
"""

from __future__ import annotations

import io

import segno

from traceability.records.gs1 import digital_link_path

# Level M survives about 15 % damage: enough for a sticker on a door or a crate.
ERROR_LEVEL = "m"
SVG_SCALE = 4
PNG_SCALE = 8


def premises_url(base_url: str, premises_id: str) -> str:
    """The public page a premises' QR code points to: ``{base}/r/{premises_id}``."""
    return f"{base_url.rstrip('/')}/r/{premises_id}"


def lot_url(base_url: str, gtin: str, lot_code: str) -> str:
    """A lot's GS1 Digital Link URI: ``{base}/01/{gtin14}/10/{lot}``."""
    return f"{base_url.rstrip('/')}{digital_link_path(gtin, lot_code)}"


def _code(url: str) -> segno.QRCode:
    return segno.make(url, error=ERROR_LEVEL, micro=False)


def qr_svg(url: str, title: str) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="svg", scale=SVG_SCALE, title=title, desc=url, xmldecl=False)
    return out.getvalue()


def qr_png(url: str) -> bytes:
    out = io.BytesIO()
    _code(url).save(out, kind="png", scale=PNG_SCALE)
    return out.getvalue()
