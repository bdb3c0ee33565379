"""Verifying Sunshine Ledger proofs with pinned trust roots: what an auditor imports.

Pure: this package reads no database, broker or web service and does no I/O of
its own. The chain is read through the :class:`AnchorReader` a caller passes in
(``traceability.chain.json_rpc.RpcAnchorReader`` speaks JSON-RPC); without one, the
chain checks are reported as not run (exit 13), never as passed.

Usage::

    from traceability.chain.json_rpc import JsonRpc, RpcAnchorReader
    from traceability.verify import parse_trust, verify_bundle

    trust = parse_trust(open("trust.json").read())        # the roots you pin
    verdict = verify_bundle(
        bundle,                                             # a sunledger-proof/1 dict
        trust.verifier(),
        RpcAnchorReader(JsonRpc("http://127.0.0.1:8545")),  # or None: offline checks only
        pin=trust.chain,
        origin=trust.origin,
    )
    for check in verdict.checks:
        print(check.name, check.ok, check.detail)
    raise SystemExit(verdict.exit_code)                     # 0 only when every check held

A ``c2sp.org/tlog-proof@v1`` file is checked with ``verify_tlog_proof(text,
trust.verifier())`` (no chain involved). Everything not listed in ``__all__`` is
private to this package.
"""

from __future__ import annotations

from traceability.verify.anchors import AnchorReader, AnchorTransaction, ChainLog, RpcError
from traceability.verify.bundle import (
    BUNDLE_FORMAT,
    CHAIN_UNREACHABLE,
    CHECKS,
    BundleVerdict,
    CheckResult,
    anchored_on_chain,
    root_on_chain,
    verify_bundle,
)
from traceability.verify.tlog_proof import HEADER as TLOG_PROOF_HEADER
from traceability.verify.tlog_proof import parse as parse_tlog_proof
from traceability.verify.tlog_proof import verify as verify_tlog_proof
from traceability.verify.trust import (
    TRUST_FORMAT,
    ChainPin,
    TrustConfig,
    parse_contract,
    parse_trust,
)

__all__ = [
    "BUNDLE_FORMAT",
    "CHAIN_UNREACHABLE",
    "CHECKS",
    "TLOG_PROOF_HEADER",
    "TRUST_FORMAT",
    "AnchorReader",
    "AnchorTransaction",
    "BundleVerdict",
    "ChainLog",
    "ChainPin",
    "CheckResult",
    "RpcError",
    "TrustConfig",
    "anchored_on_chain",
    "parse_contract",
    "parse_tlog_proof",
    "parse_trust",
    "root_on_chain",
    "verify_bundle",
    "verify_tlog_proof",
]
