"""``sunledger verify`` (with pinned trust roots) and ``sunledger trust show``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from traceability.entrypoints.cli.console import err, fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.errors import SunledgerError
from traceability.transparency.checkpoints import NoteVerifier
from traceability.verify import ChainPin, TrustConfig, parse_trust
from traceability.witnessing.policy import WitnessPolicy, read_trust_witnesses

trust_app = typer.Typer(help="The trust roots verifiers pin.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``verify`` and ``trust`` to ``app``."""
    app.command("verify")(verify)
    app.add_typer(trust_app, name="trust")


def _verifier_from(public_key: str) -> NoteVerifier:
    candidate = Path(public_key)
    text = candidate.read_text().strip() if candidate.is_file() else public_key.strip()
    return NoteVerifier.from_verifier_key(text)


def read_trust_file(path: Path) -> TrustConfig:
    """A trust file from disk; ``SunledgerError`` names what is wrong in it."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SunledgerError(f"{path}: {exc.strerror}") from None
    try:
        return parse_trust(text)
    except SunledgerError as exc:
        raise SunledgerError(f"{path}: {exc.detail}") from None


def _witness_policy(
    witness: list[str], quorum: int | None, trust: Path | None
) -> WitnessPolicy | None:
    """The pinned witnesses: --witness keys, or the witnesses section of --trust."""

    if trust is not None and witness:
        raise fail("give either --trust or --witness, not both")
    try:
        if trust is not None:
            policy = read_trust_witnesses(trust)
            if quorum is not None:
                policy = WitnessPolicy(quorum, policy.witnesses)
            return policy if policy.witnesses else None
        if not witness:
            if quorum:
                raise fail("--witness-quorum needs --witness keys to count")
            return None
        return WitnessPolicy.of_vkeys(witness, quorum)
    except SunledgerError as exc:
        raise fail(exc.detail) from None


def verify(
    bundle_file: Annotated[
        Path,
        typer.Argument(help="A sunledger-proof/1 bundle (JSON) or a c2sp.org/tlog-proof@v1 file."),
    ],
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            envvar="SUNLEDGER_VERIFY_TRUST",
            help="A sunledger-trust/1 file naming the log key, chain id and contract.",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            envvar="SUNLEDGER_VERIFY_PUBLIC_KEY",
            help="The log's note verifier key (name+id+key), or a file holding it.",
        ),
    ] = None,
    contract: Annotated[
        str | None, typer.Option(help="The anchor contract's address you trust.")
    ] = None,
    chain_id: Annotated[
        int | None, typer.Option("--chain-id", help="The chain id you trust.", min=1)
    ] = None,
    rpc: Annotated[
        str | None,
        typer.Option(help="A JSON-RPC URL of the pinned chain."),
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness",
            help="A pinned witness's verifier key (C2SP tlog-cosignature); repeatable. "
            "With --trust, the file's witnesses section is used instead.",
        ),
    ] = None,
    witness_quorum: Annotated[
        int | None,
        typer.Option(min=0, help="How many pinned witnesses must have cosigned (default: all)."),
    ] = None,
) -> None:
    """Verify a proof: leaf hash, checkpoint signature, cosignatures, inclusion, root on chain.

    Pin the trust roots, never taken from the bundle: either --trust FILE, or
    --public-key, --contract and --chain-id together (and --witness keys, or the
    trust file's witnesses). Needs nothing from us: no database, no API. Exit 0
    only when every check holds; otherwise the exit code names the first failed
    check (3 format, 4 leaf hash, 5 checkpoint signature, 15 cosignatures below
    the quorum or invalid, 6 checkpoint/proof mismatch, 7 inclusion, 8 not
    anchored, 9 log id, 14 anchor on another contract or chain, 10 chain id,
    11 root on chain, 12 anchor transaction, 13 chain unreachable or no --rpc).
    A c2sp.org/tlog-proof@v1 file carries no chain anchor: it is verified up to
    the inclusion proof, and needs only the log key (--public-key or --trust).
    """
    from traceability.verify import TLOG_PROOF_HEADER, AnchorReader, verify_bundle

    try:
        text = bundle_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise fail(f"{bundle_file}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise fail(f"{bundle_file}: not UTF-8 text", code=3) from None
    policy = _witness_policy(witness or [], witness_quorum, trust)
    if text.startswith(TLOG_PROOF_HEADER + "\n"):
        _verify_tlog_proof(text, trust, public_key, policy)
        return

    origin: str | None = None
    try:
        if trust is not None:
            if public_key is not None or contract is not None or chain_id is not None:
                raise fail("give either --trust or --public-key/--contract/--chain-id, not both")
            config = read_trust_file(trust)
            verifier, pin, origin = config.verifier(), config.chain, config.origin
        else:
            missing = [
                name
                for name, value in (
                    ("--public-key", public_key),
                    ("--contract", contract),
                    ("--chain-id", chain_id),
                )
                if value is None
            ]
            if missing:
                raise fail(
                    "pin the trust roots: give --trust FILE, or --public-key, --contract and "
                    f"--chain-id (missing {', '.join(missing)}); nothing is taken from the bundle"
                )
            assert public_key is not None
            try:
                verifier = _verifier_from(public_key)
            except SunledgerError as exc:
                raise fail(f"--public-key: {exc.detail}") from None
            try:
                pin = ChainPin.of(chain_id, contract)
            except SunledgerError as exc:
                raise fail(f"--contract/--chain-id: {exc.detail}") from None
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    try:
        bundle = json.loads(text)
    except ValueError as exc:
        raise fail(f"{bundle_file}: neither JSON nor a tlog-proof ({exc})", code=3) from None
    chain: AnchorReader | None = None
    if rpc:
        from traceability.chain.json_rpc import JsonRpc, RpcAnchorReader

        chain = RpcAnchorReader(JsonRpc(rpc))
    verdict = verify_bundle(bundle, verifier, chain, pin=pin, origin=origin, witnesses=policy)
    for check in verdict.checks:
        mark = "[green]✓[/]" if check.ok else "[bold red]✗[/]"
        out.print(f"{mark} {check.name}: {check.detail}", highlight=False)
    if verdict.unreachable:
        out.print(f"[bold red]✗ chain:[/] {verdict.unreachable}", highlight=False)
    if verdict.ok:
        anchor_info = bundle.get("anchor") or {}
        out.print(
            f"[bold green]verified[/] on pinned contract {pin.contract} of chain "
            f"{pin.chain_id} at block {anchor_info.get('block_number')}",
            highlight=False,
        )
        return
    failed = verdict.failed
    name = failed.name if failed else "chain"
    err.print(f"[bold red]verification failed:[/] {name}", highlight=False)
    raise typer.Exit(verdict.exit_code)


def _verify_tlog_proof(
    text: str, trust: Path | None, public_key: str | None, policy: WitnessPolicy | None
) -> None:
    """A tlog-proof: the log key from --trust or --public-key; no chain is involved."""
    from traceability.verify import verify_tlog_proof

    try:
        if trust is not None:
            verifier = read_trust_file(trust).verifier()
        elif public_key is not None:
            verifier = _verifier_from(public_key)
        else:
            raise fail("pin the log key: give --trust FILE or --public-key")
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    verdict = verify_tlog_proof(text, verifier, policy)
    for check in verdict.checks:
        mark = "[green]✓[/]" if check.ok else "[bold red]✗[/]"
        out.print(f"{mark} {check.name}: {check.detail}", highlight=False)
    if verdict.ok:
        witnessed = "" if policy is None else " and witnessed"
        out.print(
            f"[bold green]verified[/]: logged{witnessed} (a tlog-proof does not cover the "
            "chain anchor)",
            highlight=False,
        )
        return
    failed = verdict.failed
    err.print(f"[bold red]verification failed:[/] {failed.name if failed else '?'}")
    raise typer.Exit(verdict.exit_code)


@trust_app.command("show")
def trust_show(data_dir: DataDir = None) -> None:
    """Print the platform's trust configuration (sunledger-trust/1), as GET /v1/trust serves it."""
    from traceability.platform import open_platform
    from traceability.public_record.published_trust import published_trust

    settings = load_settings(data_dir)
    try:
        engine, sessions, log, signer = open_platform(settings)
        try:
            config = published_trust(settings, sessions, log, signer)
        finally:
            engine.dispose()
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    sys.stdout.write(json.dumps(config.to_json(), indent=2) + "\n")
