"""``sunledger demo``: seed a demo city and serve it with live data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from traceability.chain import anchor_repository
from traceability.entrypoints.cli.console import err, fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.entrypoints.cli.progress import progress_bar, tracking
from traceability.errors import ChainUnavailable, SunledgerError
from traceability.platform import Platform
from traceability.settings import Settings
from traceability.transparency import log_repository

if TYPE_CHECKING:
    from traceability.demo.data_dir import SeedSummary
    from traceability.demo.scenario import Scenario


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
    from traceability.demo import data_dir as demo_files
    from traceability.demo import witness as demo_witness
    from traceability.demo.scenario import load_scenario

    settings = load_settings(data_dir)
    if not settings.is_embedded:
        raise fail("the demo runs on the embedded default; unset SUNLEDGER_DATABASE_URL")
    try:
        scenario = load_scenario(scenario_file)
        if reset:
            removed = demo_files.reset(settings.data_dir) + demo_witness.reset(settings.data_dir)
            err.print(
                f"reset: removed {', '.join(removed) or 'nothing'} from {settings.data_dir}",
                highlight=False,
            )
        # The process's one platform: the seeding, the printout and the live cameras write
        # and read through it (opened after --reset, which removes the database file).
        platform = Platform.open(settings)
        summary = demo_files.marker(settings.data_dir)
        appended = 0
        if summary is None:
            summary = _seed_demo(platform, scenario)
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
        facts = _demo_facts(platform, settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    except OSError as exc:
        raise fail(f"{settings.data_dir}: {exc}") from None
    try:
        _serve_demo(
            settings,
            platform,
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
        platform.close()


def _serve_demo(
    settings: Settings,
    platform: Platform,
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
    from traceability.demo.live import server_log
    from traceability.entrypoints.demo_city import serve_demo_city

    def ready(pid: int) -> None:
        out.print(
            f"[bold]Serving[/] {base} (server PID {pid}) with live probes and cameras; "
            "Ctrl-C stops.",
            highlight=False,
        )
        out.print(f"  the server's log: {server_log(settings)}", highlight=False)

    status, stats = serve_demo_city(
        settings, platform, scenario, host, port, seconds=serve_seconds, on_ready=ready
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


def _seed_demo(platform: Platform, scenario: Scenario) -> SeedSummary:
    """Seed the city with a progress bar on a terminal."""
    from traceability.entrypoints.demo_city import seed_demo_city

    with progress_bar("seeding a week of the demo city") as progress:
        return seed_demo_city(platform, scenario, on_progress=tracking(progress, "demo"))


def _demo_facts(platform: Platform, settings: Settings) -> dict[str, Any]:
    """What the printout needs from the seeded city: size, anchors, keys, a proof example
    (``settings``: the platform's, with the demo's witness added)."""
    from traceability.demo import repository as demo_repo
    from traceability.demo.credentials import read_api_keys
    from traceability.public_record.published_trust import published_trust
    from traceability.witnessing.collection import Witnessing

    sessions, log, signer = platform.sessions, platform.log, platform.signer
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
    out.print(f"  {'search them all (no QR code needed)':<36} {base}/", highlight=False)
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
            "  (`sunledger` is .venv/bin/sunledger after `make demo`; "
            "`source .venv/bin/activate` puts it on the PATH)",
            highlight=False,
            markup=False,
        )
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
