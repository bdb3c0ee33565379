"""verifyInclusion / verifyLeaf on chain against traceability.merkle, with tampered proofs.

Every case, valid or tampered, is also given to the Python verifier with the root the
contract holds for that size (zero when none is anchored): both must agree.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from traceability import merkle
from traceability.chain.contracts import log_id_for
from traceability.errors import VerificationError

SEED = 9162
SMALL_LOG = log_id_for("verify.example/small")
RANDOM_LOG = log_id_for("verify.example/random")
WIDE_LOG = log_id_for("verify.example/wide")
NEVER_ANCHORED = log_id_for("verify.example/never")
UINT64_MAX = 2**64 - 1
ZERO = b"\x00" * 32


@dataclass(frozen=True)
class Case:
    label: str
    log_id: bytes
    tree_size: int
    index: int
    leaf: bytes
    """The leaf hash."""
    proof: list[bytes]


class Anchored:
    """A deployed contract with trees anchored, plus a memo of ``rootAt`` answers."""

    def __init__(self, chain) -> None:
        self.chain = chain
        self.f = chain.contract.functions
        self._roots: dict[tuple[bytes, int], bytes] = {}

    def root_at(self, log_id: bytes, tree_size: int) -> bytes:
        key = (log_id, tree_size)
        if key not in self._roots:
            in_range = 0 <= tree_size <= UINT64_MAX
            self._roots[key] = self.f.rootAt(log_id, tree_size).call() if in_range else ZERO
        return self._roots[key]

    def on_chain(self, case: Case) -> bool:
        args = (case.log_id, case.tree_size, case.index, case.leaf, case.proof)
        return bool(self.f.verifyInclusion(*args).call())

    def in_python(self, case: Case) -> bool:
        try:
            merkle.verify_inclusion(
                case.index,
                case.tree_size,
                case.leaf,
                case.proof,
                self.root_at(case.log_id, case.tree_size),
            )
        except VerificationError:
            return False
        return True

    def check(self, case: Case, expected: bool) -> None:
        on_chain, in_python = self.on_chain(case), self.in_python(case)
        assert on_chain == in_python, f"{case.label}: chain {on_chain}, python {in_python}"
        assert on_chain is expected, f"{case.label}: expected {expected}"


def tampered(case: Case, anchored_sizes: list[int], rng: random.Random) -> Iterator[Case]:
    """The tampered variants of a valid case; every one of them must fail."""

    def variant(label: str, **changes: object) -> Case:
        fields = {**case.__dict__, **changes, "label": f"{case.label} {label}"}
        return Case(**fields)  # type: ignore[arg-type]

    proof = case.proof
    if proof:
        at = rng.randrange(len(proof))
        flipped = bytearray(proof[at])
        flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
        yield variant("flipped byte", proof=[*proof[:at], bytes(flipped), *proof[at + 1 :]])
        yield variant("dropped last", proof=proof[:-1])
        yield variant("dropped first", proof=proof[1:])
        if len(proof) > 1:
            yield variant("swapped", proof=[proof[1], proof[0], *proof[2:]])
    yield variant("extra at end", proof=[*proof, rng.randbytes(32)])
    yield variant("extra at start", proof=[rng.randbytes(32), *proof])
    wrong_index = case.index ^ 1 if case.index ^ 1 < case.tree_size else case.index + 1
    yield variant("wrong index", index=wrong_index)
    yield variant("index = size", index=case.tree_size)
    other_sizes = [s for s in anchored_sizes if s != case.tree_size and s > case.index]
    if other_sizes:
        yield variant("wrong size", tree_size=rng.choice(other_sizes))
    yield variant("wrong leaf", leaf=merkle.leaf_hash(rng.randbytes(8)))
    yield variant("unanchored log", log_id=NEVER_ANCHORED)


def tree(rng: random.Random, n: int) -> tuple[list[bytes], list[bytes]]:
    data = [rng.randbytes(rng.randrange(0, 80)) for _ in range(n)]
    return data, [merkle.leaf_hash(d) for d in data]


def test_all_positions_of_small_trees(chain) -> None:
    rng = random.Random(SEED)
    data, leaves = tree(rng, 17)
    sizes = list(range(1, 18))
    for n in sizes:
        chain.anchor(SMALL_LOG, n, merkle.root(leaves[:n]))
    anchored = Anchored(chain)
    kinds: set[str] = set()
    for n in sizes:
        for i in range(n):
            proof = merkle.inclusion_proof(i, leaves[:n])
            case = Case(f"size {n} index {i}", SMALL_LOG, n, i, leaves[i], proof)
            anchored.check(case, True)
            assert anchored.f.verifyLeaf(SMALL_LOG, n, i, data[i], proof).call()
            assert not anchored.f.verifyLeaf(SMALL_LOG, n, i, data[i] + b"\x00", proof).call()
            # Five of the dozen tamperings per position keeps this test near 10 s; over
            # 153 positions every kind is still tried dozens of times.
            variants = list(tampered(case, sizes, rng))
            for bad in rng.sample(variants, min(5, len(variants))):
                anchored.check(bad, False)
                kinds.add(bad.label.split(" ", 4)[-1])
    assert len(kinds) == 11, kinds


def test_random_trees(chain) -> None:
    rng = random.Random(SEED + 1)
    data, leaves = tree(rng, 2000)
    pairs = []
    for _ in range(40):
        n = rng.randint(1, 2000)
        pairs.append((n, rng.randrange(n)))
    sizes = sorted({n for n, _ in pairs})
    for n in sizes:
        chain.anchor(RANDOM_LOG, n, merkle.root(leaves[:n]))
    anchored = Anchored(chain)
    unanchored = sorted(set(range(2, 2001)) - set(sizes))
    for n, i in pairs:
        proof = merkle.inclusion_proof(i, leaves[:n])
        case = Case(f"size {n} index {i}", RANDOM_LOG, n, i, leaves[i], proof)
        anchored.check(case, True)
        assert anchored.f.verifyLeaf(RANDOM_LOG, n, i, data[i], proof).call()
        assert not anchored.f.verifyLeaf(RANDOM_LOG, n, i, data[i][:-1] + b"?", proof).call()
        for bad in tampered(case, sizes, rng):
            anchored.check(bad, False)
        # A correct proof for a size that was never anchored.
        m = rng.choice([u for u in unanchored if u > i])
        honest = merkle.inclusion_proof(i, leaves[:m])
        anchored.check(Case(f"unanchored size {m}", RANDOM_LOG, m, i, leaves[i], honest), False)


def root_from_path(index: int, tree_size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """The root an RFC 9162 2.1.3.2 walk reaches: a tree too wide to build has this root."""
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if fn & 1 or fn == sn:
            r = merkle.node_hash(p, r)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = merkle.node_hash(r, p)
        fn >>= 1
        sn >>= 1
    assert sn == 0
    return r


def path_length(index: int, tree_size: int) -> int:
    inner = (index ^ (tree_size - 1)).bit_length()
    return inner + (index >> inner).bit_count()


@pytest.mark.parametrize(
    ("tree_size", "index"),
    [
        (2**24, 123_456),
        (2**40 + 12_345, 2**40 + 12_344),
        (2**40 + 12_345, 77),
        (UINT64_MAX, 0),
        (UINT64_MAX, UINT64_MAX - 1),
        (2**63 + 1, 2**63),
    ],
)
def test_wide_trees(chain, tree_size: int, index: int) -> None:
    """Proofs up to 64 hashes long, for trees far too wide to build."""
    rng = random.Random(tree_size ^ index)
    leaf = merkle.leaf_hash(b"event")
    path = [rng.randbytes(32) for _ in range(path_length(index, tree_size))]
    chain.anchor(WIDE_LOG, tree_size, root_from_path(index, tree_size, leaf, path))
    anchored = Anchored(chain)
    case = Case(f"wide {tree_size} index {index}", WIDE_LOG, tree_size, index, leaf, path)
    anchored.check(case, True)
    assert anchored.f.verifyLeaf(WIDE_LOG, tree_size, index, b"event", path).call()
    for bad in tampered(case, [tree_size], rng):
        anchored.check(bad, False)


def test_malformed_input_answers_false(chain) -> None:
    rng = random.Random(SEED + 2)
    _, leaves = tree(rng, 5)
    chain.anchor(SMALL_LOG, 5, merkle.root(leaves))
    anchored = Anchored(chain)
    proof = merkle.inclusion_proof(4, leaves)
    for case in [
        Case("size 0", SMALL_LOG, 0, 0, leaves[0], []),
        Case("index max", SMALL_LOG, 5, UINT64_MAX, leaves[4], proof),
        Case("size max unanchored", SMALL_LOG, UINT64_MAX, 4, leaves[4], proof),
        Case("65 hashes", SMALL_LOG, 5, 4, leaves[4], [rng.randbytes(32) for _ in range(65)]),
        Case("empty proof", SMALL_LOG, 5, 4, leaves[4], []),
        Case("the root as leaf", SMALL_LOG, 5, 0, merkle.root(leaves), []),
    ]:
        anchored.check(case, False)
    anchored.check(Case("control", SMALL_LOG, 5, 4, leaves[4], proof), True)


def test_single_leaf_tree_needs_empty_proof(chain) -> None:
    leaf = merkle.leaf_hash(b"only")
    chain.anchor(SMALL_LOG, 1, merkle.root([leaf]))
    anchored = Anchored(chain)
    anchored.check(Case("one leaf", SMALL_LOG, 1, 0, leaf, []), True)
    anchored.check(Case("one leaf, padded", SMALL_LOG, 1, 0, leaf, [leaf]), False)
    assert anchored.f.verifyLeaf(SMALL_LOG, 1, 0, b"only", []).call()
