"""Offline proofs in the C2SP tlog-proof format (``c2sp.org/tlog-proof@v1``)::

    c2sp.org/tlog-proof@v1
    extra <base64 of the event's canonical bytes>
    index <leaf index>
    <base64 inclusion proof hash, one per line, leaf's sibling first>

    <the checkpoint: the log's signed note with the witnesses' cosignatures>

The ``extra`` line carries the logged entry itself (RFC 8785 canonical JSON,
the public projection), so the file proves the event with nothing else: its
leaf hash is ``SHA-256(0x00 || extra)``. It says nothing about the chain anchor
(use the ``sunledger-proof/1`` bundle for that).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass

from traceability import merkle
from traceability.errors import Invalid, VerificationError
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.checkpoints import NoteVerifier, verify_checkpoint
from traceability.verify.bundle import BundleVerdict, CheckResult, check_witnesses
from traceability.witnessing.policy import WitnessPolicy

HEADER = "c2sp.org/tlog-proof@v1"
MAX_PROOF_HASHES = 64


@dataclass(frozen=True)
class TlogProof:
    extra: bytes | None
    index: int
    hashes: tuple[bytes, ...]
    checkpoint: str


def encode(proof: TlogProof) -> str:
    lines = [HEADER]
    if proof.extra is not None:
        lines.append("extra " + base64.b64encode(proof.extra).decode("ascii"))
    lines.append(f"index {proof.index}")
    lines += [base64.b64encode(h).decode("ascii") for h in proof.hashes]
    return "\n".join(lines) + "\n\n" + proof.checkpoint


def _b64(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"{what} is not base64") from None
    if base64.b64encode(raw).decode("ascii") != text:
        raise Invalid(f"{what} is not canonical base64")
    return raw


def parse(text: str) -> TlogProof:
    """Parse strictly; :class:`Invalid` names the line that is wrong."""
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise Invalid("tlog-proof: no empty line before the checkpoint")
    lines = head.split("\n")
    if lines[0] != HEADER:
        raise Invalid(f"tlog-proof: the first line must be {HEADER}")
    rest = lines[1:]
    extra = None
    if rest and rest[0].startswith("extra "):
        extra = _b64(rest[0][len("extra ") :], "tlog-proof extra line")
        rest = rest[1:]
    if not rest or not rest[0].startswith("index "):
        raise Invalid("tlog-proof: missing the 'index N' line")
    index_text = rest[0][len("index ") :]
    if (
        not index_text.isascii()
        or not index_text.isdigit()
        or (index_text != "0" and index_text.startswith("0"))
    ):
        raise Invalid(f"tlog-proof: index {index_text!r} is not a canonical decimal")
    hashes = tuple(_b64(line, f"tlog-proof hash line {n}") for n, line in enumerate(rest[1:], 1))
    if len(hashes) > MAX_PROOF_HASHES or any(len(h) != merkle.HASH_SIZE for h in hashes):
        raise Invalid("tlog-proof: the inclusion proof is not a list of at most 64 SHA-256 hashes")
    return TlogProof(extra, int(index_text), hashes, checkpoint)


def verify(
    text: str, verifier: NoteVerifier, witnesses: WitnessPolicy | None = None
) -> BundleVerdict:
    """Check a tlog-proof: format, the entry in ``extra``, the log's signature, the pinned
    witnesses' cosignatures (when a policy is given) and the inclusion proof."""
    verdict = BundleVerdict()

    def check(name: str, ok: bool, detail: str) -> bool:
        verdict.checks.append(CheckResult(name, ok, detail))
        return ok

    try:
        proof = parse(text)
    except Invalid as exc:
        check("bundle_format", False, exc.detail)
        return verdict
    if proof.extra is None:
        check("bundle_format", False, "no extra line: this proof does not carry the event")
        return verdict
    try:
        event = json.loads(proof.extra)
        canonical = canonical_bytes(event) == proof.extra
    except (ValueError, TypeError):
        canonical = False
    if not check(
        "bundle_format",
        canonical,
        f"{HEADER}, index {proof.index}"
        if canonical
        else "the extra line is not an event's canonical JSON",
    ):
        return verdict
    leaf = merkle.leaf_hash(proof.extra)
    check("leaf_hash", True, f"SHA-256(0x00 || extra) = {leaf.hex()}")
    try:
        checkpoint = verify_checkpoint(proof.checkpoint, verifier)
    except VerificationError as exc:
        check("checkpoint_signature", False, exc.detail)
        return verdict
    check(
        "checkpoint_signature",
        True,
        f"signed by {verifier.name} for {checkpoint.origin} at size {checkpoint.tree_size}",
    )
    if witnesses is not None and not check_witnesses(verdict, proof.checkpoint, witnesses):
        return verdict
    try:
        merkle.verify_inclusion(
            proof.index, checkpoint.tree_size, leaf, proof.hashes, checkpoint.root_hash
        )
    except VerificationError as exc:
        check("inclusion_proof", False, exc.detail)
        return verdict
    check("inclusion_proof", True, f"leaf {proof.index} is in the tree of {checkpoint.tree_size}")
    return verdict
