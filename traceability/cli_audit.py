"""``sunledger audit``: the auditor's full-log audit from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.orm import Session, sessionmaker

from traceability import anchor_repository
from traceability.audit import AnchorClaim, AuditReport, ChainRootReader, audit_log
from traceability.cli_options import DataDir
from traceability.errors import Invalid, NotFound, SunledgerError
from traceability.platform import database_name, open_existing_platform
from traceability.settings import Settings


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command to ``app``."""
    app.command("audit")(audit)


def audit(
    data_dir: DataDir = None,
    chunk: Annotated[
        int, typer.Option(min=1, max=1_000_000, help="Events read per database query.")
    ] = 10_000,
    rpc: Annotated[
        str | None,
        typer.Option(
            help="Check anchored roots through this JSON-RPC URL "
            "(default: the configured chain; --no-chain skips the chain)."
        ),
    ] = None,
    chain: Annotated[bool, typer.Option("--chain/--no-chain")] = True,
) -> None:
    """Re-hash every logged event, rebuild the tree and check it against the stored log.

    Checks every event row, every stored tile, the log's size and root, and every
    signed checkpoint (with the log's own key). Exits 1 and names the first
    divergent leaf index when the stored log is not what re-hashing gives. Creates
    nothing: a missing data directory, database, key or log, and an empty log, exit 2
    with the path that is wrong.
    """
    # Imported here, not at the top: traceability.cli imports this module to register it.
    from traceability.cli import err, fail, load_settings, out, show_progress

    settings = load_settings(data_dir)
    try:
        engine, sessions, log, signer = open_existing_platform(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    try:
        with (
            sessions() as session,
            Progress(
                TextColumn("auditing"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err,
                disable=not show_progress(),
            ) as progress,
        ):
            if log.size(session) == 0:
                raise NotFound(
                    f"the log in {database_name(settings)} is empty (tree size 0): "
                    "there is nothing to audit"
                )
            task = progress.add_task("audit", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            anchors, chain_root = _anchor_claims(settings, sessions, session, rpc, chain)
            report = audit_log(
                session,
                log,
                signer.verifier(),
                anchors=anchors,
                chain_root=chain_root,
                on_progress=advance,
                chunk=chunk,
            )
            session.rollback()  # the audit only reads; end its transaction cleanly
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    finally:
        engine.dispose()
    summary = _summary(report)
    if report.ok:
        out.print(f"[bold green]ok[/] {summary}", highlight=False)
        return
    where = []
    if report.first_divergent_index is not None:
        where.append(f"first divergent leaf index {report.first_divergent_index}")
    if report.first_divergent_size is not None:
        where.append(f"first tree size with a wrong root {report.first_divergent_size}")
    err.print(f"[bold red]divergent:[/] {'; '.join(where)}; {summary}", highlight=False)
    for problem in report.problems:
        err.print(f"  - {problem}", highlight=False, markup=False)
    if report.problems_omitted:
        err.print(f"  … and {report.problems_omitted} more problems", highlight=False)
    raise typer.Exit(1)


def _anchor_claims(
    settings: Settings,
    sessions: sessionmaker[Session],
    session: Session,
    rpc: str | None,
    use_chain: bool,
) -> tuple[list[AnchorClaim], ChainRootReader | None]:
    """What the outbox says is on chain, and how to read the chain to check it."""
    rows = anchor_repository.on_chain_anchors(session)
    claims = [AnchorClaim(r.tree_size, bytes(r.root_hash), bytes(r.log_id)) for r in rows]
    if not use_chain or not rows:
        return claims, None
    contracts = {r.contract for r in rows}
    if len(contracts) != 1:
        raise Invalid(f"anchors on several contracts {sorted(contracts)}: audit them one by one")
    (contract,) = contracts
    if rpc is not None:
        from traceability.verification import JsonRpc, root_at_call

        call = JsonRpc(rpc)

        def via_rpc(log_id: bytes, tree_size: int) -> bytes | None:
            answer = call("eth_call", [{"to": contract, "data": root_at_call(log_id, tree_size)}])
            root = bytes.fromhex(str(answer)[2:])[:32]
            return None if root == b"\0" * 32 else root

        return claims, via_rpc
    from traceability.chain.factory import open_chain

    return claims, open_chain(settings, sessions).root_at


def _summary(report: AuditReport) -> str:
    return (
        f"{report.events_checked} events re-hashed, tree size {report.tree_size}, "
        f"{report.checkpoints_checked} checkpoints and {report.anchors_checked} anchors checked"
    )
