"""The ``sunledger`` command."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from traceability.chain import anchor_repository
from traceability.entrypoints.cli.audit import register as register_audit
from traceability.entrypoints.cli.contracts import contracts_app
from traceability.entrypoints.cli.devices import register_commands as register_device_commands
from traceability.entrypoints.cli.options import DataDir
from traceability.entrypoints.cli.orgs import orgs_app
from traceability.entrypoints.cli.simulate import register as register_simulate
from traceability.entrypoints.cli.verify import register as register_verify
from traceability.entrypoints.cli.vision import vision_app
from traceability.entrypoints.cli.witness import witness_app
from traceability.errors import ChainUnavailable, SunledgerError
from traceability.platform import Platform, open_existing_platform, open_platform
from traceability.settings import Settings
from traceability.storage.after_commit import after_commit
from traceability.storage.db import engine_for, transaction
from traceability.transparency import log_repository
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file
from traceability.transparency.ingest import Ingest, parse_batch

if TYPE_CHECKING:
    from traceability.demo.scenario import Scenario
    from traceability.demo.seed import SeedSummary

app = typer.Typer(
    help="Sunshine Ledger: a verifiable food-safety event log.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
log_app = typer.Typer(help="Append to the log and sign checkpoints.", no_args_is_help=True)
keys_app = typer.Typer(help="Signing keys.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(log_app, name="log")
app.add_typer(keys_app, name="keys")
app.add_typer(db_app, name="db")
chain_app = typer.Typer(help="The chain checkpoints are anchored on.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")
app.add_typer(contracts_app, name="contracts")
app.add_typer(orgs_app, name="orgs")
app.add_typer(vision_app, name="vision")
app.add_typer(witness_app, name="witness")
register_audit(app)
register_device_commands(app)
register_simulate(app)
register_verify(app)

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
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


def show_progress() -> bool:
    """A progress bar on a terminal, quiet in CI and pipes."""
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true")


@app.command()
def serve(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
) -> None:
    """Serve the API."""
    settings = load_settings(data_dir)
    try:
        open_platform(settings)  # fail here, with a clear message, not inside the server
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    run_server(settings, host, port, workers)


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Hand over to ``python -m api`` (the web layer), which this package never imports."""
    env = dict(os.environ)
    env["SUNLEDGER_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url is not None:
        env["SUNLEDGER_DATABASE_URL"] = settings.database_url.get_secret_value()
    command = [sys.executable, "-m", "api", "--host", host, "--port", str(port)]
    command += ["--workers", str(workers)]
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
        platform = Platform.open(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    sessions, log, signer = platform.sessions, platform.log, platform.signer
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
                    after_commit(session, partial(_after_append, platform))
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
        bool, typer.Option("--serve/--no-serve", help="Serve the site with live data when done.")
    ] = True,
    reset: Annotated[
        bool,
        typer.Option(help="Remove the demo's files from the data directory and seed anew."),
    ] = False,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    serve_seconds: Annotated[
        float | None,
        typer.Option(
            "--serve-seconds", min=1, help="Stop serving after this many seconds (scripts, tests)."
        ),
    ] = None,
    scenario_file: Annotated[
        Path | None,
        typer.Option("--scenario", help="A scenario file (default: the city shipped with us)."),
    ] = None,
) -> None:
    """Seed a demo city (a week of history, on the embedded default) and serve it with live data.

    A second run reuses the data directory (nothing is seeded twice); --reset
    removes the demo's files there and starts over.
    """
    from traceability.demo import seed as demo_seed
    from traceability.demo import witness as demo_witness
    from traceability.demo.scenario import load_scenario

    settings = load_settings(data_dir)
    if not settings.is_embedded:
        raise fail("the demo runs on the embedded default; unset SUNLEDGER_DATABASE_URL")
    try:
        scenario = load_scenario(scenario_file)
        if reset:
            removed = demo_seed.reset(settings.data_dir) + demo_witness.reset(settings.data_dir)
            err.print(
                f"reset: removed {', '.join(removed) or 'nothing'} from {settings.data_dir}",
                highlight=False,
            )
        summary = demo_seed.marker(settings.data_dir)
        appended = 0
        if summary is None:
            summary = _seed_demo(settings, scenario)
            appended = summary.events
        else:
            err.print(
                f"the demo city in {settings.data_dir} was seeded at {summary.seeded_at}: "
                "reusing it (--reset starts over)",
                highlight=False,
            )
        # The market regulator's witness, beside the log: it cosigns every checkpoint.
        bureau = demo_witness.start_witness(settings)
        settings = demo_witness.with_witness(settings, bureau)
        facts = _demo_facts(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    except OSError as exc:
        raise fail(f"{settings.data_dir}: {exc}") from None
    try:
        _serve_demo(
            settings,
            scenario,
            summary,
            facts,
            appended,
            host,
            port,
            data_dir,
            serve_site,
            serve_seconds,
        )
    finally:
        bureau.stop()


def _serve_demo(
    settings: Settings,
    scenario: Scenario,
    summary: SeedSummary,
    facts: dict[str, Any],
    appended: int,
    host: str,
    port: int,
    data_dir: Path | None,
    serve_site: bool,
    serve_seconds: float | None,
) -> None:
    base = f"http://{host}:{port}"
    _print_demo(settings, scenario, summary, facts, appended, base, data_dir)
    if not serve_site:
        return
    from traceability.demo.live import serve_city

    def ready(pid: int) -> None:
        out.print(
            f"[bold]Serving[/] {base} (server PID {pid}) with live probes and cameras; "
            "Ctrl-C stops.",
            highlight=False,
        )

    status, stats = serve_city(
        settings, scenario, host, port, seconds=serve_seconds, on_ready=ready
    )
    err.print(
        f"stopped: {stats.readings_accepted} live readings accepted, "
        f"{stats.clips_analysed} camera clips analysed",
        highlight=False,
    )
    for problem in stats.problems:
        err.print(f"[yellow]live data:[/] {problem}", highlight=False)
    if status:
        raise fail(f"the server stopped with status {status}", code=1)


def _seed_demo(settings: Settings, scenario: Scenario) -> SeedSummary:
    """Seed the city with a progress bar on a terminal."""
    from traceability.demo.seed import seed_city

    with Progress(
        TextColumn("seeding a week of the demo city"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        disable=not show_progress(),
    ) as progress:
        task = progress.add_task("demo", total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        return seed_city(settings, scenario, on_progress=advance)


def _demo_facts(settings: Settings) -> dict[str, Any]:
    """What the printout needs from the seeded city: size, anchors, keys, a proof example."""
    from traceability.demo import repository as demo_repo
    from traceability.demo.credentials import read_api_keys
    from traceability.public_record.published_trust import published_trust
    from traceability.witnessing.collection import Witnessing

    _engine, sessions, log, signer = open_platform(settings)
    try:
        pin: Any = published_trust(settings, sessions, log, signer).chain
    except ChainUnavailable:
        pin = None
    witnessing = Witnessing.from_settings(log, settings)
    witnessed = witnessing.collect(sessions)
    with sessions() as session:
        anchors = anchor_repository.list_anchors(session, after=0, limit=10_000)
        example = demo_repo.first_breach_event(session, "cold_holding")
        if example is None:
            first = log_repository.event_at(session, 0)
            example = None if first is None else first.event_id
        return {
            "tree_size": log.size(session),
            "final": [a for a in anchors if a.status == "final"],
            "failed": [a for a in anchors if a.status == "failed"],
            "alerts": demo_repo.alert_counts(session),
            "example": example,
            "verifier_key": signer.verifier_key(),
            "pin": pin,
            "keys": read_api_keys(settings.data_dir),
            "witnessed": witnessed,
            "witnesses": [(e.witness.label, e.url, e.vkey) for e in witnessing.endpoints],
        }


def _print_demo(
    settings: Settings,
    scenario: Scenario,
    summary: SeedSummary,
    facts: dict[str, Any],
    appended: int,
    base: str,
    data_dir: Path | None,
) -> None:
    import segno

    out.print(
        f"[bold]Demo city {scenario.city}[/] ready in {settings.data_dir}: "
        f"{facts['tree_size']} events ({appended} new this run); {summary.premises} premises "
        f"in {summary.districts} districts, {summary.devices} probes, {summary.cameras} cameras"
        + (f"; seeded in {summary.seconds} s" if appended else ""),
        highlight=False,
    )
    alerts = ", ".join(f"{n} {status}" for status, n in sorted(facts["alerts"].items()))
    out.print(f"  alerts: {alerts or 'none'}; vision: {summary.vision}", highlight=False)
    final = facts["final"]
    if final:
        out.print(
            f"  anchored: size {final[-1].tree_size} of {facts['tree_size']} on the embedded "
            f"chain {final[-1].chain_id}, block {final[-1].block_number}",
            highlight=False,
        )
    if facts["failed"]:
        out.print(
            f"[yellow]  {len(facts['failed'])} anchors failed:[/] {facts['failed'][-1].last_error}",
            highlight=False,
        )
    for label, url, vkey in facts["witnesses"]:
        cosigned = sum(len(sizes) for sizes in facts["witnessed"].cosigned.values())
        out.print(
            f"  witnessed by the {label} ({url}): {cosigned} checkpoints cosigned this run; "
            f"its key {vkey}",
            highlight=False,
            markup=False,
        )
    for problem in facts["witnessed"].errors:
        out.print(f"[yellow]  witness:[/] {problem}", highlight=False)
    out.print("\n[bold]Consumer pages[/] (what the QR code on the door opens):", highlight=False)
    for premises in scenario.premises:
        out.print(f"  {premises.name:<36} {base}/r/{premises.id}", highlight=False)
    qr_url = f"{base}/r/{scenario.qr_premises}"
    out.print(f"\nQR code of {qr_url}:", highlight=False)
    out.file.flush()
    try:
        segno.make(qr_url, error="m").terminal(out=sys.stdout, compact=True)
    except UnicodeEncodeError:
        svg = qr_url.replace("/r/", "/v1/public/restaurants/") + "/qr.svg"
        out.print(f"  (this terminal cannot draw it; the image: {svg})", highlight=False)
    sys.stdout.flush()
    keys = facts["keys"]
    console_key = keys.get(scenario.demo_keys.console)
    kitchen_key = keys.get(scenario.demo_keys.kitchen)
    out.print("[bold]Regulator console[/]  " + f"{base}/console", highlight=False)
    if console_key is not None:
        out.print(
            f"  API key of {console_key.org_id} ({console_key.role}): {console_key.token}",
            highlight=False,
        )
    out.print("[bold]Kitchen page[/]       " + f"{base}/kitchen", highlight=False)
    if kitchen_key is not None:
        out.print(
            f"  API key of {kitchen_key.org_id} ({kitchen_key.role}): {kitchen_key.token}",
            highlight=False,
        )
    out.print(
        f"  every demo key (auditor, other regulators and restaurants): "
        f"{settings.data_dir / 'demo-keys.json'} (mode 0600)",
        highlight=False,
    )
    if facts["example"] is not None and facts["pin"] is not None:
        where = f" --data-dir {data_dir}" if data_dir is not None else ""
        out.print(
            "\n[bold]Verify a proof[/] (the failing fridge's alert), trusting nothing but the "
            "pinned log key, chain id and contract (the RPC answers while the demo serves; "
            f"the same pins: {base}/v1/trust):",
            highlight=False,
        )
        pinned = "".join(f" --witness {vkey}" for _label, _url, vkey in facts["witnesses"])
        out.print(
            f"  sunledger proof {facts['example']}{where} --out bundle.json && "
            f"sunledger verify bundle.json --public-key {facts['verifier_key']} "
            f"--contract {facts['pin'].contract} --chain-id {facts['pin'].chain_id} "
            f"--rpc {base}/v1/chain/rpc{pinned}",
            highlight=False,
            markup=False,
        )
        out.print(
            "  offline, with the witness's cosignature (no chain needed): "
            f"sunledger proof {facts['example']}{where} --format tlog-proof --out event.tlog-proof"
            f" && sunledger verify event.tlog-proof --public-key {facts['verifier_key']}{pinned}",
            highlight=False,
            markup=False,
        )
    out.print(f"  API documentation: {base}/docs", highlight=False)


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


@db_app.command("upgrade")
def db_upgrade(data_dir: DataDir = None) -> None:
    """Apply every database migration."""
    settings = load_settings(data_dir)
    try:
        engine_for(settings).dispose()
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    err.print("database is at the newest schema")


def _after_append(platform: Platform) -> None:
    """Ask for an anchoring tick once the batch is committed (never inside its transaction)."""
    from traceability.entrypoints.worker import request_anchor_tick

    try:
        request_anchor_tick(platform)
    except ChainUnavailable as exc:
        err.print(f"[yellow]anchoring postponed:[/] {exc}", highlight=False)
    _wait_for_witnesses(platform)


def _wait_for_witnesses(platform: Platform) -> None:
    """Eager mode collects cosignatures on a thread: let it finish before the command exits."""
    from traceability.entrypoints.worker import wait_for_eager_witnessing

    if platform.settings.witnesses and platform.settings.broker_url is None:
        wait_for_eager_witnessing(platform)


@app.command()
def anchor(
    data_dir: DataDir = None,
    force: Annotated[bool, typer.Option(help="Anchor now, whatever the policy says.")] = False,
) -> None:
    """Run one anchoring pass: queue the current checkpoint if due, send, confirm."""
    from traceability.entrypoints.worker import run_anchor_tick

    settings = load_settings(data_dir)
    try:
        platform = Platform.open(settings)
        report = run_anchor_tick(platform, force=force)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    _wait_for_witnesses(platform)
    out.print(json.dumps(report), highlight=False)
    if report["errors"]:
        raise typer.Exit(1)


@app.command()
def worker(
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option(min=1, max=16)] = 1,
) -> None:
    """Run a Celery worker with beat: anchoring every SUNLEDGER_ANCHOR_INTERVAL_SECONDS."""
    from traceability.entrypoints.worker import make_celery

    settings = load_settings(data_dir)
    if settings.broker_url is None:
        raise fail(
            "SUNLEDGER_BROKER_URL is not set: without a broker, tasks run in the process "
            "that asks for them (use `sunledger anchor` or set e.g. redis://127.0.0.1:6379/0)"
        )
    try:
        platform = Platform.open(settings)  # the one every task of this worker runs on
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    # Beat keeps its schedule file there; without the directory beat dies and nothing
    # time-based runs (interval anchoring, probe watch, escalation, webhooks).
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery = make_celery(platform)
    _log_like_the_api(settings)
    _reconnect_after_fork(platform)
    celery.worker_main(
        ["worker", "--beat", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=solo"]
        if concurrency == 1
        else ["worker", "--beat", "--loglevel=INFO", f"--concurrency={concurrency}"]
    )


def _reconnect_after_fork(platform: Platform) -> None:
    """Prefork children inherit the platform; the parent's database connections are not
    theirs to use (each child opens its own, the parent's stay with the parent)."""
    from celery.signals import worker_process_init

    def _forked(**_kwargs: Any) -> None:
        platform.engine.dispose(close=False)

    worker_process_init.connect(_forked, weak=False)


def _log_like_the_api(settings: Settings) -> None:
    """Celery would set up its own text logging; ours (JSON lines by default) instead."""
    from celery.signals import setup_logging

    from traceability.entrypoints.logs import configure

    def _setup(**_kwargs: Any) -> None:
        configure(settings.log_format, settings.log_level)

    setup_logging.connect(_setup, weak=False)


@app.command()
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
    from traceability.transparency.proofs import build_bundle, build_tlog_proof

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


@chain_app.command("up")
def chain_up(
    data_dir: DataDir = None,
    port: Annotated[int, typer.Option(help="JSON-RPC port on 127.0.0.1.")] = 8545,
) -> None:
    """Start a local Hardhat node (recorded by PID in the data directory)."""
    from traceability.chain import hardhat_node

    settings = load_settings(data_dir)
    try:
        node = hardhat_node.start(settings.data_dir / "hardhat-node.pid", port=port)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(f"hardhat node PID {node.pid} at {node.url} (log: {node.log_file})", highlight=False)


@chain_app.command("down")
def chain_down(data_dir: DataDir = None) -> None:
    """Stop the Hardhat node that `sunledger chain up` started (by its PID)."""
    from traceability.chain import hardhat_node

    settings = load_settings(data_dir)
    pid = hardhat_node.stop(settings.data_dir / "hardhat-node.pid")
    out.print("no node was running" if pid is None else f"stopped PID {pid}", highlight=False)


@chain_app.command("deploy")
def chain_deploy(data_dir: DataDir = None) -> None:
    """Deploy the anchor contract on the configured chain and record its address."""
    from traceability.chain.factory import deploy

    settings = load_settings(data_dir)
    try:
        _engine, sessions, _log, _signer = open_platform(settings)
        chain, address = deploy(settings, sessions)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    out.print(f"CheckpointAnchor at {address} on chain {chain.chain_id}", highlight=False)


def main() -> None:
    app()
