"""The persistent, append-only transparency log (RFC 9162 tree stored as tiles).

Services here only flush; the caller's unit of work commits. An append changes
tiles, events and the size in one transaction, so an interrupted append leaves
the log at its previous size, never half a batch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from traceability import merkle
from traceability.errors import Invalid, NotFound
from traceability.transparency import log_repository as repo
from traceability.transparency.checkpoints import Checkpoint, NoteSigner, sign_checkpoint
from traceability.transparency.tile_paths import TileRequest
from traceability.transparency.tiles import (
    TILE_WIDTH,
    LogCorrupted,
    Subtree,
    TiledTree,
    append_leaves,
    consistency_ranges,
    edge_tile_keys,
    inclusion_ranges,
    tiles_for_ranges,
)


@dataclass(frozen=True)
class InclusionProof:
    """Proof that leaf ``index`` is in the tree of ``tree_size`` leaves with ``root_hash``."""

    index: int
    tree_size: int
    leaf_hash: bytes
    root_hash: bytes
    hashes: tuple[bytes, ...]


@dataclass(frozen=True)
class ConsistencyProof:
    """Proof that the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves."""

    first: int
    second: int
    first_root: bytes
    second_root: bytes
    hashes: tuple[bytes, ...]


@dataclass(frozen=True)
class LoggedEvent:
    """One logged event: its leaf, and the canonical bytes the leaf hashes."""

    event_id: str
    leaf_index: int
    leaf_hash: bytes
    body: bytes


@dataclass(frozen=True)
class SignedCheckpoint:
    tree_size: int
    root_hash: bytes
    note: str
    created_at: datetime


class TransparencyLog:
    """One log, identified by its origin line, stored in the session's database."""

    def __init__(self, origin: str) -> None:
        self.origin = origin

    # -- writing -------------------------------------------------------------

    def append(self, session: Session, leaf_hashes: Sequence[bytes]) -> int:
        """Append leaves under the log lock; return the index of the first one.

        The caller must already hold the lock (``lock``) when it needs to read
        and append atomically; otherwise this takes it.
        """
        state = repo.lock_state(session)
        for i, leaf in enumerate(leaf_hashes):
            if len(leaf) != merkle.HASH_SIZE:
                raise Invalid(f"leaf {i} of the batch is {len(leaf)} bytes, not 32")
        first = state.tree_size
        if not leaf_hashes:
            return first
        edge_keys = edge_tile_keys(first)
        edges = repo.read_tiles(session, edge_keys)
        if len(edges) != len(edge_keys):
            raise LogCorrupted(f"edge tiles {sorted(set(edge_keys) - set(edges))} are missing")
        grown = append_leaves(first, edges, leaf_hashes)
        repo.write_tiles(session, grown.tiles, edges.keys())
        new_size = grown.tree_size
        root = self._root_from(session, new_size, grown.tiles)
        repo.set_state(session, new_size, root)
        return first

    def lock(self, session: Session) -> int:
        """Take the append lock for this transaction and return the current size."""
        return repo.lock_state(session).tree_size

    def initialise(self, session: Session) -> None:
        """Create the log on first use; refuse a database that holds another log."""
        repo.ensure_state(session, self.origin)
        state = repo.read_state(session)
        if state is not None and state.origin != self.origin:
            raise Invalid(
                f"the database holds the log {state.origin!r}, not {self.origin!r} "
                "(check SUNLEDGER_LOG_ORIGIN)"
            )

    # -- reading -------------------------------------------------------------

    def size(self, session: Session) -> int:
        state = repo.read_state(session)
        return 0 if state is None else state.tree_size

    def root(self, session: Session, tree_size: int | None = None) -> bytes:
        """Root of the tree at ``tree_size`` (default: now)."""
        state = repo.read_state(session)
        current = 0 if state is None else state.tree_size
        if tree_size is None or (state is not None and tree_size == current):
            return merkle.root([]) if state is None else bytes(state.root_hash)
        self._check_size(tree_size, current)
        return self._root_from(session, tree_size, {})

    def _root_from(
        self, session: Session, tree_size: int, known: dict[tuple[int, int], bytes]
    ) -> bytes:
        ranges = [(0, tree_size)]
        needed = tiles_for_ranges(ranges) - known.keys()
        tiles = {**known, **repo.read_tiles(session, needed)}
        return TiledTree(tiles).range_hash(0, tree_size)

    @staticmethod
    def _check_size(tree_size: int, current: int) -> None:
        if tree_size < 0:
            raise Invalid(f"tree size {tree_size} is negative")
        if tree_size > current:
            raise Invalid(f"tree size {tree_size} is larger than the log ({current} leaves)")

    def _known_roots(self, session: Session, *sizes: int) -> tuple[int, dict[int, bytes]]:
        """The log's size, and the roots recorded for these sizes (state or checkpoints).

        One round trip. Proofs are checked against these roots before they
        leave, so tiles changed behind our back are caught rather than served.
        """
        return repo.known_roots(session, sizes)

    def inclusion_proof(self, session: Session, index: int, tree_size: int) -> InclusionProof:
        """RFC 9162 inclusion proof of leaf ``index`` in the tree of ``tree_size`` leaves."""
        current, roots = self._known_roots(session, tree_size)
        self._check_size(tree_size, current)
        if not 0 <= index < tree_size:
            raise Invalid(f"index {index} is not below tree size {tree_size}")
        root = roots.get(tree_size)
        ranges = inclusion_ranges(index, tree_size)
        leaf = Subtree(0, index)
        wanted = [*ranges, (0, tree_size)] if root is None else ranges
        tree = TiledTree(repo.read_tiles(session, tiles_for_ranges(wanted) | {leaf.tile}))
        try:
            hashes = tuple(tree.range_hash(a, b) for a, b in ranges)
            leaf_hash = tree.subtree_hash(leaf)
            if root is None:
                root = tree.range_hash(0, tree_size)
            merkle.verify_inclusion(index, tree_size, leaf_hash, hashes, root)
        except (LookupError, merkle.VerificationError) as exc:
            raise LogCorrupted(f"cannot prove leaf {index} at size {tree_size}: {exc}") from exc
        return InclusionProof(index, tree_size, leaf_hash, root, hashes)

    def consistency_proof(self, session: Session, first: int, second: int) -> ConsistencyProof:
        """RFC 9162 consistency proof between the trees of ``first`` and ``second`` leaves."""
        current, roots = self._known_roots(session, first, second)
        self._check_size(second, current)
        if first < 0:
            raise Invalid(f"first size {first} is negative")
        if first > second:
            raise Invalid(f"first size {first} is larger than second size {second}")
        first_root, second_root = roots.get(first), roots.get(second)
        ranges = consistency_ranges(first, second)
        wanted = list(ranges)
        if first_root is None:
            wanted.append((0, first))
        if second_root is None:
            wanted.append((0, second))
        tree = TiledTree(repo.read_tiles(session, tiles_for_ranges(wanted)))
        try:
            hashes = tuple(tree.range_hash(a, b) for a, b in ranges)
            if first_root is None:
                first_root = tree.range_hash(0, first)
            if second_root is None:
                second_root = tree.range_hash(0, second)
            merkle.verify_consistency(first, second, hashes, first_root, second_root)
        except (LookupError, merkle.VerificationError) as exc:
            raise LogCorrupted(f"cannot prove {first} → {second}: {exc}") from exc
        return ConsistencyProof(first, second, first_root, second_root, hashes)

    def leaf_hashes(self, session: Session, start: int, end: int) -> list[bytes]:
        """Leaf hashes [start, end), read from the level-0 tiles."""
        if end <= start:
            return []
        keys = [(0, t) for t in range(start // TILE_WIDTH, (end - 1) // TILE_WIDTH + 1)]
        tiles = repo.read_tiles(session, keys)
        out = []
        for i in range(start, end):
            blob = tiles.get((0, i // TILE_WIDTH), b"")
            offset = (i % TILE_WIDTH) * merkle.HASH_SIZE
            out.append(blob[offset : offset + merkle.HASH_SIZE])
        return out

    def event(self, session: Session, event_id: str) -> LoggedEvent | None:
        """The logged event with this id, or None."""
        row = repo.event_by_id(session, event_id)
        if row is None:
            return None
        return LoggedEvent(row.event_id, row.leaf_index, bytes(row.leaf_hash), bytes(row.body))

    def tile(self, session: Session, request: TileRequest) -> bytes:
        """A C2SP tlog-tiles hash tile within the newest signed checkpoint."""
        from traceability.transparency.published_tiles import read_tile

        return read_tile(session, request)

    def entry_bundle(self, session: Session, request: TileRequest) -> bytes:
        """A C2SP tlog-tiles entry bundle within the newest signed checkpoint."""
        from traceability.transparency.published_tiles import read_entry_bundle

        return read_entry_bundle(session, request)

    # -- checkpoints ---------------------------------------------------------

    def checkpoint(
        self, session: Session, signer: NoteSigner, now: datetime | None = None
    ) -> SignedCheckpoint:
        """Sign a checkpoint for the current size, unless the newest one already covers it."""
        state = repo.read_state(session)
        size = 0 if state is None else state.tree_size
        root = merkle.root([]) if state is None else bytes(state.root_hash)
        latest = repo.latest_checkpoint(session)
        if latest is not None and latest.tree_size == size:
            return _signed(latest.tree_size, latest.root_hash, latest.note, latest.created_at)
        note = sign_checkpoint(Checkpoint(self.origin, size, root), signer)
        try:
            with session.begin_nested():  # another process may sign this size at the same time
                row = repo.insert_checkpoint(session, size, root, note, now or datetime.now(UTC))
        except IntegrityError:
            found = repo.checkpoint_at(session, size)
            if found is None:
                raise
            row = found
        return _signed(row.tree_size, row.root_hash, row.note, row.created_at)

    def latest_checkpoint(self, session: Session) -> SignedCheckpoint:
        """The newest signed checkpoint; ``NotFound`` when none is signed yet."""
        row = repo.latest_checkpoint(session)
        if row is None:
            raise NotFound("no checkpoint has been signed yet")
        return _signed(row.tree_size, row.root_hash, row.note, row.created_at)

    def checkpoint_at(self, session: Session, tree_size: int) -> SignedCheckpoint | None:
        """The signed checkpoint of exactly ``tree_size`` leaves, if one was signed."""
        row = repo.checkpoint_at(session, tree_size)
        if row is None:
            return None
        return _signed(row.tree_size, row.root_hash, row.note, row.created_at)


def _signed(size: int, root: bytes, note: str, created: datetime) -> SignedCheckpoint:
    return SignedCheckpoint(size, bytes(root), note, created)


__all__ = [
    "ConsistencyProof",
    "InclusionProof",
    "LogCorrupted",
    "LoggedEvent",
    "SignedCheckpoint",
    "TransparencyLog",
]
