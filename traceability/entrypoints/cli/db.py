"""``sunledger db``: the database schema."""

from __future__ import annotations

import typer

from traceability.entrypoints.cli.console import err, fail, load_settings
from traceability.entrypoints.cli.options import DataDir
from traceability.errors import SunledgerError
from traceability.storage.db import engine_for

db_app = typer.Typer(help="Database schema.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply every database migration."""
    settings = load_settings(data_dir)
    try:
        engine_for(settings).dispose()
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    err.print("database is at the newest schema")
