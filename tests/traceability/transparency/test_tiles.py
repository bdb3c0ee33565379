"""The tiled tree agrees with the plain RFC 9162 library for every size and batch split."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traceability import merkle
from traceability.transparency.tiles import (
    TILE_WIDTH,
    TiledTree,
    append_leaves,
    complete_subtrees,
    consistency_ranges,
    edge_tile_keys,
    inclusion_ranges,
    tiles_for_ranges,
)


def leaves(n: int, start: int = 0) -> list[bytes]:
    return [merkle.leaf_hash(f"leaf-{i}".encode()) for i in range(start, start + n)]


def grow(batches: list[int]) -> tuple[dict[tuple[int, int], bytes], list[bytes]]:
    """Append the batches one after another, as the log does, into a dict of tiles."""
    tiles: dict[tuple[int, int], bytes] = {}
    all_leaves: list[bytes] = []
    for size in batches:
        new = leaves(size, len(all_leaves))
        edges = {k: tiles[k] for k in edge_tile_keys(len(all_leaves))}
        result = append_leaves(len(all_leaves), edges, new)
        tiles.update(result.tiles)
        all_leaves.extend(new)
        assert result.tree_size == len(all_leaves)
    return tiles, all_leaves


def test_ranges_match_the_library_for_every_small_tree() -> None:
    tiles, all_leaves = grow([300])
    tree = TiledTree(tiles)
    for n in range(1, 301):
        prefix = all_leaves[:n]
        assert tree.range_hash(0, n) == merkle.root(prefix)
        for index in range(0, n, 7):
            proof = [tree.range_hash(a, b) for a, b in inclusion_ranges(index, n)]
            assert proof == merkle.inclusion_proof(index, prefix)
        for m in range(0, n + 1, 5):
            proof = [tree.range_hash(a, b) for a, b in consistency_ranges(m, n)]
            assert proof == merkle.consistency_proof(m, prefix)


@settings(max_examples=40, deadline=None)
@given(batches=st.lists(st.integers(min_value=1, max_value=700), min_size=1, max_size=6))
def test_any_batch_split_gives_the_same_tiles_and_root(batches: list[int]) -> None:
    split_tiles, all_leaves = grow(batches)
    whole_tiles, _ = grow([len(all_leaves)])
    assert split_tiles == whole_tiles
    assert TiledTree(split_tiles).range_hash(0, len(all_leaves)) == merkle.root(all_leaves)


@settings(max_examples=30, deadline=None)
@given(data=st.data())
def test_proofs_on_a_larger_tree(data: st.DataObject) -> None:
    n = data.draw(st.integers(min_value=TILE_WIDTH**2, max_value=TILE_WIDTH**2 + 3000))
    tiles, all_leaves = _big_tree()
    tree = TiledTree(tiles)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    m = data.draw(st.integers(min_value=0, max_value=n))
    root = tree.range_hash(0, n)
    proof = [tree.range_hash(a, b) for a, b in inclusion_ranges(index, n)]
    merkle.verify_inclusion(index, n, all_leaves[index], proof, root)
    cproof = [tree.range_hash(a, b) for a, b in consistency_ranges(m, n)]
    merkle.verify_consistency(m, n, cproof, tree.range_hash(0, m), root)


_BIG: dict[str, tuple[dict[tuple[int, int], bytes], list[bytes]]] = {}


def _big_tree() -> tuple[dict[tuple[int, int], bytes], list[bytes]]:
    if "t" not in _BIG:
        _BIG["t"] = grow([TILE_WIDTH**2 + 3000])
    return _BIG["t"]


def test_level_one_entries_are_roots_of_full_leaf_tiles() -> None:
    tiles, all_leaves = grow([TILE_WIDTH * 3 + 5])
    assert len(tiles[(1, 0)]) == 3 * 32
    for i in range(3):
        expected = merkle.root(all_leaves[i * TILE_WIDTH : (i + 1) * TILE_WIDTH])
        assert tiles[(1, 0)][i * 32 : (i + 1) * 32] == expected
    assert len(tiles[(0, 3)]) == 5 * 32
    assert edge_tile_keys(TILE_WIDTH * 3 + 5) == [(0, 3), (1, 0)]


def test_proof_reads_are_logarithmic() -> None:
    # At 10**7 leaves a proof touches a few tiles per level, whatever the index.
    n = 10**7
    for index in (0, 1, 4_999_999, n - 1, 8_388_607, 8_388_608):
        needed = tiles_for_ranges([*inclusion_ranges(index, n), (0, n)])
        assert len(needed) <= 3 * 3, needed
    for m in (1, 1000, 8_388_608, n - 1):
        assert len(tiles_for_ranges([*consistency_ranges(m, n), (0, m), (0, n)])) <= 3 * 4


def test_complete_subtrees_of_a_range() -> None:
    assert [(s.height, s.index) for s in complete_subtrees(0, 7)] == [(2, 0), (1, 2), (0, 6)]
    assert complete_subtrees(5, 5) == []


def test_append_refuses_a_missing_edge_tile() -> None:
    tiles, all_leaves = grow([10])
    with pytest.raises(LookupError):
        append_leaves(len(all_leaves), {}, leaves(1))


def test_missing_tile_is_reported() -> None:
    with pytest.raises(LookupError):
        TiledTree({}).range_hash(0, 3)


def test_empty_range_is_the_empty_root() -> None:
    assert TiledTree({}).range_hash(0, 0) == hashlib.sha256(b"").digest()
