"""Collecting witnesses' cosignatures of the log's checkpoints (c2sp.org/tlog-witness).

Each configured witness is sent every checkpoint it has not cosigned yet, in
order, with a consistency proof from the last size it cosigned. A witness that
answers 409 says which size it knows; we continue from there. Cosignatures are
verified against the witness's configured key before they are stored, and a
checkpoint with at least ``quorum`` of them is recorded as witnessed.

Nothing here blocks ingest or anchoring: it runs after them, and a witness that
is down only delays the "witnessed" state of the newest checkpoints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from traceability.errors import NotFound, VerificationError
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import CheckpointRow
from traceability.transparency import log_repository
from traceability.transparency.log import SignedCheckpoint, TransparencyLog
from traceability.witnessing import repository as repo
from traceability.witnessing.client import WitnessAnswer, add_checkpoint
from traceability.witnessing.cosignature import CosignatureVerifier, signature_lines
from traceability.witnessing.policy import PinnedWitness, WitnessPolicy

logger = logging.getLogger(__name__)

MAX_REQUESTS_PER_WITNESS = 100
"""A tick sends at most this many checkpoints to one witness (the next tick goes on)."""

Post = Callable[[str, int, Sequence[bytes], str, float], WitnessAnswer]


@dataclass(frozen=True)
class WitnessEndpoint:
    url: str
    witness: PinnedWitness

    @property
    def vkey(self) -> str:
        return self.witness.verifier.vkey()


@dataclass
class CollectReport:
    cosigned: dict[str, list[int]] = field(default_factory=dict)
    witnessed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def cosigned_note(note: str, lines: Sequence[str]) -> str:
    """A signed note with extra signature lines appended."""
    return note + "".join(line + "\n" for line in lines)


class Witnessing:
    """The log's witness policy and the collection of its cosignatures."""

    def __init__(
        self,
        log: TransparencyLog,
        endpoints: Sequence[WitnessEndpoint],
        quorum: int | None = None,
        timeout: float = 5.0,
        post: Post = add_checkpoint,
    ) -> None:
        self.log = log
        self.endpoints = tuple(endpoints)
        witnesses = tuple(e.witness for e in self.endpoints)
        self.policy = WitnessPolicy(len(witnesses) if quorum is None else quorum, witnesses)
        self.timeout = timeout
        self.post = post

    @classmethod
    def from_settings(cls, log: TransparencyLog, settings: Settings) -> Witnessing:
        endpoints = []
        for configured in settings.witnesses:
            verifier = CosignatureVerifier.from_vkey(configured.vkey)
            label = configured.label or verifier.name
            endpoints.append(WitnessEndpoint(configured.url, PinnedWitness(verifier, label)))
        return cls(log, endpoints, settings.witness_quorum, settings.witness_timeout_seconds)

    @property
    def _keys(self) -> list[str]:
        return [e.vkey for e in self.endpoints]

    # -- reading -----------------------------------------------------------------

    def cosigned(self, session: Session, row: CheckpointRow | SignedCheckpoint) -> str:
        """A checkpoint's note with every stored cosignature (verifiers check the lines of
        the witnesses they pin and ignore the others)."""
        lines = repo.cosignature_lines(session, int(row.tree_size))
        return cosigned_note(row.note, lines)

    def served_checkpoint(self, session: Session) -> str:
        """What ``/checkpoint`` serves: the newest checkpoint that met the policy, with its
        cosignatures (the newest checkpoint when none has, or when no witness is asked)."""
        row = repo.newest_witnessed(session) if self.policy.quorum > 0 else None
        row = row or log_repository.latest_checkpoint(session)
        if row is None:
            raise NotFound("no checkpoint has been signed yet")
        return self.cosigned(session, row)

    def is_witnessed(self, session: Session, tree_size: int) -> bool:
        return self.policy.quorum > 0 and repo.witnessed(session, tree_size) is not None

    # -- collecting --------------------------------------------------------------

    def collect(
        self, sessions: sessionmaker[Session], now: datetime | None = None
    ) -> CollectReport:
        """One pass over every witness; then record the checkpoints that met the policy."""
        now = now or datetime.now(UTC)
        report = CollectReport()
        for endpoint in self.endpoints:
            try:
                report.cosigned[endpoint.witness.label] = self._collect_from(
                    sessions, endpoint, now
                )
            except _Stop as stop:
                report.errors.append(f"{endpoint.witness.label} ({endpoint.url}): {stop}")
                logger.warning("witness %s: %s", endpoint.url, stop)
        sizes = sorted({s for got in report.cosigned.values() for s in got})
        if self.policy.quorum > 0 and sizes:
            with transaction(sessions) as session:
                counts = repo.cosigner_counts(session, self._keys, sizes)
                for size in sizes:
                    count = counts.get(size, 0)
                    if count >= self.policy.quorum and repo.mark_witnessed(
                        session, size, self.policy.quorum, count, now
                    ):
                        report.witnessed.append(size)
        return report

    def _collect_from(
        self, sessions: sessionmaker[Session], endpoint: WitnessEndpoint, now: datetime
    ) -> list[int]:
        with sessions() as session:
            old = repo.last_cosigned_size(session, endpoint.vkey) or 0
        got: list[int] = []
        requests = 0
        while requests < MAX_REQUESTS_PER_WITNESS:
            with sessions() as session:
                rows = repo.checkpoints_above(session, old, 1)
                if not rows:
                    break
                row = rows[0]
                size, note = int(row.tree_size), row.note
                proof = self.log.consistency_proof(session, old, size).hashes if old else ()
            answer = self.post(endpoint.url, old, proof, note, self.timeout)
            requests += 1
            if answer.status == 200:
                line = self._verified_line(endpoint, note, answer)
                with transaction(sessions) as session:
                    repo.add_cosignature(
                        session,
                        size,
                        endpoint.vkey,
                        endpoint.witness.name,
                        line.line,
                        datetime.fromtimestamp(line.timestamp, UTC),
                        now,
                    )
                got.append(size)
                old = size
            elif answer.status == 409 and answer.known_size is not None:
                old = self._resume_at(sessions, endpoint, old, answer.known_size)
            elif answer.status == 0:
                raise _Stop(answer.detail)
            else:
                raise _Stop(f"refused size {size} from {old} ({answer.status}): {answer.detail}")
        return got

    def _verified_line(self, endpoint: WitnessEndpoint, note: str, answer: WitnessAnswer) -> _Line:
        body, _ = signature_lines(note)
        verifier = endpoint.witness.verifier
        for text in answer.lines:
            if verifier.matches(text):
                try:
                    cosignature = verifier.verify(body, text)
                except VerificationError as exc:
                    raise _Stop(
                        f"answered a cosignature that does not verify: {exc.detail}"
                    ) from None
                return _Line(cosignature.line, cosignature.timestamp)
        raise _Stop(f"answered no cosignature by its configured key {verifier.vkey()}")

    def _resume_at(
        self, sessions: sessionmaker[Session], endpoint: WitnessEndpoint, old: int, known: int
    ) -> int:
        """After a 409: continue from the size the witness knows, if it is one of ours."""
        with sessions() as session:
            size = self.log.size(session)
            ours = log_repository.checkpoint_at(session, known) if known else None
        if known == old or known > size or (known and ours is None):
            raise _Stop(
                f"the witness knows size {known}, which is not a checkpoint of this log "
                f"(size {size}); a split view, or another log with this origin"
            )
        return known


@dataclass(frozen=True)
class _Line:
    line: str
    timestamp: int


class _Stop(Exception):
    """Stop asking this witness in this tick (the reason is reported)."""
