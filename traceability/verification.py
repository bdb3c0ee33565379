"""Verifying a proof bundle with nothing but the platform's public key and a chain RPC.

This module never touches our database or web layer: it is what an auditor
runs. Each check has a name and an exit code, so a failure says which one.
"""

from __future__ import annotations

import hashlib
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from traceability import merkle
from traceability.canonical import canonical_bytes
from traceability.checkpoints import Checkpoint, NoteVerifier, verify_checkpoint
from traceability.errors import SunledgerError, VerificationError
from traceability.witnessing.policy import WitnessPolicy, check_cosignatures

BUNDLE_FORMAT = "sunledger-proof/1"
ROOT_AT_SELECTOR = keccak(text="rootAt(bytes32,uint64)")[:4]

# Check name -> exit code. 0 is success, 1 and 2 are usage errors.
CHECKS: dict[str, int] = {
    "bundle_format": 3,
    "leaf_hash": 4,
    "checkpoint_signature": 5,
    "checkpoint_matches_proof": 6,
    "inclusion_proof": 7,
    "anchor_present": 8,
    "anchor_log_id": 9,
    "chain_id": 10,
    "chain_root": 11,
    "anchor_transaction": 12,
    "cosignatures": 14,
}
CHAIN_UNREACHABLE = 13


class RpcError(SunledgerError):
    """The chain's JSON-RPC endpoint failed or answered with an error."""

    status_code = 502


class JsonRpc:
    """A minimal JSON-RPC client, the same few calls a browser makes."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self.timeout = timeout
        self._id = 0

    def __call__(self, method: str, params: list[Any]) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        request = urllib.request.Request(
            self.url, data=body.encode(), headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read())
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise RpcError(f"{self.url} did not answer {method}: {exc}") from None
        if not isinstance(answer, dict) or "error" in answer:
            detail = answer.get("error") if isinstance(answer, dict) else answer
            raise RpcError(f"{method} failed at {self.url}: {detail}")
        return answer.get("result")


@dataclass
class CheckResult:
    name: str
    ok: bool
    detail: str


@dataclass
class BundleVerdict:
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


def root_at_call(log_id: bytes, tree_size: int) -> str:
    """Calldata of ``rootAt(logId, treeSize)``."""
    return "0x" + (ROOT_AT_SELECTOR + encode(["bytes32", "uint64"], [log_id, tree_size])).hex()


def _unhex(value: str, size: int | None = None) -> bytes:
    raw = bytes.fromhex(value[2:] if value.startswith("0x") else value)
    if size is not None and len(raw) != size:
        raise ValueError(f"expected {size} bytes, got {len(raw)}")
    return raw


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
    rpc: Callable[[str, list[Any]], Any] | None,
    witnesses: WitnessPolicy | None = None,
) -> BundleVerdict:
    """Run every check in order and stop at the first failure.

    With ``rpc`` None the chain checks are not run (and the verdict says so). With
    ``witnesses`` the checkpoint's cosignatures must meet that policy.
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
        checkpoint: Checkpoint = verify_checkpoint(note, verifier)
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
    if rpc is None:
        verdict.unreachable = "no chain RPC given: the on-chain root was not checked"
        return verdict
    try:
        live_chain_id = int(str(rpc("eth_chainId", [])), 16)
        if not check(
            "chain_id",
            live_chain_id == chain_id,
            f"RPC is chain {live_chain_id}, the anchor is on chain {chain_id}",
        ):
            return verdict
        answer = rpc(
            "eth_call", [{"to": contract, "data": root_at_call(log_id, tree_size)}, "latest"]
        )
        (stored,) = decode(["bytes32"], _unhex(str(answer)))
        stored = bytes(stored)
        if not check(
            "chain_root",
            stored == root,
            f"contract {contract} holds {stored.hex()} for size {tree_size}"
            + ("" if stored == root else f", the proof's root is {root.hex()}"),
        ):
            return verdict
        tx_hash = anchor.get("tx_hash")
        receipt = rpc("eth_getTransactionReceipt", [tx_hash]) if tx_hash else None
        block = None if not isinstance(receipt, dict) else receipt.get("blockNumber")
        mined_ok = isinstance(receipt, dict) and int(str(receipt.get("status", "0x0")), 16) == 1
        check(
            "anchor_transaction",
            mined_ok,
            f"transaction {tx_hash} mined in block {int(str(block), 16)}"
            if mined_ok and block is not None
            else f"transaction {tx_hash} not found or failed on this chain",
        )
    except RpcError as exc:
        verdict.unreachable = exc.detail
    except (ValueError, TypeError) as exc:
        check("chain_root", False, f"unexpected RPC answer: {exc!r}")
    return verdict
