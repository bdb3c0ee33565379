"""Generate ``merkle_vectors.json``: RFC 9162 Merkle proof test vectors, valid and tampered.

Run from the repository root::

    python tests/traceability/vectors/make_merkle_vectors.py

The proofs are computed by a small, self-contained transcription of RFC 9162
section 2.1 (``MTH``, ``PATH``, ``PROOF``/``SUBPROOF`` over lists), *not* by
``traceability.merkle``, so the vectors are an independent reference for it.
Output is deterministic: leaf ``i`` is the UTF-8 bytes of ``f"leaf-{i}"``.

Every entry has ``valid``; invalid entries carry a ``tamper`` description of what
was changed from a valid proof (the style of the transparency-dev / sigstore
JSON vectors). All hashes are lowercase hex.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

SIZES = (1, 2, 3, 7, 8, 9, 255, 256, 257)
SMALL = 9  # larger sizes get fewer cases and only the LARGE_TAMPERS, to keep the file small
LARGE_TAMPERS = frozenset(
    {
        "proof[0] bit 0 flipped",
        "last proof element removed",
        "index + 1",
        "old_size + 1, roots unchanged",
        "new_size * 2, roots unchanged",
        "tree_size * 2, root unchanged",
    }
)
OUT = Path(__file__).with_name("merkle_vectors.json")


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n >= 2``)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + d[0])
    k = _split(n)
    return _sha256(b"\x01" + mth(d[:k]) + mth(d[k:]))


def path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = _split(n)
    if m < k:
        return path(m, d[:k]) + [mth(d[k:])]
    return path(m - k, d[k:]) + [mth(d[:k])]


def subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = _split(n)
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def proof(m: int, d: list[bytes]) -> list[bytes]:
    if m == 0 or m == len(d):
        return []  # outside RFC 9162's 0 < m < n; the empty proof by convention
    return subproof(m, d, True)


def _flip(h: bytes, bit: int) -> bytes:
    b = bytearray(h)
    b[bit // 8] ^= 1 << (bit % 8)
    return bytes(b)


def _hex(hs: list[bytes]) -> list[str]:
    return [h.hex() for h in hs]


def _incl(n: int, i: int, leaf: bytes, pr: list[bytes], rt: bytes, tamper: str | None) -> Any:
    e: dict[str, Any] = {
        "tree_size": n,
        "index": i,
        "leaf_hash": leaf.hex(),
        "root": rt.hex(),
        "proof": _hex(pr),
        "valid": tamper is None,
    }
    if tamper is not None:
        e["tamper"] = tamper
    return e


def _cons(
    m: int, n: int, pr: list[bytes], r1: bytes, r2: bytes, tamper: str | None
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "old_size": m,
        "new_size": n,
        "old_root": r1.hex(),
        "new_root": r2.hex(),
        "proof": _hex(pr),
        "valid": tamper is None,
    }
    if tamper is not None:
        e["tamper"] = tamper
    return e


def build() -> dict[str, Any]:
    data = [f"leaf-{i}".encode() for i in range(max(SIZES) + 1)]
    leaves = [_sha256(b"\x00" + x) for x in data]
    sizes = {0, *SIZES, *(s + 1 for s in SIZES), *(s // 2 for s in SIZES), *(s - 1 for s in SIZES)}
    roots = {n: mth(data[:n]) for n in sorted(sizes | {1})}
    inclusion: list[dict[str, Any]] = []
    consistency: list[dict[str, Any]] = []
    for n in SIZES:
        d = data[:n]
        rt = roots[n]
        picks = {0, 1, n // 2, n - 1} if n <= SMALL else {n // 2, n - 1}
        for i in sorted(picks & set(range(n))):
            inclusion.append(_incl(n, i, leaves[i], path(i, d), rt, None))
        # Tampered variants of one proof per size.
        i = n // 2
        pr = path(i, d)
        leaf = leaves[i]
        bad: list[tuple[int, int, bytes, list[bytes], bytes, str]] = []
        if pr:
            bad.append((n, i, leaf, [_flip(pr[0], 0), *pr[1:]], rt, "proof[0] bit 0 flipped"))
            last = [*pr[:-1], _flip(pr[-1], 255)]
            bad.append((n, i, leaf, last, rt, "proof[-1] bit 255 flipped"))
            bad.append((n, i, leaf, pr[:-1], rt, "last proof element removed"))
        bad.append((n, i, leaf, [*pr, rt], rt, "the root appended to the proof"))
        bad.append((n, i, leaf, [leaf, *pr], rt, "the leaf hash prepended to the proof"))
        bad.append((n, i, _flip(leaf, 100), pr, rt, "leaf_hash bit 100 flipped"))
        bad.append((n, i, leaf, pr, _flip(rt, 7), "root bit 7 flipped"))
        bad.append((n, i, leaf[:31], pr, rt, "leaf_hash truncated to 31 bytes"))
        bad.append((n, i, leaf, pr, rt + b"\x00", "root extended to 33 bytes"))
        bad.append((n, i, leaf, pr, roots[n + 1], "root of the tree of size tree_size + 1"))
        if i + 1 < n:
            bad.append((n, i + 1, leaf, pr, rt, "index + 1"))
        if i > 0:
            bad.append((n, i - 1, leaf, pr, rt, "index - 1"))
        bad.append((n, n, leaf, pr, rt, "index == tree_size"))
        bad.append((n * 2, i, leaf, pr, rt, "tree_size * 2, root unchanged"))
        bad.append((n + 1, i, leaf, pr, roots[n + 1], "tree_size + 1 with its own root"))
        bad.append((0, i, leaf, pr, rt, "tree_size 0"))
        if n > SMALL:
            bad = [b for b in bad if b[-1] in LARGE_TAMPERS]
        inclusion.extend(_incl(*b) for b in bad)

        for m in sorted({0, 1, n // 2, n - 1, n} if n <= SMALL else {n // 2, n - 1}):
            consistency.append(_cons(m, n, proof(m, d), roots[m], rt, None))
        m = n // 2
        if 0 < m < n:
            pr = proof(m, d)
            r1 = roots[m]
            cbad: list[tuple[int, int, list[bytes], bytes, bytes, str]] = [
                (m, n, [_flip(pr[0], 0), *pr[1:]], r1, rt, "proof[0] bit 0 flipped"),
                (m, n, [*pr[:-1], _flip(pr[-1], 255)], r1, rt, "proof[-1] bit 255 flipped"),
                (m, n, pr[:-1], r1, rt, "last proof element removed"),
                (m, n, [*pr, r1], r1, rt, "old_root appended to the proof"),
                (m, n, [r1, *pr], r1, rt, "old_root prepended to the proof"),
                (m, n, [], r1, rt, "empty proof"),
                (m, n, pr, rt, r1, "roots swapped"),
                (m, n, pr, _flip(r1, 1), rt, "old_root bit 1 flipped"),
                (m, n, pr, r1, _flip(rt, 254), "new_root bit 254 flipped"),
                (m, n, pr, r1, rt[:31], "new_root truncated to 31 bytes"),
                (m + 1, n, pr, r1, rt, "old_size + 1, roots unchanged"),
                (m - 1, n, pr, r1, rt, "old_size - 1, roots unchanged"),
                (m, n * 2, pr, r1, rt, "new_size * 2, roots unchanged"),
                (m, n + 1, pr, r1, roots[n + 1], "new_size + 1 with its own root"),
                (n + 1, n, pr, roots[n + 1], rt, "old_size > new_size"),
                (0, n, pr, roots[0], rt, "old_size 0 with a non-empty proof"),
                (n, n, pr, rt, rt, "old_size == new_size with a non-empty proof"),
            ]
        else:  # n == 1: only the trivial cases exist
            cbad = [
                (0, 1, [leaves[0]], roots[0], rt, "old_size 0 with a non-empty proof"),
                (0, 1, [], rt, rt, "old_size 0 with a non-empty-tree old_root"),
                (1, 1, [], rt, roots[0], "old_size == new_size with different roots"),
                (1, 1, [rt], rt, rt, "old_size == new_size with a non-empty proof"),
                (1, 0, [], rt, roots[0], "old_size > new_size"),
            ]
        if n > SMALL:
            cbad = [b for b in cbad if b[-1] in LARGE_TAMPERS]
        consistency.extend(_cons(*b) for b in cbad)

    return {
        "description": (
            "RFC 9162 section 2.1 Merkle tree test vectors (SHA-256). Leaf i is the UTF-8 "
            "bytes of f'leaf-{i}'; leaf_hash = SHA-256(0x00 || data). Proofs are bottom-up "
            "lists of hex hashes. Entries with valid=false carry a 'tamper' description. "
            "Consistency from old_size 0 or to an equal size takes the empty proof. "
            "Generated by make_merkle_vectors.py."
        ),
        "hash": "sha256",
        "roots": {str(n): roots[n].hex() for n in sorted(roots)},
        "inclusion": inclusion,
        "consistency": consistency,
    }


def render() -> str:
    """The exact text of ``merkle_vectors.json`` (one vector per line)."""
    doc = build()
    lines = ["{"]
    for key in ("description", "hash", "roots"):
        lines.append(f" {json.dumps(key)}: {json.dumps(doc[key])},")
    for key in ("inclusion", "consistency"):
        lines.append(f" {json.dumps(key)}: [")
        entries = [f"  {json.dumps(e)}" for e in doc[key]]
        lines.append(",\n".join(entries))
        lines.append(" ]," if key == "inclusion" else " ]")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    return text


def main() -> None:
    OUT.write_text(render(), encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
