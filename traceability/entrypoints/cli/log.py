"""``sunledger log`` (append, checkpoint), ``sunledger keys`` and ``sunledger proof``."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from traceability.entrypoints.cli.chain import after_append
from traceability.entrypoints.cli.console import err, fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.entrypoints.cli.progress import progress_bar
from traceability.errors import SunledgerError
from traceability.platform import Platform, open_existing_platform
from traceability.projections.appended import AppendedEvents
from traceability.storage.after_commit import after_commit
from traceability.storage.db import transaction
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file
from traceability.transparency.ingest import parse_batch

log_app = typer.Typer(help="Append to the log and sign checkpoints.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)


def _read_jsonl(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise SunledgerError(f"{path}:{number}: not JSON ({exc})") from None


def _at_line(detail: str, file: Path, numbers: list[int], start: int) -> str:
    """``event 3: ...`` of the batch at ``start`` becomes ``FILE:LINE: ...``."""
    position, sep, reason = detail.partition(": ")
    if sep and position.startswith("event ") and position[6:].isdigit():
        index = start + int(position[6:])
        if index < len(numbers):
            return f"{file}:{numbers[index]}: {reason}"
    return f"{file}: {detail}"


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
    once, however often the file is run (a rerun gets the same receipts). An
    inspection also gets its inspections row (and alert) as the regulator API
    writes them; events whose rows the platform decides (grades, alert steps,
    signed readings, dated records) are refused (docs/derivations.md).
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
        platform = Platform.open(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    sessions, log, signer = platform.sessions, platform.log, platform.signer
    ingest = AppendedEvents(log, settings.inspection_alert_window_days)
    appended = alerts = 0
    sink = receipts.open("w") if receipts else None
    try:
        with progress_bar("appending") as progress:
            task = progress.add_task("append", total=len(events))
            for start in range(0, len(events), batch_size):
                batch = events[start : start + batch_size]
                try:
                    with transaction(sessions) as session:
                        result, opened = ingest.ingest(session, batch)
                        after_commit(session, partial(after_append, platform))
                except SunledgerError as exc:
                    raise SunledgerError(_at_line(exc.detail, file, numbers, start)) from None
                appended += result.appended
                alerts += opened
                if sink:
                    for receipt in result.receipts:
                        sink.write(json.dumps(receipt.signed(signer)) + "\n")
                progress.advance(task, len(batch))
            with transaction(sessions) as session:
                cp = log.checkpoint(session, signer)
    except SunledgerError as exc:
        earlier = f" ({appended} new events of earlier batches are)" if appended else ""
        raise fail(f"{exc.detail}; nothing of its batch is stored{earlier}") from None
    finally:
        if sink:
            sink.close()
    err.print(
        f"{appended} new events appended, {len(events) - appended} already logged"
        + (f", {alerts} alerts opened by inspections" if alerts else "")
        + f"; log size {cp.tree_size}",
        highlight=False,
    )


@log_app.command("checkpoint")
def log_checkpoint(data_dir: DataDir = None) -> None:
    """Sign a checkpoint for the current log size and print it (a C2SP signed note).

    Only of a log that exists: a missing data directory, database or key is an error."""
    settings = load_settings(data_dir)
    try:
        _engine, sessions, log, signer = open_existing_platform(settings)
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


def proof(
    event_id: Annotated[str, typer.Argument(help="The event's id.")],
    data_dir: DataDir = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write here (default stdout).")
    ] = None,
    proof_format: Annotated[
        str,
        typer.Option(
            "--format",
            help="bundle (sunledger-proof/1, with the chain anchor) or tlog-proof "
            "(c2sp.org/tlog-proof@v1, with the witnesses' cosignatures).",
        ),
    ] = "bundle",
) -> None:
    """Export the proof of one event (of a log that exists): a sunledger-proof/1 bundle or a
    C2SP tlog-proof."""
    from traceability.proofs.bundles import build_bundle, build_tlog_proof

    if proof_format not in ("bundle", "tlog-proof"):
        raise fail(f"--format {proof_format!r}: expected bundle or tlog-proof")
    settings = load_settings(data_dir)
    try:
        platform = Platform.open_existing(settings)
        sessions, log, signer = platform.sessions, platform.log, platform.signer
        witnessing = platform.witnessing
        with transaction(sessions) as session:
            if proof_format == "tlog-proof":
                text = build_tlog_proof(session, log, signer, event_id, witnessing)
                status = "tlog-proof"
            else:
                bundle = build_bundle(session, log, signer, event_id, witnessing)
                text = json.dumps(bundle, indent=2, ensure_ascii=False) + "\n"
                status = str(bundle["status"])
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    if out_file is None:
        sys.stdout.write(text)
    else:
        out_file.write_text(text)
        err.print(f"wrote {out_file} (status: {status})", highlight=False)
