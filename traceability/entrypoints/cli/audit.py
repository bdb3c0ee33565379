"""``sunledger audit``: the auditor's full-log audit from the command line."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from sqlalchemy.orm import Session, sessionmaker

from traceability.chain import anchor_repository
from traceability.chain.contracts import log_id_for
from traceability.entrypoints.cli.console import err, fail, load_settings, out
from traceability.entrypoints.cli.options import DataDir
from traceability.entrypoints.cli.progress import progress_bar, tracking
from traceability.errors import Invalid, NotFound, SunledgerError
from traceability.platform import database_name, open_existing_platform
from traceability.projections.audit import ProjectionReport, audit_projections
from traceability.settings import Settings
from traceability.transparency.audit import AnchorClaim, AuditReport, ChainRootReader, audit_log
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import TransparencyLog


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
            help="Read the anchored roots through this JSON-RPC URL "
            "(default: the configured chain; --no-chain skips the chain)."
        ),
    ] = None,
    chain: Annotated[bool, typer.Option("--chain/--no-chain")] = True,
    trust: Annotated[
        Path | None,
        typer.Option(
            "--trust",
            help="Pin the chain id and contract from this sunledger-trust/1 file "
            "(default: the platform's own configuration, as GET /v1/trust shows it).",
        ),
    ] = None,
    projections: Annotated[
        bool,
        typer.Option(
            "--projections/--no-projections",
            help="Also re-derive every projection table from the log (the default).",
        ),
    ] = True,
) -> None:
    """Re-hash every logged event, rebuild the tree and check it against the stored log.

    Checks every event row, every stored tile, the log's size and root, and every
    signed checkpoint (with the log's own key); the roots anchored on the pinned
    contract (each one the recomputed root, successive ones consistent); and every
    projection table the public or the regulator reads, re-derived from the
    logged events. Exits 1 naming the first divergent leaf index or tree size,
    and each projection row that differs (table, key, field, expected, found).
    Creates nothing: a missing data directory, database, key or log, and an empty
    log, exit 2 with the path that is wrong.
    """

    settings = load_settings(data_dir)
    try:
        engine, sessions, log, signer = open_existing_platform(settings)
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    try:
        with (
            sessions() as session,
            progress_bar("auditing") as progress,
        ):
            if log.size(session) == 0:
                raise NotFound(
                    f"the log in {database_name(settings)} is empty (tree size 0): "
                    "there is nothing to audit"
                )
            advance = tracking(progress, "audit")
            view = _chain_view(settings, sessions, session, log, signer, rpc, trust, chain)
            report = audit_log(
                session,
                log,
                signer.verifier(),
                anchors=view.claims,
                chain_root=view.chain_root,
                chain_anchors=view.anchored,
                on_progress=advance,
                chunk=chunk,
            )
            projected = (
                audit_projections(session, report.tree_size, chunk=chunk, on_progress=advance)
                if projections
                else None
            )
            session.rollback()  # the audit only reads; end its transaction cleanly
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    finally:
        engine.dispose()
    summary = _summary(report, projected, view.pinned)
    if report.ok and (projected is None or projected.ok):
        out.print(f"[bold green]ok[/] {summary}", highlight=False)
        return
    where = []
    if report.first_divergent_index is not None:
        where.append(f"first divergent leaf index {report.first_divergent_index}")
    if report.first_divergent_size is not None:
        where.append(f"first tree size with a wrong root {report.first_divergent_size}")
    if projected is not None and not projected.ok:
        total = len(projected.findings) + projected.findings_omitted
        tables = sorted({f.table for f in projected.findings})
        where.append(f"{total} projection rows differ from the log (in {', '.join(tables)})")
    if not where:
        where.append("the log audit found problems")
    err.print(f"[bold red]divergent:[/] {'; '.join(where)}; {summary}", highlight=False)
    for problem in report.problems:
        err.print(f"  - {problem}", highlight=False, markup=False)
    if report.problems_omitted:
        err.print(f"  … and {report.problems_omitted} more problems", highlight=False)
    if projected is not None:
        for finding in projected.findings:
            err.print(f"  - projection {finding.message}", highlight=False, markup=False)
        if projected.findings_omitted:
            err.print(
                f"  … and {projected.findings_omitted} more projection findings", highlight=False
            )
    raise typer.Exit(1)


@dataclass
class _ChainView:
    """What the outbox claims, how to read a root on the pinned contract, and what it holds."""

    claims: list[AnchorClaim]
    chain_root: ChainRootReader | None = None
    anchored: list[tuple[int, bytes]] = field(default_factory=list)
    pinned: str | None = None


def _chain_view(
    settings: Settings,
    sessions: sessionmaker[Session],
    session: Session,
    log: TransparencyLog,
    signer: NoteSigner,
    rpc: str | None,
    trust: Path | None,
    use_chain: bool,
) -> _ChainView:
    """The outbox's anchor claims and, unless --no-chain, the pinned contract's anchors."""
    from traceability.chain.embedded import EmbeddedChain
    from traceability.chain.factory import EMBEDDED_JOURNAL, open_chain
    from traceability.chain.json_rpc import JsonRpc, RpcAnchorReader
    from traceability.entrypoints.cli.verify import read_trust_file
    from traceability.public_record.published_trust import published_trust
    from traceability.verify import anchored_on_chain, root_on_chain

    rows = anchor_repository.on_chain_anchors(session)
    claims = [AnchorClaim(r.tree_size, bytes(r.root_hash), bytes(r.log_id)) for r in rows]
    if not use_chain:
        return _ChainView(claims)
    never_anchored = (
        not rows
        and rpc is None
        and trust is None
        and settings.chain == "embedded"
        and not (settings.data_dir / EMBEDDED_JOURNAL).exists()
    )
    if never_anchored:
        return _ChainView(claims)  # no chain was ever used: opening one would deploy it
    if trust is not None:
        config = read_trust_file(trust)
        if config.origin != log.origin:
            raise Invalid(f"{trust} pins the log {config.origin!r}, this log is {log.origin!r}")
        if config.public_key != signer.verifier_key():
            raise Invalid(
                f"{trust} pins the key {config.public_key}, but this log is signed with "
                f"{signer.verifier_key()}"
            )
        pin = config.chain
    else:
        pin = published_trust(settings, sessions, log, signer).chain
    caller: Callable[[str, list[Any]], Any]
    if rpc is not None:
        caller = JsonRpc(rpc)
    elif settings.chain == "embedded":
        opened = open_chain(settings, sessions)
        assert isinstance(opened, EmbeddedChain)
        caller = opened.rpc
    else:
        caller = JsonRpc(settings.chain_rpc_url)
    reader = RpcAnchorReader(caller)
    live = reader.chain_id()
    if live != pin.chain_id:
        raise Invalid(f"the RPC serves chain {live}; the pinned chain is {pin.chain_id}")
    elsewhere = sorted({r.contract for r in rows if r.contract.lower() != pin.contract.lower()})
    if elsewhere:
        raise Invalid(
            f"the outbox holds anchors on {', '.join(elsewhere)}, not on the pinned contract "
            f"{pin.contract}: audit them with --trust naming that contract"
        )

    def chain_root(log_id: bytes, tree_size: int) -> bytes | None:
        return root_on_chain(reader, pin, log_id, tree_size)

    anchored = anchored_on_chain(reader, pin, log_id_for(log.origin))
    return _ChainView(claims, chain_root, anchored, f"{pin.contract} on chain {pin.chain_id}")


def _summary(report: AuditReport, projected: ProjectionReport | None, pinned: str | None) -> str:
    text = (
        f"{report.events_checked} events re-hashed, tree size {report.tree_size}, "
        f"{report.checkpoints_checked} checkpoints and {report.anchors_checked} anchors checked"
    )
    if pinned is not None:
        text += f" (pinned contract {pinned})"
    if projected is not None:
        rows = sum(projected.rows_checked.values())
        text += (
            f"; {rows} projection rows in {len(projected.rows_checked)} tables re-derived from "
            f"{projected.events_folded} events"
        )
    return text
