"""The public verify surface: pure (no I/O library is even imported), everything in
``__all__`` exists, and the chain is read only through the ``AnchorReader`` given."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

import traceability.verify as verify
from traceability import merkle
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.checkpoints import Checkpoint, NoteSigner, sign_checkpoint
from traceability.verify import ChainPin, RpcError, anchored_on_chain, verify_bundle
from traceability.verify.bundle import ANCHORED_TOPIC, anchor_call

FORBIDDEN = (
    "sqlalchemy",
    "web3",
    "eth_tester",
    "celery",
    "kombu",
    "redis",
    "paho",
    "fastapi",
    "starlette",
    "httpx",
    "requests",
    "urllib.request",
    "http.client",
    "traceability.storage",
    "traceability.chain",
    "api",
)
CONTRACT = "0x" + "ab" * 20
ORIGIN = "test.sunledger/log"
TX = "0x" + "11" * 32


def test_importing_verify_loads_no_database_broker_chain_or_web_library() -> None:
    code = "import sys, traceability.verify; print('\\n'.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.split()
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN)]
    assert bad == []


def test_every_public_name_exists() -> None:
    assert verify.__all__ and all(hasattr(verify, name) for name in verify.__all__)
    assert verify.__doc__ is not None and "verify_bundle(" in verify.__doc__


def test_the_json_rpc_reader_is_an_anchor_reader() -> None:
    from traceability.chain.json_rpc import RpcAnchorReader

    def node(method: str, params: list[object]) -> object:
        return {"eth_chainId": "0x7"}[method]

    reader: verify.AnchorReader = RpcAnchorReader(node)  # mypy checks the shapes
    assert reader.chain_id() == 7


@dataclass(frozen=True)
class ChainLog:
    address: str
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class AnchorTransaction:
    to: str | None
    input: str
    status: int
    block_number: int | None
    logs: tuple[ChainLog, ...]


@dataclass
class InProcessChain:
    """An ``AnchorReader`` holding one anchor, as the contract would report it."""

    chain: int
    roots: dict[int, bytes]
    transactions: dict[str, AnchorTransaction] = field(default_factory=dict)
    fail: Exception | None = None
    reads: list[str] = field(default_factory=list)

    def chain_id(self) -> int:
        self.reads.append("chain_id")
        if self.fail is not None:
            raise self.fail
        return self.chain

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes:
        self.reads.append("root_at")
        return self.roots.get(tree_size, b"\0" * 32)

    def transaction(self, tx_hash: str) -> AnchorTransaction | None:
        self.reads.append("transaction")
        return self.transactions.get(tx_hash)

    def anchor_logs(self, contract: str, topics: tuple[bytes, ...]) -> list[ChainLog]:
        return [log for tx in self.transactions.values() for log in tx.logs]


def _world() -> tuple[dict[str, object], NoteSigner, InProcessChain]:
    signer = NoteSigner.generate("sunledger-log")
    events = [{"id": f"e{i}", "kind": "probe_reading", "n": i} for i in range(5)]
    leaves = [merkle.leaf_hash(canonical_bytes(e)) for e in events]
    root = merkle.root(leaves)
    log_id = hashlib.sha256(ORIGIN.encode()).digest()
    note = sign_checkpoint(Checkpoint(ORIGIN, 5, root), signer)
    bundle = {
        "format": "sunledger-proof/1",
        "event": events[2],
        "leaf_index": 2,
        "leaf_hash": leaves[2].hex(),
        "inclusion": {
            "tree_size": 5,
            "root_hash": root.hex(),
            "hashes": [h.hex() for h in merkle.inclusion_proof(2, leaves)],
        },
        "checkpoint": note,
        "anchor": {"log_id": log_id.hex(), "chain_id": 7, "contract": CONTRACT, "tx_hash": TX},
    }
    anchored = ChainLog(CONTRACT, (ANCHORED_TOPIC, log_id, (5).to_bytes(32, "big")), root)
    tx = AnchorTransaction(CONTRACT, anchor_call(log_id, 5, root), 1, 3, (anchored,))
    return bundle, signer, InProcessChain(7, {5: root}, {TX: tx})


def test_the_chain_checks_read_only_through_the_reader() -> None:
    bundle, signer, chain = _world()
    pin = ChainPin.of(7, CONTRACT)
    verdict = verify_bundle(bundle, signer.verifier(), chain, pin=pin, origin=ORIGIN)
    assert verdict.ok and verdict.exit_code == 0, verdict.checks
    assert chain.reads == ["chain_id", "root_at", "transaction"]
    assert anchored_on_chain(chain, pin, hashlib.sha256(ORIGIN.encode()).digest()) == [
        (5, chain.roots[5])
    ]

    offline = verify_bundle(bundle, signer.verifier(), None, pin=pin)
    assert not offline.ok and offline.exit_code == 13 and "no chain RPC" in str(offline.unreachable)


def test_what_the_reader_reports_decides_the_verdict() -> None:
    bundle, signer, chain = _world()
    pin = ChainPin.of(7, CONTRACT)

    def outcome() -> tuple[str | None, int]:
        verdict = verify_bundle(json.loads(json.dumps(bundle)), signer.verifier(), chain, pin=pin)
        return (verdict.failed.name if verdict.failed else None), verdict.exit_code

    chain.fail = RpcError("node down")
    assert outcome() == (None, 13)
    chain.fail = ValueError("not hex")
    assert outcome() == ("chain_root", 11)
    chain.fail = None
    chain.chain = 8
    assert outcome() == ("chain_id", 10)
    chain.chain = 7
    chain.roots[5] = b"\x01" * 32
    assert outcome() == ("chain_root", 11)
    bundle, signer, chain = _world()
    tx = chain.transactions[TX]
    chain.transactions[TX] = AnchorTransaction(tx.to, tx.input, 0, tx.block_number, tx.logs)
    assert outcome() == ("anchor_transaction", 12)
    chain.transactions[TX] = AnchorTransaction(tx.to, tx.input, 1, tx.block_number, ())
    assert outcome() == ("anchor_transaction", 12)
    chain.transactions.clear()
    assert outcome() == ("anchor_transaction", 12)


def test_an_event_log_the_contract_state_contradicts_is_an_rpc_error() -> None:
    _bundle, _signer, chain = _world()
    chain.roots[5] = b"\x02" * 32
    with pytest.raises(RpcError, match="disagrees with its own event log"):
        anchored_on_chain(chain, ChainPin.of(7, CONTRACT), hashlib.sha256(ORIGIN.encode()).digest())
