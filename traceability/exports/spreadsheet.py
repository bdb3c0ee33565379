"""CSV that is safe to open in a spreadsheet: no cell is taken for a formula."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(cell: object) -> str:
    """The cell as text; one that a spreadsheet would run as a formula gets a leading quote
    (OWASP's advice for CSV injection), so it shows as typed and runs nothing."""
    text = "" if cell is None else str(cell)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([neutralised(cell) for cell in row])
    return out.getvalue()
