"""The ``sunledger`` command."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from traceability.checkpoints import NoteSigner, write_signer_key_file
from traceability.db import engine_for, transaction
from traceability.errors import SunledgerError
from traceability.ingest import Ingest, parse_batch
from traceability.platform import open_platform
from traceability.settings import Settings

app = typer.Typer(help="Sunshine Ledger: a verifiable food-safety event log.", no_args_is_help=True)
log_app = typer.Typer(help="Append to the log and sign checkpoints.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(log_app, name="log")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Embedded mode: where the SQLite file and key live (default: the user data dir).",
    ),
]


def fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def load_settings(data_dir: Path | None) -> Settings:
    """Settings from the environment, with ``--data-dir`` taking precedence."""
    try:
        return Settings(data_dir=data_dir) if data_dir is not None else Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"SUNLEDGER_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        )
        raise fail(f"invalid settings: {problems}") from None


def show_progress() -> bool:
    """A progress bar on a terminal, quiet in CI and pipes."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the API (auditor endpoints, health)."""
    settings = load_settings(data_dir)
    try:
        open_platform(settings)  # fail here, with a clear message, not inside the server
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    run_server(settings, host, port)


def run_server(settings: Settings, host: str, port: int) -> None:
    """Hand over to ``python -m api`` (the web layer), which this package never imports."""
    env = dict(os.environ)
    env["SUNLEDGER_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url is not None:
        env["SUNLEDGER_DATABASE_URL"] = settings.database_url.get_secret_value()
    command = [sys.executable, "-m", "api", "--host", host, "--port", str(port)]
    os.execve(sys.executable, command, env)


def _read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SunledgerError(f"{path}:{number}: not JSON ({exc})") from None


@log_app.command("append")
def log_append(
    file: Annotated[Path, typer.Argument(help="Events, one JSON object per line.")],
    data_dir: DataDir = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000)] = 1000,
    receipts: Annotated[
        Path | None, typer.Option(help="Write the signed receipts here (JSON lines).")
    ] = None,
) -> None:
    """Append a JSONL file of events; every line is checked before anything is stored.

    Each batch is one transaction. Events that carry an ``id`` are appended
    once, however often the file is run (a rerun gets the same receipts).
    """
    if not file.is_file():
        raise fail(f"{file}: no such file")
    settings = load_settings(data_dir)
    try:
        lines = list(_read_jsonl(file))
        numbers = [n for n, _ in lines]
        events = []
        for start in range(0, len(lines), 10_000):
            chunk = lines[start : start + 10_000]
            try:
                events.extend(parse_batch([raw for _, raw in chunk]))
            except SunledgerError as exc:
                # "event 12: ..." -> name the file line instead
                position, _, reason = exc.detail.partition(": ")
                index = start + int(position.split()[-1])
                raise SunledgerError(f"{file}:{numbers[index]}: {reason}") from None
        _engine, sessions, log, signer = open_platform(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    ingest = Ingest(log)
    appended = 0
    sink = receipts.open("w") if receipts else None
    try:
        with Progress(
            TextColumn("appending"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not show_progress(),
        ) as progress:
            task = progress.add_task("append", total=len(events))
            for start in range(0, len(events), batch_size):
                batch = events[start : start + batch_size]
                with transaction(sessions) as session:
                    result = ingest.ingest(session, batch)
                appended += result.appended
                if sink:
                    for receipt in result.receipts:
                        sink.write(json.dumps(receipt.signed(signer)) + "\n")
                progress.advance(task, len(batch))
            with transaction(sessions) as session:
                cp = log.checkpoint(session, signer)
    except SunledgerError as exc:
        raise fail(f"{file}: {exc.detail} (batches before this one are stored)") from None
    finally:
        if sink:
            sink.close()
    err.print(
        f"{appended} new events appended, {len(events) - appended} already logged; "
        f"log size {cp.tree_size}",
        highlight=False,
    )


@app.command()
def demo(
    data_dir: DataDir = None,
    serve_site: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the API when done.")
    ] = True,
    reset: Annotated[bool, typer.Option(help="Start from an empty data directory.")] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Log a demo day of a few kitchens on the embedded default, then serve the API."""
    from traceability.demo import scenario_events

    settings = load_settings(data_dir)
    if not settings.is_embedded:
        raise fail("the demo runs on the embedded default; unset SUNLEDGER_DATABASE_URL")
    if reset:
        for name in ("sunledger.db", "sunledger.db-wal", "sunledger.db-shm", "log-signing.key"):
            (settings.data_dir / name).unlink(missing_ok=True)
    try:
        _engine, sessions, log, signer = open_platform(settings)
        events = parse_batch(list(scenario_events()))
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    ingest = Ingest(log)
    appended = 0
    with Progress(
        TextColumn("logging the demo day"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        disable=not show_progress(),
    ) as progress:
        task = progress.add_task("demo", total=len(events))
        for start in range(0, len(events), 500):
            with transaction(sessions) as session:
                appended += ingest.ingest(session, events[start : start + 500]).appended
            progress.advance(task, min(500, len(events) - start))
    with transaction(sessions) as session:
        cp = log.checkpoint(session, signer)
    base = f"http://{host}:{port}"
    out.print(
        f"[bold]Demo log ready[/] in {settings.data_dir}: {cp.tree_size} events "
        f"({appended} new this run), checkpoint signed.",
        highlight=False,
    )
    out.print(f"  signed checkpoint   {base}/v1/log/checkpoint", highlight=False)
    out.print(f"  verifier key        {base}/v1/log/public-key", highlight=False)
    out.print(f"  first entry         {base}/v1/log/entries/0", highlight=False)
    out.print(
        f"  inclusion proof     {base}/v1/log/proof/inclusion?index=0&tree_size={cp.tree_size}",
        highlight=False,
    )
    out.print(f"  API documentation   {base}/docs", highlight=False)
    if serve_site:
        run_server(settings, host, port)


@log_app.command("checkpoint")
def log_checkpoint(data_dir: DataDir = None) -> None:
    """Sign a checkpoint for the current log size and print it (a C2SP signed note)."""
    settings = load_settings(data_dir)
    try:
        _engine, sessions, log, signer = open_platform(settings)
        with transaction(sessions) as session:
            cp = log.checkpoint(session, signer)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    sys.stdout.write(cp.note)


@keys_app.command("generate")
def keys_generate(
    out_file: Annotated[Path, typer.Option("--out", help="Key file to create (mode 0600).")],
    name: Annotated[str, typer.Option(help="Key name in signatures.")] = "sunledger-log",
) -> None:
    """Create an Ed25519 note signer key file; print its verifier key."""
    try:
        signer = NoteSigner.generate(name)
        write_signer_key_file(out_file, signer)
    except FileExistsError:
        raise fail(f"{out_file} already exists; refusing to overwrite a key") from None
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    except OSError as exc:
        raise fail(f"{out_file}: {exc.strerror}") from None
    out.print(signer.verifier_key(), highlight=False)


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply every database migration."""
    settings = load_settings(data_dir)
    try:
        engine_for(settings).dispose()
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    err.print("database is at the newest schema")


def main() -> None:
    app()
