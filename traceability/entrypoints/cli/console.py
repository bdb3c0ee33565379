"""What every ``sunledger`` command shares: its two consoles, its error exit and its settings."""

from __future__ import annotations

from pathlib import Path

import typer
from pydantic import ValidationError
from rich.console import Console

from traceability.settings import Settings

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``error: message`` on stderr and return the exit to raise (2 by default)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def load_settings(data_dir: Path | None) -> Settings:
    """Settings from the environment, with ``--data-dir`` taking precedence."""
    try:
        return Settings(data_dir=data_dir) if data_dir is not None else Settings()
    except ValidationError as exc:
        problems = "; ".join(
            (f"SUNLEDGER_{'_'.join(str(p) for p in e['loc']).upper()}: " if e["loc"] else "")
            + str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        raise fail(f"invalid settings: {problems}") from None
