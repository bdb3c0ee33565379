"""The Merkle tree stored as tiles, as in C2SP tlog-tiles.

Level ``L`` of the tiled tree holds the roots of the complete subtrees of
``256**L`` leaves (level 0 holds the leaf hashes). Tile ``(L, i)`` holds the
entries ``256*i .. 256*i+255`` of level ``L``; only the tile at the right edge
of each level is partial. Any complete subtree of ``2**k`` leaves is the
perfect root over ``2**(k % 8)`` consecutive entries of level ``k // 8``, so a
proof over a tree of ``n`` leaves reads a handful of tiles per level: O(log n).

This module is pure: reading and writing tiles is the caller's business.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from traceability.merkle import HASH_SIZE, largest_power_of_two_below

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
EMPTY_ROOT = hashlib.sha256(b"").digest()

TileKey = tuple[int, int]
"""(level, index) of a tile."""


def _perfect_root(hashes: list[bytes]) -> bytes:
    """Root of a perfect tree over ``len(hashes)`` (a power of two) nodes."""
    sha = hashlib.sha256
    while len(hashes) > 1:
        hashes = [
            sha(b"\x01" + hashes[i] + hashes[i + 1]).digest() for i in range(0, len(hashes), 2)
        ]
    return hashes[0]


def _split(blob: bytes) -> list[bytes]:
    return [blob[i : i + HASH_SIZE] for i in range(0, len(blob), HASH_SIZE)]


class LogCorrupted(RuntimeError):
    """Stored tiles disagree with the stored root: the database was changed behind our back."""


@dataclass(frozen=True)
class Subtree:
    """The complete subtree of ``2**height`` leaves starting at leaf ``index * 2**height``."""

    height: int
    index: int

    @property
    def tile(self) -> TileKey:
        level, within = divmod(self.height, TILE_HEIGHT)
        return level, (self.index << within) // TILE_WIDTH

    @property
    def entries(self) -> tuple[int, int]:
        """Offset and count of this subtree's entries inside its tile."""
        within = self.height % TILE_HEIGHT
        start = self.index << within
        return start % TILE_WIDTH, 1 << within


def complete_subtrees(start: int, end: int) -> list[Subtree]:
    """The complete subtrees that RFC 9162 splits the leaf range [start, end) into.

    ``start`` must be a multiple of the largest power of two below ``end - start``
    (always true for ranges met in RFC 9162 proofs and roots).
    """
    out: list[Subtree] = []
    while start < end:
        size = end - start
        if size & (size - 1) == 0:
            out.append(Subtree(size.bit_length() - 1, start // size))
            break
        k = largest_power_of_two_below(size)
        out.append(Subtree(k.bit_length() - 1, start // k))
        start += k
    return out


def inclusion_ranges(index: int, tree_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form the RFC 9162 inclusion proof, in proof order."""
    if not 0 <= index < tree_size:
        raise ValueError(f"index {index} is outside a tree of size {tree_size}")
    ranges: list[tuple[int, int]] = []
    start, end = 0, tree_size
    while end - start > 1:
        k = largest_power_of_two_below(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    ranges.reverse()
    return ranges


def consistency_ranges(old_size: int, new_size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose hashes form the RFC 9162 consistency proof, in proof order."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[tuple[int, int]] = []
    m, start, end, whole = old_size, 0, new_size, True
    while True:
        size = end - start
        if m == size:
            if not whole:
                ranges.append((start, end))
            break
        k = largest_power_of_two_below(size)
        if m <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            m -= k
            start += k
            whole = False
    ranges.reverse()
    return ranges


def tiles_for_ranges(ranges: Iterable[tuple[int, int]]) -> set[TileKey]:
    """Every tile needed to hash the given leaf ranges."""
    return {subtree.tile for start, end in ranges for subtree in complete_subtrees(start, end)}


class TiledTree:
    """Hashes of leaf ranges, computed from a mapping of fetched tiles."""

    def __init__(self, tiles: Mapping[TileKey, bytes]) -> None:
        self._tiles = tiles

    def subtree_hash(self, subtree: Subtree) -> bytes:
        blob = self._tiles.get(subtree.tile)
        offset, count = subtree.entries
        if blob is None or len(blob) < (offset + count) * HASH_SIZE:
            raise LookupError(f"tile {subtree.tile} is missing or too short for {subtree}")
        chunk = blob[offset * HASH_SIZE : (offset + count) * HASH_SIZE]
        return _perfect_root(_split(chunk))

    def range_hash(self, start: int, end: int) -> bytes:
        """MTH of the leaves [start, end): the right-edge subtrees fold from the right."""
        if start == end:
            return EMPTY_ROOT
        hashes = [self.subtree_hash(s) for s in complete_subtrees(start, end)]
        acc = hashes[-1]
        for left in reversed(hashes[:-1]):
            acc = hashlib.sha256(b"\x01" + left + acc).digest()
        return acc


@dataclass
class TileAppend:
    """The outcome of appending leaves: tiles to write and the new size."""

    tiles: dict[TileKey, bytes]
    tree_size: int


def append_leaves(
    tree_size: int,
    edge_tiles: Mapping[TileKey, bytes],
    leaf_hashes: Sequence[bytes],
) -> TileAppend:
    """Add leaves to a tiled tree of ``tree_size`` leaves.

    ``edge_tiles`` must hold the partial tile at the right edge of each level
    (see ``edge_tile_keys``). Returns every tile that changed or appeared.
    """
    changed: dict[TileKey, bytes] = {}
    pending = list(leaf_hashes)
    level = 0
    while pending:
        # Entries this level had before the append; the new ones go after them.
        tile_index, width = divmod(tree_size // TILE_WIDTH**level, TILE_WIDTH)
        current = edge_tiles.get((level, tile_index), b"") if width else b""
        if len(current) != width * HASH_SIZE:
            raise LookupError(f"edge tile {(level, tile_index)} has {len(current)} bytes")
        promoted: list[bytes] = []
        buffer = _split(current)
        for entry in pending:
            buffer.append(entry)
            if len(buffer) == TILE_WIDTH:
                changed[(level, tile_index)] = b"".join(buffer)
                promoted.append(_perfect_root(buffer))
                buffer = []
                tile_index += 1
        if buffer:
            changed[(level, tile_index)] = b"".join(buffer)
        pending = promoted
        level += 1
    return TileAppend(changed, tree_size + len(leaf_hashes))


def edge_tile_keys(tree_size: int) -> list[TileKey]:
    """The partial tiles at the right edge of a tree of ``tree_size`` leaves."""
    keys: list[TileKey] = []
    level, count = 0, tree_size
    while count:
        tile_index, width = divmod(count, TILE_WIDTH)
        if width:
            keys.append((level, tile_index))
        count //= TILE_WIDTH
        level += 1
    return keys
