"""``sunledger chain`` (a local node, the anchor contract) and ``sunledger anchor``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from traceability.entrypoints.cli.console import err, fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.errors import ChainUnavailable, SunledgerError
from traceability.platform import Platform, open_platform

chain_app = typer.Typer(help="The chain checkpoints are anchored on.", no_args_is_help=True)


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
    wait_for_witnesses(platform)
    out.print(json.dumps(report), highlight=False)
    if report["errors"]:
        raise typer.Exit(1)


def after_append(platform: Platform) -> None:
    """Ask for an anchoring tick once the batch is committed (never inside its transaction)."""
    from traceability.entrypoints.worker import request_anchor_tick

    try:
        request_anchor_tick(platform)
    except ChainUnavailable as exc:
        err.print(f"[yellow]anchoring postponed:[/] {exc}", highlight=False)
    wait_for_witnesses(platform)


def wait_for_witnesses(platform: Platform) -> None:
    """Eager mode collects cosignatures on a thread: let it finish before the command exits."""
    from traceability.entrypoints.worker import wait_for_eager_witnessing

    if platform.settings.witnesses and platform.settings.broker_url is None:
        wait_for_eager_witnessing(platform)


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
