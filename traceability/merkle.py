"""Merkle trees as in RFC 9162 (Certificate Transparency v2), section 2.1.

Pure functions, no I/O, standard library only.

* ``leaf_hash`` / ``node_hash`` are the domain-separated hashes of section 2.1.1
  (``0x00`` prefix for leaves, ``0x01`` for interior nodes; SHA-256).
* ``root`` is the Merkle Tree Hash ``MTH`` over a list of *leaf hashes*
  (``leaf_hash`` already applied), so callers can store leaf hashes only.
* ``inclusion_proof`` / ``consistency_proof`` produce the ``PATH`` (2.1.3.1) and
  ``PROOF`` (2.1.4.1) lists, bottom-up, exactly as the RFC orders them.
* ``verify_inclusion`` / ``verify_consistency`` implement 2.1.3.2 and 2.1.4.2 and
  raise ``VerificationError`` for every failure, including malformed input.

Proof generators hash each leaf range at most once per call (``O(n)``), since the
subtrees they hash are disjoint.

Consistency edge cases the RFC leaves to the application:

* ``old_size == new_size``: the proof must be empty and the two roots equal.
* ``old_size == 0``: the empty tree is a prefix of every tree, so the proof must
  be empty; ``old_root`` must still be the empty-tree root ``SHA-256("")``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from traceability.errors import VerificationError

__all__ = [
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
]

HASH_SIZE = 32
"""Size in bytes of every hash in the tree (SHA-256)."""

_EMPTY_ROOT = hashlib.sha256(b"").digest()
"""``MTH({})``: the root of the empty tree, ``SHA-256`` of the empty string."""

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


def leaf_hash(data: bytes) -> bytes:
    """Return the RFC 9162 leaf hash ``SHA-256(0x00 || data)``."""
    return hashlib.sha256(_LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the RFC 9162 interior node hash ``SHA-256(0x01 || left || right)``."""
    return hashlib.sha256(_NODE_PREFIX + left + right).digest()


def largest_power_of_two_below(n: int) -> int:
    """Return the largest power of two ``k`` with ``k < n <= 2k`` (RFC 9162 split point).

    Raises ``ValueError`` when ``n < 2`` (no such ``k``).
    """
    if n < 2:
        raise ValueError(f"largest_power_of_two_below needs n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


# --------------------------------------------------------------------------- internals


def _range_root(leaves: Sequence[bytes], lo: int, hi: int) -> bytes:
    """``MTH(leaves[lo:hi])`` for a non-empty range, without copying the list."""
    n = hi - lo
    if n == 1:
        return leaves[lo]
    k = largest_power_of_two_below(n)
    return node_hash(_range_root(leaves, lo, lo + k), _range_root(leaves, lo + k, hi))


def _check_leaf_hashes(leaf_hashes: Sequence[bytes]) -> None:
    for i, h in enumerate(leaf_hashes):
        if not isinstance(h, bytes) or len(h) != HASH_SIZE:
            raise ValueError(f"leaf_hashes[{i}] is not a {HASH_SIZE}-byte hash")


def _check_int(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")


def _is_power_of_two(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _inclusion_proof_length(index: int, size: int) -> int:
    """Length of ``PATH(index, D[size])`` for ``0 <= index < size``."""
    inner = (index ^ (size - 1)).bit_length()
    border = (index >> inner).bit_count()
    return inner + border


def _consistency_proof_length(old_size: int, new_size: int) -> int:
    """Length of ``PROOF(old_size, D[new_size])`` for ``0 < old_size < new_size``."""
    shift = (old_size & -old_size).bit_length() - 1  # trailing zero bits of old_size
    inner = ((old_size - 1) ^ (new_size - 1)).bit_length() - shift
    border = ((old_size - 1) >> (inner + shift)).bit_count()
    seed = 0 if _is_power_of_two(old_size) else 1
    return seed + inner + border


def _hex(value: bytes) -> str:
    return value.hex()


def _v_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise VerificationError(f"{name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise VerificationError(f"{name} must not be negative, got {value}")
    return value


def _v_hash(value: object, name: str) -> bytes:
    if not isinstance(value, bytes):
        raise VerificationError(f"{name} must be bytes, got {type(value).__name__}")
    if len(value) != HASH_SIZE:
        raise VerificationError(f"{name} must be {HASH_SIZE} bytes, got {len(value)}")
    return value


def _v_proof(proof: object) -> list[bytes]:
    if isinstance(proof, (str, bytes, bytearray, memoryview)) or not isinstance(proof, Sequence):
        raise VerificationError(f"proof must be a sequence of hashes, got {type(proof).__name__}")
    try:
        items = list(proof)
    except Exception as exc:  # a broken Sequence implementation
        raise VerificationError(f"proof could not be read: {exc}") from exc
    return [_v_hash(p, f"proof[{i}]") for i, p in enumerate(items)]


# --------------------------------------------------------------------------- trees


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """Return the Merkle Tree Hash ``MTH`` (RFC 9162 2.1.1) over ``leaf_hashes``.

    ``leaf_hashes`` are already-hashed leaves (see ``leaf_hash``). The empty tree's
    root is ``SHA-256(b"")``. Raises ``ValueError`` if an element is not a
    ``HASH_SIZE``-byte ``bytes``.
    """
    _check_leaf_hashes(leaf_hashes)
    if len(leaf_hashes) == 0:
        return _EMPTY_ROOT
    return _range_root(leaf_hashes, 0, len(leaf_hashes))


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the audit path ``PATH(index, D[n])`` of RFC 9162 2.1.3.1, bottom-up.

    ``n = len(leaf_hashes)``. Raises ``ValueError`` unless ``0 <= index < n``
    (so also for the empty tree) or if a leaf hash is malformed, and
    ``TypeError`` if ``index`` is not an int. Runs in ``O(n)`` hashing.
    """
    _check_int(index, "index")
    n = len(leaf_hashes)
    if not 0 <= index < n:
        raise ValueError(f"index {index} out of range for a tree of size {n}")
    _check_leaf_hashes(leaf_hashes)
    siblings: list[bytes] = []  # collected top-down, returned bottom-up
    lo, hi, m = 0, n, index
    while hi - lo > 1:
        k = largest_power_of_two_below(hi - lo)
        if m < k:
            siblings.append(_range_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            siblings.append(_range_root(leaf_hashes, lo, lo + k))
            lo, m = lo + k, m - k
    siblings.reverse()
    return siblings


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """Return the consistency proof ``PROOF(m, D[n])`` of RFC 9162 2.1.4.1.

    ``m = old_size``, ``n = len(leaf_hashes)``. The RFC defines the proof for
    ``0 < m < n``; for ``m == 0`` and ``m == n`` this returns the empty list,
    which is what ``verify_consistency`` accepts for those cases. Raises
    ``ValueError`` unless ``0 <= old_size <= n`` or if a leaf hash is malformed,
    and ``TypeError`` if ``old_size`` is not an int. Runs in ``O(n)`` hashing.
    """
    _check_int(old_size, "old_size")
    n = len(leaf_hashes)
    if not 0 <= old_size <= n:
        raise ValueError(f"old_size {old_size} out of range for a tree of size {n}")
    _check_leaf_hashes(leaf_hashes)
    if old_size == 0 or old_size == n:
        return []
    # SUBPROOF(m, D[lo:hi], b), unrolled: siblings are collected top-down.
    siblings: list[bytes] = []
    lo, hi, m, complete = 0, n, old_size, True
    while m != hi - lo:
        k = largest_power_of_two_below(hi - lo)
        if m <= k:
            siblings.append(_range_root(leaf_hashes, lo + k, hi))
            hi = lo + k
        else:
            siblings.append(_range_root(leaf_hashes, lo, lo + k))
            lo, m, complete = lo + k, m - k, False
    proof = [] if complete else [_range_root(leaf_hashes, lo, hi)]
    proof.extend(reversed(siblings))
    return proof


# --------------------------------------------------------------------------- verification


def verify_inclusion(
    index: int, tree_size: int, leaf_hash: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check that ``leaf_hash`` is leaf ``index`` of the tree of ``tree_size`` with ``root``.

    Implements RFC 9162 2.1.3.2. Returns ``None`` on success and raises
    ``VerificationError`` on any failure, including malformed input (hashes that
    are not ``HASH_SIZE``-byte ``bytes``, non-int or negative numbers,
    ``index >= tree_size``, an empty tree, a proof of the wrong length). On a root
    mismatch the error carries ``expected`` (the given root) and ``computed``,
    both as hex strings.
    """
    fn = _v_int(index, "index")
    size = _v_int(tree_size, "tree_size")
    r = _v_hash(leaf_hash, "leaf_hash")
    want_root = _v_hash(root, "root")
    path = _v_proof(proof)
    if size == 0:
        raise VerificationError("no leaf is included in the empty tree")
    if fn >= size:
        raise VerificationError(f"index {fn} is not below tree_size {size}")
    want_len = _inclusion_proof_length(fn, size)
    if len(path) != want_len:
        raise VerificationError(
            f"inclusion proof has {len(path)} hashes, expected {want_len} "
            f"for index {fn} in a tree of size {size}"
        )
    sn = size - 1
    for p in path:
        if sn == 0:
            raise VerificationError("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("inclusion proof is too short")
    if r != want_root:
        raise VerificationError(
            "inclusion proof does not lead to the given root",
            expected=_hex(want_root),
            computed=_hex(r),
        )


def verify_consistency(
    old_size: int, new_size: int, proof: Sequence[bytes], old_root: bytes, new_root: bytes
) -> None:
    """Check that the tree of ``old_size`` with ``old_root`` is a prefix of ``new_root``'s.

    Implements RFC 9162 2.1.4.2 for ``0 < old_size < new_size``. Additionally:
    ``old_size == new_size`` needs an empty proof and equal roots; ``old_size == 0``
    needs an empty proof (the empty tree is a prefix of every tree) and
    ``old_root`` equal to the empty-tree root ``SHA-256(b"")``. Returns ``None`` on
    success and raises ``VerificationError`` on any failure, including malformed
    input (hashes that are not ``HASH_SIZE``-byte ``bytes``, non-int or negative
    sizes, ``old_size > new_size``, a proof of the wrong length). On a root
    mismatch the error carries ``expected`` (the given root) and ``computed``, both
    as hex strings.
    """
    m = _v_int(old_size, "old_size")
    n = _v_int(new_size, "new_size")
    first = _v_hash(old_root, "old_root")
    second = _v_hash(new_root, "new_root")
    path = _v_proof(proof)
    if m > n:
        raise VerificationError(f"old_size {m} is larger than new_size {n}")
    if m == n:
        if path:
            raise VerificationError("consistency proof between equal sizes must be empty")
        if first != second:
            raise VerificationError(
                "roots of trees of equal size differ",
                expected=_hex(first),
                computed=_hex(second),
            )
        return
    if m == 0:
        if path:
            raise VerificationError("consistency proof from the empty tree must be empty")
        if first != _EMPTY_ROOT:
            raise VerificationError(
                "old_root is not the root of the empty tree",
                expected=_hex(first),
                computed=_hex(_EMPTY_ROOT),
            )
        return
    if not path:  # RFC 9162 2.1.4.2 step 1
        raise VerificationError(f"consistency proof from size {m} to size {n} is empty")
    want_len = _consistency_proof_length(m, n)
    if len(path) != want_len:
        raise VerificationError(
            f"consistency proof has {len(path)} hashes, expected {want_len} "
            f"from size {m} to size {n}"
        )
    if _is_power_of_two(m):
        path = [first, *path]
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError("consistency proof is too short")
    if fr != first:
        raise VerificationError(
            "consistency proof does not lead to the old root",
            expected=_hex(first),
            computed=_hex(fr),
        )
    if sr != second:
        raise VerificationError(
            "consistency proof does not lead to the new root",
            expected=_hex(second),
            computed=_hex(sr),
        )
