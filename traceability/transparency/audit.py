"""The auditor's full-log audit: re-hash every stored event and rebuild the tree.

The audit trusts nothing the database says about hashes. It streams the events
in leaf order, recomputes every leaf hash from the stored body, rebuilds the
tiles in memory and compares them byte for byte with the stored tiles, then
checks the log state, every signed checkpoint and any anchor claims against
the recomputed roots.

It streams: at any time it holds one page of events, the tiles of level 1 and
above (1/256 of the leaf hashes), the right-edge tile of level 0 and one more
level-0 tile for the consistency proof between consecutive checkpoints.

The first divergent index is the smallest leaf index at which the stored log
stops being what re-hashing gives: an event row whose body, columns or leaf
hash disagree; a missing or surplus row; or a stored tile entry that differs
from the rebuilt one (a tile entry of level ``L`` covers ``256**L`` leaves and
is reported at the first of them). A tile entry that differs only because a
tile below it already differs is a consequence, not a new divergence.

The anchored roots read from the chain (``chain_anchors``: every size the
pinned contract holds for the log, with its root) must each be the recomputed
root at that size, no anchored size may lie beyond the log, and between
successive anchored sizes the RFC 9162 consistency proof computed from the
stored tiles must verify against the two on-chain roots: a fork anchored on
the pinned contract is named by the first anchored size that disagrees.

An empty log (no state row, or tree size 0) is a finding, not a clean audit.

Roots that are only claimed (log state, checkpoints, anchors) cannot be traced
to a leaf: when one disagrees, ``first_divergent_size`` names the smallest tree
size whose claimed root is wrong, and the message names the range of leaves the
change must lie in when an earlier checkpoint still agrees.

The audit is safe to run while the log grows: it audits the size the log state
had when it started, and rows or tile entries appended later are not taken for
tampering.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability import merkle
from traceability.errors import Invalid, VerificationError
from traceability.merkle import HASH_SIZE
from traceability.transparency import log_repository as repo
from traceability.transparency.checkpoints import NoteVerifier, verify_checkpoint
from traceability.transparency.events import rfc3339
from traceability.transparency.log import TransparencyLog
from traceability.transparency.tiles import (
    EMPTY_ROOT,
    TILE_HEIGHT,
    TILE_WIDTH,
    TiledTree,
    TileKey,
    append_leaves,
    consistency_ranges,
    edge_tile_keys,
    tiles_for_ranges,
)

__all__ = ["MAX_PROBLEMS", "AnchorClaim", "AuditReport", "ChainRootReader", "audit_log"]

MAX_PROBLEMS = 50
"""Problems listed in a report; the one at the first divergence is always kept."""

_TILE_BYTES = TILE_WIDTH * HASH_SIZE
_NO_HASH = b"\x00" * HASH_SIZE
"""Stands in for a leaf that has neither an event row nor a stored tile entry."""

_STRAY_TILES_SHOWN = 5


@dataclass(frozen=True)
class AnchorClaim:
    """A claim that ``root_hash`` was anchored on chain for ``tree_size`` of log ``log_id``."""

    tree_size: int
    root_hash: bytes
    log_id: bytes


ChainRootReader = Callable[[bytes, int], bytes | None]
"""Reads the root the chain stores for ``(log_id, tree_size)``; None when there is none."""


@dataclass
class AuditReport:
    """The outcome of ``audit_log``.

    ``first_divergent_index`` is the smallest leaf index at which the stored log
    differs from what re-hashing gives; ``first_divergent_size`` the smallest tree
    size whose claimed root (log state, checkpoint, anchor) is wrong or unsigned.
    """

    events_checked: int
    tree_size: int
    first_divergent_index: int | None
    problems: list[str]
    checkpoints_checked: int
    anchors_checked: int
    first_divergent_size: int | None = None
    problems_omitted: int = 0
    """Problems found beyond the ``MAX_PROBLEMS`` listed."""

    @property
    def ok(self) -> bool:
        """True when the stored log is exactly what re-hashing the events gives."""
        return (
            not self.problems
            and self.first_divergent_index is None
            and self.first_divergent_size is None
        )


def audit_log(
    session: Session,
    log: TransparencyLog,
    verifier: NoteVerifier,
    *,
    anchors: Sequence[AnchorClaim] = (),
    chain_root: ChainRootReader | None = None,
    chain_anchors: Sequence[tuple[int, bytes]] = (),
    on_progress: Callable[[int, int], None] | None = None,
    chunk: int = 10_000,
) -> AuditReport:
    """Re-hash every stored event in order, rebuild the tree and compare it with the stored log.

    Checks each event row (contiguous leaf index, leaf hash, body against its
    columns), every stored tile, the log state's size and root, every stored
    checkpoint (signature by ``verifier`` for the log's origin, its columns, its
    root, consistency with the previous checkpoint) and each anchor claim (its
    root, and the root ``chain_root`` reads for it when given), and the roots
    ``chain_anchors`` (tree size, root) read from the pinned contract: each the
    recomputed root, each consecutive pair consistent. ``on_progress``
    is called with (leaves done, tree size) after each page of ``chunk`` events.
    Errors raised by ``chain_root`` propagate.

    Only reads: the caller's session is left without changes.
    """
    if chunk < 1:
        raise Invalid(f"chunk must be at least 1, got {chunk}")
    audit = _Audit(session, log, verifier, anchors, chain_root, on_progress, chunk)
    audit.chain_anchors = sorted((int(size), bytes(root)) for size, root in chain_anchors)
    return audit.run()


# --------------------------------------------------------------------------- findings


class _Findings:
    """Problems as found, capped, always keeping the ones at the first divergence."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.omitted = 0
        self.first_index: int | None = None
        self.first_size: int | None = None
        self._at_first_index: str | None = None
        self._at_first_size: str | None = None

    def add(self, message: str, *, index: int | None = None, size: int | None = None) -> None:
        if index is not None and (self.first_index is None or index < self.first_index):
            self.first_index, self._at_first_index = index, message
        if size is not None and (self.first_size is None or size < self.first_size):
            self.first_size, self._at_first_size = size, message
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(message)
        else:
            self.omitted += 1

    def listed(self) -> tuple[list[str], int]:
        """The problems to report (the first divergences first when they were cut) and omitted."""
        total = len(self.problems) + self.omitted
        keep = [
            m
            for m in dict.fromkeys((self._at_first_index, self._at_first_size))
            if m is not None and m not in self.problems
        ]
        listed = [*keep, *self.problems[: MAX_PROBLEMS - len(keep)]]
        return listed, total - len(listed)


def _span(level: int) -> int:
    """Leaves covered by one entry of a level."""
    return 1 << (TILE_HEIGHT * level)


def _entry(blob: bytes, e: int) -> bytes:
    return blob[e * HASH_SIZE : (e + 1) * HASH_SIZE]


def _hex(value: bytes) -> str:
    return value.hex() if value else "nothing"


_Row = tuple[int, str, str, str, datetime, datetime, bytes, bytes]


def _body_problem(row: _Row) -> str | None:
    """Why the body does not match the row's columns, or None."""
    _index, event_id, kind, subject, occurred_at, recorded_at, body, _leaf = row
    try:
        public = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        return f"the body is not valid JSON ({exc})"
    if not isinstance(public, dict):
        return f"the body is a JSON {type(public).__name__}, not an object"
    columns: list[tuple[str, str, Any]] = [
        ("id", "event_id", event_id),
        ("kind", "kind", kind),
        ("subject", "subject", subject),
        ("occurred_at", "occurred_at", rfc3339(occurred_at)),
        ("recorded_at", "recorded_at", rfc3339(recorded_at)),
    ]
    differ = [
        f"body {name} is {public.get(name, '(absent)')!r} but the {column} column is {value!r}"
        for name, column, value in columns
        if public.get(name) != value
    ]
    return "; ".join(differ) if differ else None


# --------------------------------------------------------------------------- the audit


class _Audit:
    def __init__(
        self,
        session: Session,
        log: TransparencyLog,
        verifier: NoteVerifier,
        anchors: Sequence[AnchorClaim],
        chain_root: ChainRootReader | None,
        on_progress: Callable[[int, int], None] | None,
        chunk: int,
    ) -> None:
        self.session = session
        self.log = log
        self.verifier = verifier
        self.anchors = list(anchors)
        self.chain_root = chain_root
        self.on_progress = on_progress
        self.chunk = chunk
        self.found = _Findings()
        # The rebuilt tree: its size, every tile of level >= 1, the level-0 edge tile.
        self.size = 0
        self.tiles: dict[TileKey, bytes] = {}
        # Tiles whose stored copy differs: a parent entry over them is a consequence.
        self.bad_tiles: set[TileKey] = set()
        # The level-0 tile holding the previous checkpoint's size, kept up to date
        # until the next checkpoint's consistency proof has been built from it.
        self.pinned: tuple[int, bytes] | None = None
        self.previous_checkpoint: int | None = None
        self.roots: dict[int, bytes] = {0: EMPTY_ROOT}
        self.milestones: list[int] = []
        self.next_milestone = 0
        self.checkpoint_sizes: set[int] = set()
        self.claimed: dict[int, bytes] = {}
        self.events_checked = 0
        self.n = 0
        # Per checkpoint size (at most the log's): its root column and its signed root.
        self.notes: dict[int, tuple[bytes, bytes | None]] = {}
        # (tree size, root) of every anchor the pinned contract holds for this log.
        self.chain_anchors: list[tuple[int, bytes]] = []

    # -- driving -------------------------------------------------------------

    def run(self) -> AuditReport:
        # Checkpoints before the state: a checkpoint is only ever signed for a size
        # the state already had, so none read here can lie beyond it legitimately.
        checkpoints = repo.checkpoints_in_order(self.session)
        state = repo.state_now(self.session)
        if state is None:
            self.found.add("the log has no state row", size=0)
            n, state_root = 0, EMPTY_ROOT
        else:
            origin, n, state_root = state
            if origin != self.log.origin:
                self.found.add(f"the log state's origin is {origin!r}, not {self.log.origin!r}")
            if n == 0:
                self.found.add("the log is empty (tree size 0): there is nothing to audit", size=0)
        self.n = n
        self._prepare_checkpoints(checkpoints)
        sizes = {n, *(s for s in self.checkpoint_sizes if s <= n)}
        sizes |= {a.tree_size for a in self.anchors if 0 <= a.tree_size <= n}
        sizes |= {size for size, _root in self.chain_anchors if 0 <= size <= n}
        self.milestones = sorted(s for s in sizes if s > 0)
        if 0 in self.checkpoint_sizes:
            self._reached_checkpoint(0)

        self._stream_events()
        self._check_the_end()
        self._check_roots(state_root)
        problems, omitted = self.found.listed()
        return AuditReport(
            events_checked=self.events_checked,
            tree_size=n,
            first_divergent_index=self.found.first_index,
            problems=problems,
            checkpoints_checked=len(checkpoints),
            anchors_checked=len(self.anchors) + len(self.chain_anchors),
            first_divergent_size=self.found.first_size,
            problems_omitted=omitted,
        )

    def _progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.size, self.n)

    # -- events --------------------------------------------------------------

    def _stream_events(self) -> None:
        n = self.n
        expected = 0
        after: int | None = None
        while True:
            rows = repo.events_page(self.session, after, n, self.chunk)
            if not rows:
                break
            leaves: list[bytes] = []
            for row in rows:
                index = row[0]
                if index < 0:
                    self.found.add(f"an event row has the negative leaf index {index}")
                    continue
                if index > expected:
                    self._feed(leaves)
                    leaves = []
                    self.found.add(
                        f"leaves {expected}..{index - 1} have no event row "
                        f"({index - expected} missing)",
                        index=expected,
                    )
                    self._feed_stored(expected, index)
                leaves.append(self._check_row(row))
                expected = index + 1
            self._feed(leaves)
            self.events_checked += len(rows)
            after = rows[-1][0]
            self._progress()
        if expected < n:
            self.found.add(
                f"truncated tail: the log state says {n} leaves but leaves {expected}..{n - 1} "
                f"have no event row ({n - expected} missing)",
                index=expected,
            )
            self._feed_stored(expected, n)
        self._progress()

    def _check_row(self, row: _Row) -> bytes:
        """Check one event row and return the leaf hash its body gives."""
        index, stored_leaf, body = row[0], bytes(row[7]), bytes(row[6])
        leaf = merkle.leaf_hash(body)
        if stored_leaf != leaf:
            self.found.add(
                f"leaf {index}: the leaf_hash column is {_hex(stored_leaf)} "
                f"but the body hashes to {leaf.hex()}",
                index=index,
            )
        problem = _body_problem(row)
        if problem is not None:
            self.found.add(f"leaf {index}: {problem}", index=index)
        return leaf

    def _feed_stored(self, start: int, end: int) -> None:
        """Rebuild leaves [start, end), which have no event row, from the stored level-0 tiles.

        The gap is already reported; taking the stored hashes keeps every later
        comparison meaningful instead of flagging all that follows.
        """
        for first in range(start, end, self.chunk):
            last = min(end, first + self.chunk)
            keys = [(0, t) for t in range(first // TILE_WIDTH, (last - 1) // TILE_WIDTH + 1)]
            stored = repo.read_tiles(self.session, keys)
            leaves = []
            for i in range(first, last):
                entry = _entry(stored.get((0, i // TILE_WIDTH), b""), i % TILE_WIDTH)
                leaves.append(entry if len(entry) == HASH_SIZE else _NO_HASH)
            self._feed(leaves)
            self._progress()

    # -- the rebuilt tree ----------------------------------------------------

    def _feed(self, leaves: Sequence[bytes]) -> None:
        """Append leaves to the rebuilt tree, stopping at every size that needs its root."""
        position = 0
        while position < len(leaves):
            take = len(leaves) - position
            if self.next_milestone < len(self.milestones):
                take = min(take, self.milestones[self.next_milestone] - self.size)
            self._append(leaves[position : position + take])
            position += take
            while (
                self.next_milestone < len(self.milestones)
                and self.milestones[self.next_milestone] == self.size
            ):
                self._reached(self.size)
                self.next_milestone += 1

    def _append(self, leaves: Sequence[bytes]) -> None:
        edges = {key: self.tiles[key] for key in edge_tile_keys(self.size)}
        grown = append_leaves(self.size, edges, leaves)
        self.size = grown.tree_size
        self.tiles.update(grown.tiles)
        if self.pinned is not None and (0, self.pinned[0]) in grown.tiles:
            self.pinned = (self.pinned[0], grown.tiles[(0, self.pinned[0])])
        full = sorted(key for key, blob in grown.tiles.items() if len(blob) == _TILE_BYTES)
        if full:
            stored = repo.read_tiles(self.session, full)
            for key in full:  # level by level: a parent is judged after its children
                self._compare_tile(key, grown.tiles[key], stored.get(key))
                if key[0] == 0:
                    del self.tiles[key]

    def _tree(self) -> TiledTree:
        tiles = self.tiles
        if self.pinned is not None and (0, self.pinned[0]) not in tiles:
            tiles = {**tiles, (0, self.pinned[0]): self.pinned[1]}
        return TiledTree(tiles)

    def _reached(self, size: int) -> None:
        self.roots[size] = self._tree().range_hash(0, size)
        if size in self.checkpoint_sizes:
            self._reached_checkpoint(size)

    def _reached_checkpoint(self, size: int) -> None:
        previous = self.previous_checkpoint
        if previous is not None:
            tree = self._tree()
            hashes = [tree.range_hash(a, b) for a, b in consistency_ranges(previous, size)]
            try:
                merkle.verify_consistency(
                    previous, size, hashes, self.claimed[previous], self.claimed[size]
                )
            except VerificationError as exc:
                self.found.add(
                    f"checkpoints {previous} → {size}: the consistency proof from the "
                    f"recomputed tree does not verify against their roots ({exc.detail})",
                    size=size,
                )
        tile = size // TILE_WIDTH
        self.pinned = (tile, self.tiles.get((0, tile), b""))
        self.previous_checkpoint = size

    def _compare_tile(
        self, key: TileKey, rebuilt: bytes, stored: bytes | None, *, may_grow: bool = False
    ) -> None:
        """Compare a rebuilt tile with the stored one; report the first genuine difference."""
        found = b"" if stored is None else stored
        if found == rebuilt or (may_grow and found.startswith(rebuilt)):
            return
        level, index = key
        count = -(-max(len(found), len(rebuilt)) // HASH_SIZE)
        if may_grow:
            count = -(-len(rebuilt) // HASH_SIZE)
        differ = [e for e in range(count) if _entry(found, e) != _entry(rebuilt, e)]
        self.bad_tiles.add(key)
        genuine = [
            e
            for e in differ
            if level == 0 or (level - 1, index * TILE_WIDTH + e) not in self.bad_tiles
        ]
        if not genuine:
            return  # every differing entry sits over a differing tile, reported there
        e = genuine[0]
        span = _span(level)
        first = (index * TILE_WIDTH + e) * span
        covers = f"leaf {first}" if span == 1 else f"leaves {first}..{first + span - 1}"
        if stored is None:
            shape = ", missing"
        elif len(found) != len(rebuilt):
            shape = f", {len(found)} bytes where re-hashing gives {len(rebuilt)}"
        else:
            shape = ""
        self.found.add(
            f"leaf {first}: stored tile ({level}, {index}) (from leaf {index * TILE_WIDTH * span}"
            f"{shape}): entry {e} for {covers} is {_hex(_entry(found, e))}, re-hashing gives "
            f"{_hex(_entry(rebuilt, e))}"
            + (f"; {len(differ)} entries of this tile differ" if len(differ) > 1 else ""),
            index=first,
        )

    # -- the end of the log --------------------------------------------------

    def _check_the_end(self) -> None:
        """Check the edge tiles, stray tiles and rows beyond the audited size.

        A log that grew during the audit is not a problem: the audit covers the
        size the log had when it started.
        """
        n = self.n
        edge_keys = edge_tile_keys(n)
        stored_edges = repo.read_tiles(self.session, edge_keys)
        stray = repo.stray_tiles(self.session, _tiles_per_level(n), _STRAY_TILES_SHOWN)
        last_row = repo.last_event_index(self.session)
        # The state is read last, so whatever a concurrent append wrote into the
        # tiles and rows read above lies below the size it gives.
        state = repo.state_now(self.session)
        now = None if state is None else state[1]
        grown = now if now is not None and now > n else None
        for key in sorted(edge_keys):
            self._compare_tile(
                key, self.tiles[key], stored_edges.get(key), may_grow=grown is not None
            )
        if grown is None:
            for level, index in stray:
                first = index * TILE_WIDTH * _span(level) if index >= 0 and level >= 0 else None
                self.found.add(
                    f"a stored tile ({level}, {index}) lies outside the tree of {n} leaves",
                    index=first,
                )
        bound = max(n, now or 0)
        if last_row is not None and last_row >= bound:
            beyond = repo.first_event_index_from(self.session, bound)
            if beyond is not None:
                self.found.add(
                    f"leaf {beyond}: an event row lies beyond the log's size {n}", index=beyond
                )

    # -- roots: state, checkpoints, anchors ----------------------------------

    def _prepare_checkpoints(self, rows: Iterable[tuple[int, bytes, str]]) -> None:
        for size, root, note in rows:
            root = bytes(root)
            note_root: bytes | None = None
            try:
                checkpoint = verify_checkpoint(note, self.verifier, origin=self.log.origin)
            except VerificationError as exc:
                self.found.add(
                    f"checkpoint {size}: the note does not verify with "
                    f"{self.verifier.name}+{self.verifier.key_id.hex()}: {exc.detail}",
                    size=size,
                )
            else:
                if checkpoint.tree_size != size:
                    self.found.add(
                        f"checkpoint {size}: the note is for tree size {checkpoint.tree_size}",
                        size=min(size, checkpoint.tree_size),
                    )
                elif checkpoint.root_hash != root:
                    self.found.add(
                        f"checkpoint {size}: the root_hash column is {root.hex()} but the "
                        f"signed note says {checkpoint.root_hash.hex()}",
                        size=size,
                    )
                    note_root = checkpoint.root_hash
                else:
                    note_root = checkpoint.root_hash
            if size < 0 or size > self.n:
                self.found.add(
                    f"checkpoint {size} lies beyond the log's size {self.n}", size=max(size, 0)
                )
                continue
            self.checkpoint_sizes.add(size)
            self.claimed[size] = root if note_root is None else note_root
            self.notes[size] = (root, note_root)

    def _check_roots(self, state_root: bytes) -> None:
        agreed = [0]  # sizes whose signed root matches the recomputed one
        for size in sorted(self.notes):
            root, note_root = self.notes[size]
            expected = self.roots[size]
            wrong = [("root_hash column", root)] if root != expected else []
            if note_root is not None and note_root != root and note_root != expected:
                wrong.append(("signed note root", note_root))
            if note_root is not None and not wrong:
                agreed.append(size)
            for what, value in wrong:
                self.found.add(
                    f"checkpoint {size}: the {what} is {value.hex()} but the recomputed root "
                    f"is {expected.hex()}{_where(agreed[-1], size)}",
                    size=size,
                )
        n = self.n
        recomputed = self.roots[n]
        if state_root != recomputed:
            self.found.add(
                f"log state: root_hash is {state_root.hex()} but the recomputed root at "
                f"size {n} is {recomputed.hex()}{_where(agreed[-1], n)}",
                size=n,
            )
        for claim in self.anchors:
            self._check_anchor(claim, agreed)
        self._check_chain_anchors(agreed)

    def _check_chain_anchors(self, agreed: list[int]) -> None:
        """Each root on the pinned contract is the recomputed one, and successive ones are
        consistent by a proof computed from the stored tiles."""
        previous: tuple[int, bytes] | None = None
        for size, root in self.chain_anchors:
            if size > self.n:
                self.found.add(
                    f"on chain: the pinned contract anchors size {size} (root {root.hex()}), "
                    f"beyond the log's size {self.n}: the log lost leaves or the chain holds a "
                    "fork",
                    size=size,
                )
                continue
            expected = self.roots.get(size)
            if size <= 0 or expected is None:
                self.found.add(f"on chain: the pinned contract anchors size {size}", size=0)
                continue
            if root != expected:
                hint = _where(max(s for s in agreed if s <= size), size)
                self.found.add(
                    f"on chain: the pinned contract anchors root {root.hex()} at size {size} "
                    f"but the log's recomputed root there is {expected.hex()}{hint}",
                    size=size,
                )
            if previous is not None:
                self._check_chain_consistency(previous, (size, root))
            previous = (size, root)

    def _check_chain_consistency(self, first: tuple[int, bytes], second: tuple[int, bytes]) -> None:
        (a, root_a), (b, root_b) = first, second
        ranges = consistency_ranges(a, b)
        tree = TiledTree(repo.read_tiles(self.session, tiles_for_ranges(ranges)))
        try:
            hashes = [tree.range_hash(lo, hi) for lo, hi in ranges]
            merkle.verify_consistency(a, b, hashes, root_a, root_b)
        except LookupError as exc:
            self.found.add(
                f"on chain: anchored sizes {a} → {b}: the stored log cannot give the "
                f"consistency proof ({exc})",
                size=b,
            )
        except VerificationError as exc:
            self.found.add(
                f"on chain: anchored sizes {a} → {b}: the consistency proof computed from the "
                f"stored log does not verify against the on-chain roots ({exc.detail})",
                size=b,
            )

    def _check_anchor(self, claim: AnchorClaim, agreed: list[int]) -> None:
        size = claim.tree_size
        if size < 0 or size > self.n:
            self.found.add(
                f"anchor {size} (log id {claim.log_id.hex()}) lies beyond the log's size {self.n}",
                size=max(size, 0),
            )
            return
        expected = self.roots[size]
        hint = _where(max(s for s in agreed if s <= size), size)
        if bytes(claim.root_hash) != expected:
            self.found.add(
                f"anchor {size}: the claimed root is {_hex(bytes(claim.root_hash))} but the "
                f"recomputed root is {expected.hex()}{hint}",
                size=size,
            )
        if self.chain_root is None:
            return
        on_chain = self.chain_root(claim.log_id, size)
        if on_chain is None:
            self.found.add(
                f"anchor {size}: not on chain (no root stored for log id {claim.log_id.hex()} "
                f"at size {size}); the recomputed root is {expected.hex()}",
                size=size,
            )
        elif bytes(on_chain) != expected:
            self.found.add(
                f"anchor {size}: the chain stores {_hex(bytes(on_chain))} but the recomputed "
                f"root is {expected.hex()}{hint}",
                size=size,
            )


def _where(agreeing: int, size: int) -> str:
    """Where a change lies, given that the tree of ``agreeing`` leaves matches a signed root."""
    if agreeing <= 0 or agreeing >= size:
        return ""
    return (
        f" (the checkpoint at {agreeing} agrees, so the change lies in leaves "
        f"{agreeing}..{size - 1})"
    )


def _tiles_per_level(tree_size: int) -> list[int]:
    """How many tiles each level of a tree of ``tree_size`` leaves has."""
    counts = []
    entries = tree_size
    while entries:
        counts.append(-(-entries // TILE_WIDTH))
        entries //= TILE_WIDTH
    return counts
