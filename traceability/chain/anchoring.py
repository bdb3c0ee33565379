"""Anchoring checkpoints on chain through an outbox.

A checkpoint to anchor is first a committed ``pending`` row. The sender signs
the transaction and commits it with the row (``submitted``) before sending, so a
crash at any point either re-sends the very same transaction (same nonce, same
hash) or nothing: the outbox never attempts a second anchor of a size, and the
contract's strictly increasing size rule refuses one anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from traceability.chain import anchor_repository as repo
from traceability.chain.client import AnchorChain, TxOutcome
from traceability.chain.contracts import log_id_for
from traceability.errors import ChainUnavailable
from traceability.storage.db import transaction
from traceability.storage.models import AnchorRow
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import TransparencyLog

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class AnchorPolicy:
    """When to anchor: every ``every_events`` new events or ``interval`` after the last anchor."""

    every_events: int = 1000
    interval: timedelta = timedelta(seconds=60)
    confirmations: int = 0
    max_attempts: int = 8


@dataclass
class TickReport:
    scheduled: int | None = None
    submitted: int = 0
    confirmed: int = 0
    finalised: int = 0
    reorged: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    return min(MAX_BACKOFF, timedelta(seconds=5 * 2 ** max(0, attempts - 1)))


class Anchoring:
    """Moves one log's checkpoints onto one chain's anchor contract."""

    def __init__(
        self,
        log: TransparencyLog,
        signer: NoteSigner,
        chain: AnchorChain,
        policy: AnchorPolicy | None = None,
    ) -> None:
        self.log = log
        self.signer = signer
        self.chain = chain
        self.policy = policy or AnchorPolicy()
        self.log_id = log_id_for(log.origin)

    @property
    def _where(self) -> tuple[int, str]:
        contract = self.chain.contract_address
        if contract is None:
            raise ChainUnavailable("the anchor contract is not deployed (sunledger chain deploy)")
        return self.chain.chain_id, contract

    # -- 1. schedule ------------------------------------------------------------

    def schedule(self, session: Session, now: datetime, *, force: bool = False) -> AnchorRow | None:
        """Queue the current checkpoint if the policy says it is due."""
        chain_id, contract = self._where
        size = self.log.size(session)
        last = repo.last_scheduled(session, chain_id, contract)
        last_size = 0 if last is None else last.tree_size
        if size <= last_size:
            return None
        due = (
            force
            or last is None
            or size - last_size >= self.policy.every_events
            or now - last.created_at >= self.policy.interval
        )
        if not due:
            return None
        checkpoint = self.log.checkpoint(session, self.signer)
        return repo.insert_pending(
            session,
            tree_size=checkpoint.tree_size,
            root_hash=checkpoint.root_hash,
            log_id=self.log_id,
            chain_id=chain_id,
            contract=contract,
            created_at=now,
            updated_at=now,
        )

    # -- 2. submit ----------------------------------------------------------------

    def submit(self, sessions: sessionmaker[Session], now: datetime) -> int:
        """Sign, commit, then send each due pending anchor, smallest size first."""
        chain_id, contract = self._where
        sent = 0
        for _ in range(100):  # bounded: a tick never spins
            with transaction(sessions) as session:
                row = repo.next_pending(session, chain_id, contract, now)
                if row is None:
                    break
                on_chain_size, _root = self.chain.latest(self.log_id)
                if on_chain_size >= row.tree_size:
                    self._already_covered(session, row, on_chain_size, now)
                    continue
                signed = self.chain.sign_anchor(
                    self.log_id, row.tree_size, row.root_hash, nonce=self.chain.pending_nonce()
                )
                row.status = "submitted"
                row.tx_hash = signed.tx_hash
                row.raw_tx = signed.raw
                row.nonce = signed.nonce
                row.attempts += 1
                row.updated_at = now
                row_id = row.id
            # The transaction is committed with the row; only now does it leave.
            _tx, complaint = self.chain.send(signed.raw)
            if complaint:
                with transaction(sessions) as session:
                    repo.update_if(
                        session, row_id, "submitted", signed.tx_hash, last_error=complaint
                    )
            sent += 1
        return sent

    def _already_covered(
        self, session: Session, row: AnchorRow, on_chain_size: int, now: datetime
    ) -> None:
        root = self.chain.root_at(self.log_id, row.tree_size)
        if root == row.root_hash:
            # Anchored before this row knew it (e.g. the row was re-queued after a crash).
            row.status, row.last_error = "confirmed", "found on chain without our transaction"
        else:
            row.status = "failed"
            row.last_error = (
                f"superseded: the chain already holds size {on_chain_size} "
                f"(root at {row.tree_size}: {root.hex() if root else 'none'})"
            )
        row.updated_at = now

    # -- 3. confirm -----------------------------------------------------------------

    def confirm(self, sessions: sessionmaker[Session], now: datetime, report: TickReport) -> None:
        """Follow in-flight anchors: mined, final, reverted, or dropped by a reorg."""
        chain_id, contract = self._where
        with sessions() as session:
            rows = repo.in_flight(session, chain_id, contract)
        for row in rows:
            outcome = self.chain.outcome(row.tx_hash) if row.tx_hash else None
            if row.status == "submitted" and outcome is None and row.raw_tx is not None:
                if row.nonce is not None and self.chain.confirmed_nonce() > row.nonce:
                    # Our nonce went to another transaction (or a reorg ate ours): sign afresh.
                    with transaction(sessions) as session:
                        repo.update_if(
                            session,
                            row.id,
                            "submitted",
                            row.tx_hash,
                            **_back_to_pending(now, "transaction lost and its nonce was used"),
                        )
                    report.reorged += 1
                    continue
                self.chain.send(bytes(row.raw_tx))  # the same transaction again: harmless
                outcome = self.chain.outcome(row.tx_hash or "")
            with transaction(sessions) as session:
                self._advance(session, row, outcome, now, report)

    def _advance(
        self,
        session: Session,
        row: AnchorRow,
        outcome: TxOutcome | None,
        now: datetime,
        report: TickReport,
    ) -> None:
        status = row.status
        if status == "submitted":
            if outcome is None:
                return  # not mined yet
            if not outcome.succeeded:
                self._reverted(session, row, outcome, now, report)
                return
            repo.update_if(
                session,
                row.id,
                "submitted",
                row.tx_hash,
                status="confirmed",
                block_number=outcome.block_number,
                block_hash=outcome.block_hash,
                last_error=None,
                updated_at=now,
            )
            report.confirmed += 1
            status = "confirmed"
        elif outcome is None or self.chain.block_hash(row.block_number or 0) != row.block_hash:
            repo.update_if(
                session,
                row.id,
                "confirmed",
                row.tx_hash,
                **_back_to_pending(now, f"dropped by a reorg at block {row.block_number}"),
            )
            report.reorged += 1
            return
        if outcome is not None and (
            self.chain.head() - outcome.block_number >= self.policy.confirmations
        ):
            repo.update_if(session, row.id, status, row.tx_hash, status="final", updated_at=now)
            report.finalised += 1

    def _reverted(
        self,
        session: Session,
        row: AnchorRow,
        outcome: TxOutcome,
        now: datetime,
        report: TickReport,
    ) -> None:
        report.failed += 1
        report.errors.append(f"anchor of size {row.tree_size} reverted: {outcome.error}")
        if row.attempts >= self.policy.max_attempts:
            repo.update_if(
                session,
                row.id,
                "submitted",
                row.tx_hash,
                status="failed",
                last_error=outcome.error,
                updated_at=now,
            )
            return
        repo.update_if(
            session,
            row.id,
            "submitted",
            row.tx_hash,
            **_back_to_pending(now, outcome.error or "reverted", retry_after=backoff(row.attempts)),
        )

    # -- all three ------------------------------------------------------------------

    def tick(
        self, sessions: sessionmaker[Session], *, now: datetime | None = None, force: bool = False
    ) -> TickReport:
        """Schedule, submit and confirm: one pass of the anchoring job."""
        now = now or datetime.now(UTC)
        report = TickReport()
        with transaction(sessions) as session:
            row = self.schedule(session, now, force=force)
            report.scheduled = None if row is None else row.tree_size
        report.submitted = self.submit(sessions, now)
        self.confirm(sessions, now, report)
        return report


def _back_to_pending(
    now: datetime, reason: str, *, retry_after: timedelta | None = None
) -> dict[str, object]:
    return {
        "status": "pending",
        "tx_hash": None,
        "raw_tx": None,
        "nonce": None,
        "block_number": None,
        "block_hash": None,
        "last_error": reason,
        "next_attempt_at": None if retry_after is None else now + retry_after,
        "updated_at": now,
    }
