"""``sunledger contracts``: build the Solidity contracts into committed artifacts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from traceability.chain.contracts import BUILD_DIR, build_contracts
from traceability.entrypoints.cli.console import fail, out
from traceability.errors import SunledgerError

contracts_app = typer.Typer(help="Solidity contracts and their build artifacts.")


@contracts_app.callback()
def contracts() -> None:
    """Solidity contracts and their build artifacts."""
    # A callback keeps `contracts` a command group even while it has a single command.


@contracts_app.command("build")
def contracts_build(
    out_dir: Annotated[
        Path, typer.Option("--out-dir", help="Where to write the artifacts.")
    ] = BUILD_DIR,
) -> None:
    """Compile contracts/*.sol with the pinned solc and write one JSON artifact per contract."""
    try:
        written = build_contracts(out_dir)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    for path in written:
        out.print(str(path), highlight=False)
