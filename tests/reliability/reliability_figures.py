"""Counts and figures of the reliability suite (RELIABILITY.md), and the run size.

``SUNLEDGER_RELIABILITY=full`` selects the full counts (``make reliability``);
otherwise each test runs its quick version inside ``make test``. A test calls
``record_figure`` with what it measured: the figure is printed (``pytest -s``
shows it) and, when ``SUNLEDGER_RELIABILITY_FIGURES`` names a file, appended to
it as one JSON line, from which RELIABILITY.md's figures are copied.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FULL = os.environ.get("SUNLEDGER_RELIABILITY", "").lower() == "full"


def record_figure(name: str, figure: dict[str, Any]) -> None:
    line = {
        "test": name,
        "run": "full" if FULL else "quick",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        **figure,
    }
    text = json.dumps(line, ensure_ascii=False, sort_keys=True)
    print(f"\nreliability figure: {text}")
    target = os.environ.get("SUNLEDGER_RELIABILITY_FIGURES")
    if target:
        with Path(target).open("a", encoding="utf-8") as out:
            out.write(text + "\n")
