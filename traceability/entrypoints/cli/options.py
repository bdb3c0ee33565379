"""Options several ``sunledger`` commands share."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Embedded mode: where the SQLite file and key live (default: the user data dir).",
    ),
]
