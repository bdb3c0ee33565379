"""The read side of the transparency log: what proofs, tiles and checkpoints are built from.

Modelled on Tessera's ``LogReader``: readers get signed checkpoints, tiles, entry
bundles and the logged events, and build every proof from those reads only; they
never reach the log's tables. ``TransparencyLog`` is the implementation.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from traceability.transparency.log import InclusionProof, LoggedEvent, SignedCheckpoint
from traceability.transparency.tile_paths import TileRequest

__all__ = ["LogReader", "LoggedEvent"]


class LogReader(Protocol):
    """Reads one log within the caller's session.

    Every implementation MUST:

    - only read: never append, never sign or store a checkpoint, never commit (the
      caller's unit of work decides; a GET stays a read);
    - serve tiles and entry bundles only inside the tree of the newest signed
      checkpoint, where they can never change, and ``NotFound`` beyond it;
    - check what it serves against the stored roots (a proof against its root, an
      entry bundle against its level-0 tile) and raise ``LogCorrupted`` rather than
      serve data changed behind the log's back;
    - raise ``NotFound`` naming what is missing, ``Invalid`` for an impossible request
      (a size beyond the log, an index beyond a size).
    """

    origin: str
    """The log's origin line, as its checkpoints carry it."""

    def latest_checkpoint(self, session: Session) -> SignedCheckpoint:
        """The newest signed checkpoint; ``NotFound`` when none is signed yet."""
        ...

    def checkpoint_at(self, session: Session, tree_size: int) -> SignedCheckpoint | None:
        """The signed checkpoint of exactly ``tree_size`` leaves, if one was signed."""
        ...

    def event(self, session: Session, event_id: str) -> LoggedEvent | None:
        """The logged event with this id, or None."""
        ...

    def inclusion_proof(self, session: Session, index: int, tree_size: int) -> InclusionProof:
        """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves."""
        ...

    def tile(self, session: Session, request: TileRequest) -> bytes:
        """A C2SP tlog-tiles hash tile (``request.level`` set)."""
        ...

    def entry_bundle(self, session: Session, request: TileRequest) -> bytes:
        """A C2SP tlog-tiles entry bundle (``request.level`` None), re-hashed against its
        level-0 tile before it is returned."""
        ...
