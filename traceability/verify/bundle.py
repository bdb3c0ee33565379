"""Verifying a proof bundle with nothing but pinned trust roots and a chain reader.

This module never touches our database, web layer or the network: it is what an
auditor runs, and it reads the chain only through the :class:`AnchorReader` it is
given. Each check has a name and an exit code, so a failure says which one.

The verifier pins its trust roots: the log's key, the chain id and the anchor
contract come from the caller (``--public-key``/``--chain-id``/``--contract`` or
a trust file), never from the bundle. The root is read from the pinned contract
and the anchor transaction must be a call of the pinned contract's
``anchor(logId, treeSize, rootHash)`` for the bundle's log, size and root.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from traceability import merkle
from traceability.errors import VerificationError
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.checkpoints import Checkpoint, NoteVerifier, verify_checkpoint
from traceability.verify.anchors import AnchorReader, AnchorTransaction, ChainLog, RpcError
from traceability.verify.trust import ChainPin
from traceability.witnessing.policy import WitnessPolicy, check_cosignatures

BUNDLE_FORMAT = "sunledger-proof/1"
ANCHOR_SELECTOR = keccak(text="anchor(bytes32,uint64,bytes32)")[:4]
ANCHORED_TOPIC = keccak(text="CheckpointAnchored(bytes32,uint64,bytes32,address)")

# Check name -> exit code. 0 is success, 1 and 2 are usage errors.
# The checks in the order they run (the browser's verify.js lists the same), with the
# exit code of each.
CHECKS: dict[str, int] = {
    "bundle_format": 3,
    "leaf_hash": 4,
    "checkpoint_signature": 5,
    "cosignatures": 15,
    "checkpoint_matches_proof": 6,
    "inclusion_proof": 7,
    "anchor_present": 8,
    "anchor_log_id": 9,
    "anchor_pinned": 14,
    "chain_id": 10,
    "chain_root": 11,
    "anchor_transaction": 12,
}
CHAIN_UNREACHABLE = 13


@dataclass
class CheckResult:
    """One check of a verdict: its name (a key of ``CHECKS``), outcome and what was compared."""

    name: str
    ok: bool
    detail: str


@dataclass
class BundleVerdict:
    """The checks that ran, in order (the first failure ends the run), and why the chain
    could not be read when it could not."""

    checks: list[CheckResult] = field(default_factory=list)
    unreachable: str | None = None

    @property
    def ok(self) -> bool:
        return self.unreachable is None and all(c.ok for c in self.checks)

    @property
    def exit_code(self) -> int:
        if self.unreachable is not None:
            return CHAIN_UNREACHABLE
        for check in self.checks:
            if not check.ok:
                return CHECKS[check.name]
        return 0

    @property
    def failed(self) -> CheckResult | None:
        return next((c for c in self.checks if not c.ok), None)


def _unhex(value: str, size: int | None = None) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value)
    if size is not None and len(raw) != size:
        raise ValueError(f"expected {size} bytes, got {len(raw)}")
    return raw


def anchor_call(log_id: bytes, tree_size: int, root_hash: bytes) -> str:
    """Calldata of ``anchor(logId, treeSize, rootHash)``."""
    args = encode(["bytes32", "uint64", "bytes32"], [log_id, tree_size, root_hash])
    return "0x" + (ANCHOR_SELECTOR + args).hex()


def _same_address(a: object, b: str) -> bool:
    return isinstance(a, str) and a.lower() == b.lower()


def _anchored_log(
    logs: tuple[ChainLog, ...], pin: ChainPin, log_id: bytes, size: int
) -> bytes | None:
    """The root of the pinned contract's ``CheckpointAnchored(logId, size)`` in ``logs``."""
    for entry in logs:
        if not _same_address(entry.address, pin.contract):
            continue
        topics = entry.topics
        if len(topics) < 3 or topics[0] != ANCHORED_TOPIC or topics[1] != log_id:
            continue
        if int.from_bytes(topics[2], "big") != size:
            continue
        return entry.data[:32] if len(entry.data) >= 32 else None
    return None


def check_witnesses(verdict: BundleVerdict, note: str, witnesses: WitnessPolicy) -> bool:
    """Add the ``cosignatures`` check to ``verdict``; True when the policy is met."""
    try:
        found = check_cosignatures(note, witnesses)
    except VerificationError as exc:
        verdict.checks.append(CheckResult("cosignatures", False, exc.detail))
        return False
    verdict.checks.append(CheckResult("cosignatures", found.met, found.summary()))
    return found.met


def verify_bundle(
    bundle: Any,
    verifier: NoteVerifier,
    chain: AnchorReader | None,
    *,
    pin: ChainPin,
    origin: str | None = None,
    witnesses: WitnessPolicy | None = None,
) -> BundleVerdict:
    """Run every check in order and stop at the first failure.

    ``verifier`` and ``pin`` (chain id and anchor contract) are the caller's trust
    roots; the bundle's own ``log``, ``anchor.contract`` and ``anchor.chain_id`` are
    only claims, checked against them. ``origin``, when given, must be the
    checkpoint's origin. ``chain`` reads the pinned chain; with None the chain
    checks are not run (and the verdict says so). With ``witnesses`` the
    checkpoint's cosignatures must meet that policy.
    """
    verdict = BundleVerdict()

    def check(name: str, ok: bool, detail: str) -> bool:
        verdict.checks.append(CheckResult(name, ok, detail))
        return ok

    try:
        if not isinstance(bundle, dict) or bundle.get("format") != BUNDLE_FORMAT:
            found = bundle.get("format") if isinstance(bundle, dict) else type(bundle).__name__
            check("bundle_format", False, f"expected format {BUNDLE_FORMAT}, found {found!r}")
            return verdict
        event = bundle["event"]
        leaf_index = int(bundle["leaf_index"])
        claimed_leaf = _unhex(bundle["leaf_hash"], 32)
        inclusion = bundle["inclusion"]
        tree_size = int(inclusion["tree_size"])
        root = _unhex(inclusion["root_hash"], 32)
        hashes = [_unhex(h, 32) for h in inclusion["hashes"]]
        note = str(bundle["checkpoint"])
        anchor = bundle.get("anchor")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        check("bundle_format", False, f"malformed bundle: {exc!r}")
        return verdict
    check("bundle_format", True, BUNDLE_FORMAT)

    computed_leaf = merkle.leaf_hash(canonical_bytes(event))
    if not check(
        "leaf_hash",
        computed_leaf == claimed_leaf,
        f"SHA-256(0x00 || JCS(event)) = {computed_leaf.hex()}"
        + ("" if computed_leaf == claimed_leaf else f", bundle says {claimed_leaf.hex()}"),
    ):
        return verdict

    try:
        checkpoint: Checkpoint = verify_checkpoint(note, verifier, origin=origin)
    except VerificationError as exc:
        check("checkpoint_signature", False, exc.detail)
        return verdict
    check(
        "checkpoint_signature",
        True,
        f"signed by {verifier.name} for {checkpoint.origin} at size {checkpoint.tree_size}",
    )
    if witnesses is not None and not check_witnesses(verdict, note, witnesses):
        return verdict
    if not check(
        "checkpoint_matches_proof",
        checkpoint.tree_size == tree_size and checkpoint.root_hash == root,
        f"checkpoint size {checkpoint.tree_size} root {checkpoint.root_hash.hex()}; "
        f"proof size {tree_size} root {root.hex()}",
    ):
        return verdict

    try:
        merkle.verify_inclusion(leaf_index, tree_size, computed_leaf, hashes, root)
    except VerificationError as exc:
        check("inclusion_proof", False, exc.detail)
        return verdict
    check("inclusion_proof", True, f"leaf {leaf_index} is in the tree of {tree_size}")

    if not check(
        "anchor_present",
        isinstance(anchor, dict),
        "the bundle names an anchor" if isinstance(anchor, dict) else "not anchored yet",
    ):
        return verdict
    assert isinstance(anchor, dict)
    expected_log_id = hashlib.sha256(checkpoint.origin.encode()).digest()
    try:
        log_id = _unhex(str(anchor["log_id"]), 32)
        chain_id = int(anchor["chain_id"])
        contract = str(anchor["contract"])
    except (KeyError, TypeError, ValueError) as exc:
        check("anchor_log_id", False, f"malformed anchor: {exc!r}")
        return verdict
    if not check(
        "anchor_log_id",
        log_id == expected_log_id,
        f"SHA-256(origin) = {expected_log_id.hex()}, anchor says {log_id.hex()}",
    ):
        return verdict
    pinned = chain_id == pin.chain_id and _same_address(contract, pin.contract)
    if not check(
        "anchor_pinned",
        pinned,
        f"the anchor names contract {contract} on chain {chain_id}; pinned: "
        f"{pin.contract} on chain {pin.chain_id}",
    ):
        return verdict
    if chain is None:
        verdict.unreachable = "no chain RPC given: the on-chain root was not checked"
        return verdict
    try:
        live_chain_id = chain.chain_id()
        if not check(
            "chain_id",
            live_chain_id == pin.chain_id,
            f"the RPC serves chain {live_chain_id}, pinned chain {pin.chain_id}",
        ):
            return verdict
        stored = chain.root_at(pin.contract, log_id, tree_size)
        if not check(
            "chain_root",
            stored == root,
            f"pinned contract {pin.contract} holds {stored.hex()} for size {tree_size}"
            + ("" if stored == root else f", the proof's root is {root.hex()}"),
        ):
            return verdict
        found = _anchor_transaction(chain, anchor, pin, log_id, tree_size, root)
        check("anchor_transaction", *found)
    except RpcError as exc:
        verdict.unreachable = exc.detail
    except (ValueError, TypeError) as exc:
        check("chain_root", False, f"unexpected RPC answer: {exc!r}")
    return verdict


def _anchor_transaction(
    chain: AnchorReader,
    anchor: dict[str, Any],
    pin: ChainPin,
    log_id: bytes,
    tree_size: int,
    root: bytes,
) -> tuple[bool, str]:
    """Whether the anchor's transaction called the pinned contract for this log, size, root."""
    tx_hash = anchor.get("tx_hash")
    if not isinstance(tx_hash, str) or not tx_hash:
        return False, "the anchor names no transaction"
    tx: AnchorTransaction | None = chain.transaction(tx_hash)
    if tx is None:
        return False, f"transaction {tx_hash} not found on this chain"
    if tx.status != 1:
        return False, f"transaction {tx_hash} failed (status 0)"
    if not _same_address(tx.to, pin.contract):
        return False, (
            f"transaction {tx_hash} was sent to {tx.to}, not the pinned contract {pin.contract}"
        )
    expected = anchor_call(log_id, tree_size, root)
    called = tx.input.lower()
    if called != expected:
        return False, (
            f"transaction {tx_hash} did not call anchor({log_id.hex()}, {tree_size}, "
            f"{root.hex()}) (its calldata is {called[:138]}…)"
        )
    logged = _anchored_log(tx.logs, pin, log_id, tree_size)
    if logged != root:
        return False, (
            f"transaction {tx_hash} emitted no CheckpointAnchored({log_id.hex()}, {tree_size}) "
            f"with root {root.hex()} from {pin.contract}"
        )
    where = f" in block {tx.block_number}" if tx.block_number is not None else ""
    return True, (
        f"transaction {tx_hash} called anchor(logId, {tree_size}, root) on {pin.contract}{where}"
    )


def root_on_chain(
    chain: AnchorReader, pin: ChainPin, log_id: bytes, tree_size: int
) -> bytes | None:
    """The root the pinned contract holds for ``(log_id, tree_size)``, or None.

    Raises :class:`RpcError` when the chain cannot be read.
    """
    root = chain.root_at(pin.contract, log_id, tree_size)
    return None if root == b"\0" * 32 else root


def anchored_on_chain(chain: AnchorReader, pin: ChainPin, log_id: bytes) -> list[tuple[int, bytes]]:
    """Every (tree size, root) the pinned contract anchored for the log, from its
    ``CheckpointAnchored`` events, each confirmed by ``rootAt``.

    Raises :class:`RpcError` when the chain cannot be read, or when the contract's
    ``rootAt`` disagrees with its own event log.
    """
    anchored: dict[int, bytes] = {}
    for entry in chain.anchor_logs(pin.contract, (ANCHORED_TOPIC, log_id)):
        if not _same_address(entry.address, pin.contract):
            continue
        topics, data = entry.topics, entry.data
        if len(topics) < 3 or topics[0] != ANCHORED_TOPIC or topics[1] != log_id or len(data) < 32:
            continue
        anchored[int.from_bytes(topics[2], "big")] = data[:32]
    for size, root in anchored.items():
        if root_on_chain(chain, pin, log_id, size) != root:
            raise RpcError(f"the contract's rootAt({size}) disagrees with its own event log")
    return sorted(anchored.items())
