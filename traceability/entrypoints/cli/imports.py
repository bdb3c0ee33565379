"""``sunledger import inspections``: load inspection history from a published file."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from traceability.entrypoints.cli.console import fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.entrypoints.cli.progress import progress_bar, tracking
from traceability.errors import SunledgerError
from traceability.inspections.history import HistoryImport, ImportOptions, ImportReport
from traceability.inspections.importers.parsed import FORMATS
from traceability.inspections.importers.reading import DEFAULT_SCHEMES, read_path
from traceability.platform import open_platform
from traceability.rules.schemes import SCHEMES
from traceability.storage.db import transaction

import_app = typer.Typer(help="Import history from other systems.", no_args_is_help=True)


@import_app.command("inspections")
def inspections(
    path: Annotated[Path, typer.Argument(help="The file (LIVES: a zip, a directory or a CSV).")],
    format: Annotated[str, typer.Option("--format", help=f"One of: {', '.join(FORMATS)}.")],
    district: Annotated[str, typer.Option(help="District the imported premises lie in.")],
    scheme: Annotated[
        str | None,
        typer.Option(help=f"Inspection scheme ({', '.join(SCHEMES)}); default by format."),
    ] = None,
    encoding: Annotated[str, typer.Option(help="Text encoding, e.g. cp1252.")] = "utf-8",
    source: Annotated[
        str | None, typer.Option(help="Registry the external ids belong to (default: format).")
    ] = None,
    org: Annotated[
        str | None,
        typer.Option(
            help="Restaurant organisation holding the premises (default imported-<source>)."
        ),
    ] = None,
    authority: Annotated[
        str | None, typer.Option(help="Inspecting authority (default: the file's).")
    ] = None,
    timezone: Annotated[
        str | None, typer.Option(help="IANA zone of the premises (default: the scheme's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    data_dir: DataDir = None,
) -> None:
    """Load businesses, inspections and violations; idempotent (a re-run changes nothing).

    Exit 0 when the file loaded (rows may have been refused: the report lists them),
    2 when the file as a whole was refused (nothing is stored).
    """
    settings = load_settings(data_dir)
    src = source or format
    options = ImportOptions(
        scheme=scheme or DEFAULT_SCHEMES.get(format, "cn"),
        source=src,
        district=district,
        org_id=org or f"imported-{src.replace(':', '-')}"[:64],
        authority=authority,
        timezone=timezone,
        alert_window_days=settings.inspection_alert_window_days,
    )
    try:
        parsed = read_path(format, path, encoding)
        _engine, sessions, log, _signer = open_platform(settings)
        with (
            progress_bar("importing", eta=False, transient=True) as bar,
            transaction(sessions) as session,
        ):
            report = HistoryImport(log).run(
                session,
                str(path),
                parsed,
                options,
                datetime.now(UTC),
                on_progress=tracking(bar, "import"),
            )
    except SunledgerError as exc:
        raise fail(f"{path}: {exc.detail} (nothing was stored)") from None
    if as_json:
        out.print_json(json.dumps(report.as_dict()))
        return
    print_report(report, out.print)


def print_report(report: ImportReport, say: Callable[..., None]) -> None:
    say(
        f"{report.file}: {report.loaded} loaded ({report.historical} historical, "
        f"{report.alerts_opened} alert(s) opened), {len(report.skipped)} skipped, "
        f"{len(report.refused)} refused; {report.premises_added} premises added "
        f"(format {report.format}, scheme {report.scheme}, source {report.source})",
        highlight=False,
    )
    for label, rows in (("skipped", report.skipped), ("refused", report.refused)):
        for r in rows[:1000]:
            say(f"  {label}: {r.where}: {r.reason}\n    row: {r.row}", highlight=False)
        if len(rows) > 1000:
            say(f"  ... and {len(rows) - 1000} more {label}", highlight=False)
