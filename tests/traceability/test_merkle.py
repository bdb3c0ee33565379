"""Tests of ``traceability.merkle`` (RFC 9162 section 2.1 Merkle trees).

The reference below (``naive_mth``, ``naive_path``, ``naive_proof``) is a literal
transcription of the RFC's recursive definitions over lists of entries; the
library works on leaf hashes, so it gets ``SHA-256(0x00 || entry)`` of each.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.util
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traceability import merkle
from traceability.errors import VerificationError as ErrorsVerificationError
from traceability.merkle import (
    HASH_SIZE,
    VerificationError,
    consistency_proof,
    inclusion_proof,
    largest_power_of_two_below,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

VECTORS_DIR = Path(__file__).parent / "vectors"

# --------------------------------------------------------------------------- RFC reference


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


@functools.cache
def naive_mth(d: tuple[bytes, ...]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1 (memoised only to keep the exhaustive loops fast)."""
    n = len(d)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + d[0])
    k = _k(n)
    return _sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: tuple[bytes, ...], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = _k(n)
    if m <= k:
        return naive_subproof(m, d[:k], b) + [naive_mth(d[k:])]
    return naive_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


def naive_proof(m: int, d: tuple[bytes, ...]) -> list[bytes]:
    """PROOF(m, D[n]) for 0 < m < n; the empty proof for m == 0 and m == n."""
    if m == 0 or m == len(d):
        return []
    return naive_subproof(m, d, True)


MAX_N = 5000
DATA: tuple[bytes, ...] = tuple(f"leaf-{i}".encode() for i in range(MAX_N + 1))
LEAVES: list[bytes] = [_sha256(b"\x00" + x) for x in DATA]
ROOTS: dict[int, bytes] = {n: naive_mth(DATA[:n]) for n in range(0, 2 * 300 + 3)}


def _root(n: int) -> bytes:
    if n not in ROOTS:
        ROOTS[n] = naive_mth(DATA[:n])
    return ROOTS[n]


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _bits(n: int) -> range:
    """Which bits of a hash to flip for tree size n: all for tiny trees, one per byte else."""
    return range(0, 256) if n <= 8 else range(0, 256, 9)


SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")

# --------------------------------------------------------------------------- basics


def test_public_names() -> None:
    assert set(merkle.__all__) == {
        "HASH_SIZE",
        "VerificationError",
        "leaf_hash",
        "node_hash",
        "root",
        "inclusion_proof",
        "consistency_proof",
        "verify_inclusion",
        "verify_consistency",
        "largest_power_of_two_below",
    }
    assert VerificationError is ErrorsVerificationError
    assert HASH_SIZE == 32
    for name in merkle.__all__:
        obj = getattr(merkle, name)
        if callable(obj) and name != "VerificationError":
            assert obj.__doc__, name


def test_leaf_and_node_hash() -> None:
    assert leaf_hash(b"") == _sha256(b"\x00")
    assert leaf_hash(b"abc") == _sha256(b"\x00abc")
    assert node_hash(b"L" * 32, b"R" * 32) == _sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert all(leaf_hash(DATA[i]) == LEAVES[i] for i in range(50))
    # Domain separation: a leaf is never hashed like a node.
    assert leaf_hash(b"L" * 32 + b"R" * 32) != node_hash(b"L" * 32, b"R" * 32)


def test_empty_root() -> None:
    want = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert root([]).hex() == want
    assert root(()).hex() == want


def test_largest_power_of_two_below() -> None:
    for n in range(2, 5000):
        k = largest_power_of_two_below(n)
        assert k & (k - 1) == 0
        assert k < n <= 2 * k
    assert largest_power_of_two_below(2**64 + 1) == 2**64
    for bad in (1, 0, -1):
        with pytest.raises(ValueError):
            largest_power_of_two_below(bad)


def test_root_rejects_malformed_leaf_hashes() -> None:
    for bad in (b"x" * 31, b"x" * 33, "x" * 32, bytearray(32)):
        with pytest.raises(ValueError):
            root([LEAVES[0], bad])  # type: ignore[list-item]


def test_generators_reject_out_of_range() -> None:
    leaves = LEAVES[:5]
    for index in (-1, 5, 6, 100):
        with pytest.raises(ValueError):
            inclusion_proof(index, leaves)
    with pytest.raises(ValueError):
        inclusion_proof(0, [])
    for old_size in (-1, 6, 100):
        with pytest.raises(ValueError):
            consistency_proof(old_size, leaves)
    with pytest.raises(ValueError):
        consistency_proof(1, [])
    with pytest.raises(ValueError):
        inclusion_proof(0, [b"short"])
    with pytest.raises(TypeError):
        inclusion_proof("0", leaves)  # type: ignore[arg-type]
    assert consistency_proof(0, []) == []
    assert consistency_proof(0, leaves) == []
    assert consistency_proof(5, leaves) == []


def _count_node_hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]
    real = merkle.node_hash

    def counting(left: bytes, right: bytes) -> bytes:
        calls[0] += 1
        return real(left, right)

    monkeypatch.setattr(merkle, "node_hash", counting)
    return calls


def test_generators_hash_each_node_at_most_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _count_node_hashes(monkeypatch)
    n = 3001
    leaves = LEAVES[:n]
    for i in (0, 1, 1500, 2047, 2048, n - 1):
        calls[0] = 0
        inclusion_proof(i, leaves)
        assert calls[0] <= n - 1
    for m in (1, 2, 1000, 2048, 2049, n - 1):
        calls[0] = 0
        consistency_proof(m, leaves)
        assert calls[0] <= n - 1
    calls[0] = 0
    root(leaves)
    assert calls[0] == n - 1


# --------------------------------------------------------------------------- known answers

# Certificate Transparency reference data (RFC 6962 test vectors as used by
# google/certificate-transparency and transparency-dev/merkle).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    bytes.fromhex(h)
    for h in (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    )
]
# (index, tree_size, proof) and (old_size, new_size, proof), from
# transparency-dev/merkle proof/verify_test.go (which numbers leaves from 1).
CT_INCLUSION = [
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
CT_CONSISTENCY = [
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
    (
        6,
        7,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
]
CT_LEAF_HASHES = [leaf_hash(x) for x in CT_LEAVES]


@pytest.mark.parametrize("size", range(1, 9))
def test_ct_known_roots(size: int) -> None:
    assert root(CT_LEAF_HASHES[:size]) == CT_ROOTS[size - 1]
    assert naive_mth(tuple(CT_LEAVES[:size])) == CT_ROOTS[size - 1]


@pytest.mark.parametrize(("index", "size", "proof_hex"), CT_INCLUSION)
def test_ct_known_inclusion_proofs(index: int, size: int, proof_hex: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in proof_hex]
    assert inclusion_proof(index, CT_LEAF_HASHES[:size]) == proof
    verify_inclusion(index, size, CT_LEAF_HASHES[index], proof, CT_ROOTS[size - 1])


@pytest.mark.parametrize(("old", "new", "proof_hex"), CT_CONSISTENCY)
def test_ct_known_consistency_proofs(old: int, new: int, proof_hex: list[str]) -> None:
    proof = [bytes.fromhex(h) for h in proof_hex]
    assert consistency_proof(old, CT_LEAF_HASHES[:new]) == proof
    verify_consistency(old, new, proof, CT_ROOTS[old - 1], CT_ROOTS[new - 1])


# --------------------------------------------------------------------------- against the RFC text

EXHAUSTIVE_N = 300  # verifiers: every (index, size) and (old, new) up to this size
GENERATOR_N = 128  # generators compared on every argument up to this size, sampled above


def _sample(n: int) -> set[int]:
    return {x for x in (0, 1, 2, n // 3, n // 2, n - 2, n - 1) if 0 <= x < n}


def test_root_matches_rfc_for_every_size() -> None:
    for n in range(0, EXHAUSTIVE_N + 1):
        assert root(LEAVES[:n]) == ROOTS[n]


def test_inclusion_every_index_every_size() -> None:
    for n in range(1, EXHAUSTIVE_N + 1):
        d = DATA[:n]
        leaves = LEAVES[:n]
        for i in range(n):
            want = naive_path(i, d)
            verify_inclusion(i, n, LEAVES[i], want, ROOTS[n])
            if n <= GENERATOR_N or i in _sample(n):
                assert inclusion_proof(i, leaves) == want, (i, n)


def test_consistency_every_old_size_every_size() -> None:
    for n in range(1, EXHAUSTIVE_N + 1):
        d = DATA[:n]
        leaves = LEAVES[:n]
        for m in range(0, n + 1):
            want = naive_proof(m, d)
            verify_consistency(m, n, want, ROOTS[m], ROOTS[n])
            if n <= GENERATOR_N or m in _sample(n) or m == n:
                assert consistency_proof(m, leaves) == want, (m, n)
    verify_consistency(0, 0, [], ROOTS[0], ROOTS[0])
    assert consistency_proof(0, []) == []


@st.composite
def _size_and_index(draw: st.DrawFn, low: int = EXHAUSTIVE_N + 1) -> tuple[int, int]:
    n = draw(st.integers(low, MAX_N))
    return n, draw(st.integers(0, n - 1))


@settings(max_examples=40, deadline=None)
@given(_size_and_index())
def test_inclusion_large_random(case: tuple[int, int]) -> None:
    n, i = case
    want = naive_path(i, DATA[:n])
    assert inclusion_proof(i, LEAVES[:n]) == want
    r = _root(n)
    assert root(LEAVES[:n]) == r
    verify_inclusion(i, n, LEAVES[i], want, r)
    with pytest.raises(VerificationError):
        verify_inclusion(i, n, LEAVES[i ^ 1] if i ^ 1 < n else SOME_HASH, want, r)


@settings(max_examples=40, deadline=None)
@given(_size_and_index())
def test_consistency_large_random(case: tuple[int, int]) -> None:
    n, m = case
    m += 1  # 1 <= m <= n
    want = naive_proof(m, DATA[:n])
    assert consistency_proof(m, LEAVES[:n]) == want
    verify_consistency(m, n, want, _root(m), _root(n))
    if m < n:
        with pytest.raises(VerificationError):
            verify_consistency(m, n, want, _root(m - 1), _root(n))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_tampering_large_random(data: st.DataObject) -> None:
    n = data.draw(st.integers(2, MAX_N))
    i = data.draw(st.integers(0, n - 1))
    proof = inclusion_proof(i, LEAVES[:n])
    j = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    bad = [*proof[:j], _flip(proof[j], bit), *proof[j + 1 :]]
    with pytest.raises(VerificationError):
        verify_inclusion(i, n, LEAVES[i], bad, _root(n))
    m = data.draw(st.integers(1, n - 1))
    cproof = consistency_proof(m, LEAVES[:n])
    j = data.draw(st.integers(0, len(cproof) - 1))
    bad = [*cproof[:j], _flip(cproof[j], bit), *cproof[j + 1 :]]
    with pytest.raises(VerificationError):
        verify_consistency(m, n, bad, _root(m), _root(n))


# --------------------------------------------------------------------------- tampering

TAMPER_N = 24


def _proof_variants(proof: list[bytes], extras: Sequence[bytes], n: int) -> Iterator[list[bytes]]:
    """Every single-element change: bit flips, removals, insertions."""
    for j, p in enumerate(proof):
        for bit in _bits(n):
            yield [*proof[:j], _flip(p, bit), *proof[j + 1 :]]
        yield proof[:j] + proof[j + 1 :]
    for j in range(len(proof) + 1):
        for extra in extras:
            yield [*proof[:j], extra, *proof[j:]]


def _bad_incl(*args: Any) -> None:
    with pytest.raises(VerificationError):
        verify_inclusion(*args)


def _bad_cons(*args: Any) -> None:
    with pytest.raises(VerificationError):
        verify_consistency(*args)


def test_inclusion_tampering_exhaustive() -> None:
    for n in range(1, TAMPER_N + 1):
        r = ROOTS[n]
        for i in range(n):
            proof = inclusion_proof(i, LEAVES[:n])
            leaf = LEAVES[i]
            verify_inclusion(i, n, leaf, proof, r)
            for bad in _proof_variants(proof, (leaf, r, SOME_HASH, bytes(32)), n):
                _bad_incl(i, n, leaf, bad, r)
            for bit in _bits(n):
                _bad_incl(i, n, _flip(leaf, bit), proof, r)
                _bad_incl(i, n, leaf, proof, _flip(r, bit))
            # Any other index in the same tree.
            for i2 in range(n + 3):
                if i2 != i:
                    _bad_incl(i2, n, leaf, proof, r)
            # Any other tree size, with that tree's own root.
            for n2 in range(0, 2 * n + 2):
                if n2 != n:
                    _bad_incl(i, n2, leaf, proof, ROOTS[n2])
            # A wrong height with the original root (the transparency-dev probes).
            for n2 in (n * 2, n // 2):
                _bad_incl(i, n2, leaf, proof, r)
            # Other roots.
            for r2 in (ROOTS[0], SOME_HASH, ROOTS[n + 1], ROOTS[n - 1]):
                _bad_incl(i, n, leaf, proof, r2)


def test_consistency_tampering_exhaustive() -> None:
    for n in range(2, TAMPER_N + 1):
        r2 = ROOTS[n]
        for m in range(1, n):
            r1 = ROOTS[m]
            proof = consistency_proof(m, LEAVES[:n])
            verify_consistency(m, n, proof, r1, r2)
            for bad in _proof_variants(proof, (r1, r2, SOME_HASH, bytes(32)), n):
                _bad_cons(m, n, bad, r1, r2)
            _bad_cons(m, n, [], r1, r2)
            _bad_cons(m, n, proof, r2, r1)
            for bit in _bits(n):
                _bad_cons(m, n, proof, _flip(r1, bit), r2)
                _bad_cons(m, n, proof, r1, _flip(r2, bit))
            # Any other old size against the same new tree, with the same or its own root.
            for m2 in range(0, n + 3):
                if m2 != m:
                    _bad_cons(m2, n, proof, r1, r2)
                    _bad_cons(m2, n, proof, _root(m2), r2)
            # Any other new size, with that tree's own root.
            for n2 in range(0, 2 * n + 2):
                if n2 != n:
                    _bad_cons(m, n2, proof, r1, ROOTS[n2])
            # transparency-dev probes with the original roots.
            for m2, n2 in ((m - 1, n), (m + 1, n), (m ^ 2, n), (m, n * 2), (m, n // 2)):
                _bad_cons(m2, n2, proof, r1, r2)
            for other in (ROOTS[0], SOME_HASH, ROOTS[m - 1], ROOTS[m + 1], ROOTS[n + 1]):
                if other != r1:
                    _bad_cons(m, n, proof, other, r2)
                if other != r2:
                    _bad_cons(m, n, proof, r1, other)


def test_tree_size_is_bound_only_through_the_root() -> None:
    """A property of RFC 9162 verification, pinned here so nobody "fixes" it.

    The verifiers see hashes, not trees: the proof [h0] for leaf 1 of the size-2
    tree also "proves" leaf 2 of a size-3 tree *whose root is the size-2 root*.
    Callers must take (tree_size, root) together from a signed tree head; with the
    real size-3 root the proof fails (tested exhaustively above).
    """
    proof = inclusion_proof(1, LEAVES[:2])
    verify_inclusion(1, 2, LEAVES[1], proof, ROOTS[2])
    verify_inclusion(2, 3, LEAVES[1], proof, ROOTS[2])
    _bad_incl(2, 3, LEAVES[1], proof, ROOTS[3])


# --------------------------------------------------------------------------- malformed input

GOOD_I = (2, 5, LEAVES[2], inclusion_proof(2, LEAVES[:5]), ROOTS[5])
GOOD_C = (3, 7, consistency_proof(3, LEAVES[:7]), ROOTS[3], ROOTS[7])

BAD_HASHES: list[Any] = [
    b"",
    b"x" * 31,
    b"x" * 33,
    "x" * 32,
    "ab" * 32,
    bytearray(32),
    memoryview(bytes(32)),
    None,
    0,
    [0] * 32,
]
BAD_INTS: list[Any] = [-1, -(2**70), 1.0, "1", None, True, b"1"]
BAD_PROOFS: list[Any] = [None, 7, "ab" * 32, bytes(32), bytes(64), {"a": 1}]


def test_malformed_inputs_are_valid_baselines() -> None:
    verify_inclusion(*GOOD_I)
    verify_consistency(*GOOD_C)


@pytest.mark.parametrize("bad", BAD_HASHES, ids=repr)
@pytest.mark.parametrize("position", ["leaf_hash", "root", "proof0", "proof_last", "proof_extra"])
def test_inclusion_malformed_hashes(bad: Any, position: str) -> None:
    index, size, leaf, proof, r = GOOD_I
    if position == "leaf_hash":
        leaf = bad
    elif position == "root":
        r = bad
    elif position == "proof0":
        proof = [bad, *proof[1:]]
    elif position == "proof_last":
        proof = [*proof[:-1], bad]
    else:
        proof = [*proof, bad]
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, leaf, proof, r)


@pytest.mark.parametrize("bad", BAD_HASHES, ids=repr)
@pytest.mark.parametrize("position", ["old_root", "new_root", "proof0", "proof_last"])
def test_consistency_malformed_hashes(bad: Any, position: str) -> None:
    old, new, proof, r1, r2 = GOOD_C
    if position == "old_root":
        r1 = bad
    elif position == "new_root":
        r2 = bad
    elif position == "proof0":
        proof = [bad, *proof[1:]]
    else:
        proof = [*proof[:-1], bad]
    with pytest.raises(VerificationError):
        verify_consistency(old, new, proof, r1, r2)


@pytest.mark.parametrize("bad", BAD_HASHES, ids=repr)
def test_trivial_consistency_malformed_hashes(bad: Any) -> None:
    """The shortcut cases (old == new, old == 0) validate hashes too."""
    cases: list[tuple[Any, ...]] = [
        (5, 5, [], bad, ROOTS[5]),
        (5, 5, [], ROOTS[5], bad),
        (0, 5, [], bad, ROOTS[5]),
        (0, 5, [], ROOTS[0], bad),
        (0, 0, [], bad, bad),
        (5, 5, [bad], ROOTS[5], ROOTS[5]),
        (0, 5, [bad], ROOTS[0], ROOTS[5]),
    ]
    for args in cases:
        _bad_cons(*args)


@pytest.mark.parametrize("bad", BAD_INTS, ids=repr)
def test_malformed_numbers(bad: Any) -> None:
    index, size, leaf, proof, r = GOOD_I
    with pytest.raises(VerificationError):
        verify_inclusion(bad, size, leaf, proof, r)
    with pytest.raises(VerificationError):
        verify_inclusion(index, bad, leaf, proof, r)
    old, new, cproof, r1, r2 = GOOD_C
    with pytest.raises(VerificationError):
        verify_consistency(bad, new, cproof, r1, r2)
    with pytest.raises(VerificationError):
        verify_consistency(old, bad, cproof, r1, r2)


@pytest.mark.parametrize("bad", BAD_PROOFS, ids=repr)
def test_malformed_proof_containers(bad: Any) -> None:
    index, size, leaf, _, r = GOOD_I
    with pytest.raises(VerificationError):
        verify_inclusion(index, size, leaf, bad, r)
    old, new, _, r1, r2 = GOOD_C
    with pytest.raises(VerificationError):
        verify_consistency(old, new, bad, r1, r2)


def test_inclusion_out_of_range() -> None:
    leaf = LEAVES[0]
    for index, size, r in (
        (0, 0, ROOTS[0]),
        (0, 0, leaf),
        (1, 1, leaf),
        (5, 5, ROOTS[5]),
        (6, 5, ROOTS[5]),
        (2**64, 5, ROOTS[5]),
        (-1, 5, ROOTS[5]),
        (0, -1, ROOTS[5]),
    ):
        with pytest.raises(VerificationError):
            verify_inclusion(index, size, leaf, [], r)
    # The tuple form of the proof and the single-leaf tree.
    verify_inclusion(0, 1, leaf, (), leaf)
    verify_inclusion(2, 5, LEAVES[2], tuple(inclusion_proof(2, LEAVES[:5])), ROOTS[5])


def test_consistency_edge_cases() -> None:
    # old == new: empty proof and equal roots.
    for n in (1, 2, 7, 8):
        verify_consistency(n, n, [], ROOTS[n], ROOTS[n])
        _bad_cons(n, n, [], ROOTS[n], ROOTS[n - 1])
        _bad_cons(n, n, [ROOTS[n]], ROOTS[n], ROOTS[n])
    verify_consistency(0, 0, [], ROOTS[0], ROOTS[0])
    _bad_cons(0, 0, [], ROOTS[0], ROOTS[1])
    # old == 0: empty proof, and the old root must be the empty-tree root.
    for n in (1, 2, 7, 8):
        verify_consistency(0, n, [], ROOTS[0], ROOTS[n])
        _bad_cons(0, n, [ROOTS[0]], ROOTS[0], ROOTS[n])
        _bad_cons(0, n, [], ROOTS[1], ROOTS[n])
    # old > new.
    _bad_cons(2, 1, [], ROOTS[2], ROOTS[1])
    _bad_cons(8, 7, GOOD_C[2], ROOTS[8], ROOTS[7])
    _bad_cons(1, 0, [], ROOTS[1], ROOTS[0])
    # 0 < old < new needs a proof.
    _bad_cons(1, 2, [], ROOTS[1], ROOTS[2])


def test_mismatch_reports_expected_and_computed() -> None:
    index, size, leaf, proof, r = GOOD_I
    with pytest.raises(VerificationError) as exc:
        verify_inclusion(index, size, leaf, proof, SOME_HASH)
    assert exc.value.expected == SOME_HASH.hex()
    assert exc.value.computed == r.hex()
    old, new, cproof, r1, r2 = GOOD_C
    with pytest.raises(VerificationError) as exc:
        verify_consistency(old, new, cproof, r1, SOME_HASH)
    assert exc.value.expected == SOME_HASH.hex()
    assert exc.value.computed == r2.hex()
    with pytest.raises(VerificationError) as exc:
        verify_consistency(old, new, cproof, SOME_HASH, r2)
    assert exc.value.expected == SOME_HASH.hex()
    assert exc.value.computed == r1.hex()
    with pytest.raises(VerificationError) as exc:
        verify_consistency(4, 4, [], r1, r2)
    assert (exc.value.expected, exc.value.computed) == (r1.hex(), r2.hex())


# --------------------------------------------------------------------------- JSON vectors


def _load_vector_script() -> Any:
    spec = importlib.util.spec_from_file_location(
        "make_merkle_vectors", VECTORS_DIR / "make_merkle_vectors.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VECTORS: dict[str, Any] = json.loads((VECTORS_DIR / "merkle_vectors.json").read_text("utf-8"))


def test_vector_file_is_up_to_date() -> None:
    text = (VECTORS_DIR / "merkle_vectors.json").read_text("utf-8")
    assert text == _load_vector_script().render(), "rerun make_merkle_vectors.py"
    assert any(not e["valid"] for e in VECTORS["inclusion"])
    assert any(not e["valid"] for e in VECTORS["consistency"])
    assert all(e["valid"] or e["tamper"] for e in VECTORS["inclusion"] + VECTORS["consistency"])


def test_vector_roots() -> None:
    for size, r in VECTORS["roots"].items():
        assert root(LEAVES[: int(size)]).hex() == r


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [
        f"{e.get('tree_size', e.get('old_size'))}-{e.get('index', e.get('new_size'))}-"
        f"{e.get('tamper', 'valid')}"
        for e in entries
    ]


@pytest.mark.parametrize("vec", VECTORS["inclusion"], ids=_ids(VECTORS["inclusion"]))
def test_inclusion_vectors(vec: dict[str, Any]) -> None:
    args = (
        vec["index"],
        vec["tree_size"],
        bytes.fromhex(vec["leaf_hash"]),
        [bytes.fromhex(p) for p in vec["proof"]],
        bytes.fromhex(vec["root"]),
    )
    if vec["valid"]:
        verify_inclusion(*args)
        assert inclusion_proof(vec["index"], LEAVES[: vec["tree_size"]]) == args[3]
    else:
        with pytest.raises(VerificationError):
            verify_inclusion(*args)


@pytest.mark.parametrize("vec", VECTORS["consistency"], ids=_ids(VECTORS["consistency"]))
def test_consistency_vectors(vec: dict[str, Any]) -> None:
    args = (
        vec["old_size"],
        vec["new_size"],
        [bytes.fromhex(p) for p in vec["proof"]],
        bytes.fromhex(vec["old_root"]),
        bytes.fromhex(vec["new_root"]),
    )
    if vec["valid"]:
        verify_consistency(*args)
        assert consistency_proof(vec["old_size"], LEAVES[: vec["new_size"]]) == args[2]
    else:
        with pytest.raises(VerificationError):
            verify_consistency(*args)
