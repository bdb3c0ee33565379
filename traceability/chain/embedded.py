"""The embedded chain: eth-tester + py-evm in process, kept alive across restarts.

Its state is rebuilt at start-up by replaying a journal of every transaction it
mined (``embedded-chain.jsonl`` in the data directory). The journal holds
signed transactions, so the replay gives the same contract address, the same
transaction hashes and the same block numbers, and a proof bundle made
yesterday still verifies today. The journal is the truth; each process's
in-memory chain is a cache of it, brought up to date before every use.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.backends.pyevm.main import get_default_account_keys
from hexbytes import HexBytes
from web3 import EthereumTesterProvider, Web3
from web3.exceptions import BlockNotFound, TransactionNotFound

from traceability.chain.client import GWEI, AnchorChain
from traceability.errors import Invalid

# Fixed fees keep replayed transactions identical to the originals.
FIXED_FEES = (10 * GWEI, 1 * GWEI)
READ_ONLY_METHODS = frozenset(
    {
        "eth_chainId",
        "eth_blockNumber",
        "eth_call",
        "eth_getTransactionReceipt",
        "eth_getTransactionByHash",
        "eth_getBlockByNumber",
        "eth_getLogs",
        "net_version",
    }
)

CALL_GAS_CAP = 1_000_000
"""The most gas one ``eth_call`` gets; a call asking for more (or naming none) gets this.
A view of the anchor contract needs under 40,000. py-evm runs the worst code (a loop of
1-gas JUMPDESTs) at roughly one to two million gas per second of one core, so a capped
call holds the chain for about a second at most (RELIABILITY.md has the measurement)."""


def call_gas(params: list[Any]) -> int:
    """The gas an ``eth_call`` with these params runs with: what it asks for, at most
    ``CALL_GAS_CAP``. ``Invalid`` for a gas that is not a non-negative quantity."""
    call = _param(params, 0, dict)
    requested = call.get("gas")
    if requested is None:
        return CALL_GAS_CAP
    if isinstance(requested, str) and requested.startswith("0x") and len(requested) <= 66:
        try:
            value = int(requested, 16)
        except ValueError:
            raise Invalid(f"gas {requested[:70]!r} is not a hex quantity") from None
    elif isinstance(requested, int) and not isinstance(requested, bool):
        value = requested
    else:
        raise Invalid(f"gas {str(requested)[:70]!r} is not a hex quantity")
    if value <= 0:
        raise Invalid("gas must be positive")
    return min(value, CALL_GAS_CAP)


def _camel(key: str) -> str:
    """eth-tester's snake_case keys (left as they are in full blocks' transactions and some
    receipt fields) in the JSON-RPC spelling: ``block_hash`` -> ``blockHash``."""
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _jsonable(value: Any) -> Any:
    """eth-tester answers with Python values; JSON-RPC wants hex quantities and data."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, bytes | bytearray | HexBytes):
        return "0x" + bytes(value).hex()
    if isinstance(value, Mapping):
        out = {_camel(str(k)): _jsonable(v) for k, v in value.items()}
        if "data" in out and "nonce" in out and "gas" in out:
            out["input"] = out.pop("data")  # a transaction's payload is "input" in JSON-RPC
        return out
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class EmbeddedChain(AnchorChain):
    """An in-process chain whose history is a journal file."""

    def __init__(self, journal: Path, *, gas_limit: int = 150_000) -> None:
        self.journal = journal
        self._offset = 0
        self._lock = threading.RLock()
        tester = EthereumTester(PyEVMBackend())
        w3 = Web3(EthereumTesterProvider(tester))
        key = get_default_account_keys()[0].to_hex()
        super().__init__(
            w3, Account.from_key(key), name="embedded", gas_limit=gas_limit, fixed_fees=FIXED_FEES
        )
        self.deploy_tx: str | None = None
        self.sync()

    @contextmanager
    def _journal_locked(self) -> Iterator[None]:
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        with self._lock, open(self.journal, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def sync(self) -> None:
        """Replay what other processes added to the journal since we last looked."""
        with self._journal_locked():
            self._replay()

    def _replay(self) -> None:
        if not self.journal.exists():
            return
        with open(self.journal, "rb") as handle:
            handle.seek(self._offset)
            for line in handle:
                if not line.endswith(b"\n"):
                    break  # a torn last line from a crash: it never counted
                entry = json.loads(line)
                raw = bytes.fromhex(entry["raw"][2:])
                tx_hash = "0x" + bytes(self.w3.eth.send_raw_transaction(raw)).hex()
                if tx_hash != entry["tx_hash"]:
                    raise Invalid(f"embedded chain journal {self.journal} is corrupt at {tx_hash}")
                if entry.get("deploy"):
                    self.deploy_tx = tx_hash
                    address = self.deployed_address(tx_hash)
                    if address is not None:
                        self.use_contract(address)
                self._offset += len(line)

    def send(self, raw: bytes) -> tuple[str, str | None]:
        """Mine the transaction and journal it (only what the chain accepted)."""
        return self._send(raw, deploy=False)

    def _send(self, raw: bytes, *, deploy: bool) -> tuple[str, str | None]:
        with self._journal_locked():
            self._replay()
            tx_hash, complaint = super().send(raw)
            if self.outcome(tx_hash) is None:
                return tx_hash, complaint or "the embedded chain did not mine the transaction"
            entry = {"raw": "0x" + raw.hex(), "tx_hash": tx_hash, "deploy": deploy}
            line = (json.dumps(entry) + "\n").encode()
            with open(self.journal, "ab") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self._offset += len(line)
            return tx_hash, complaint

    def ensure_deployed(self) -> str:
        """Deploy the anchor contract on first use; return its address."""
        with self._journal_locked():
            self._replay()
            if self.contract_address is not None:
                return self.contract_address
            signed = self.sign_deploy()
        tx_hash, complaint = self._send(signed.raw, deploy=True)
        address = self.deployed_address(tx_hash)
        if address is None:
            raise Invalid(f"deploying the anchor contract failed: {complaint}")
        self.deploy_tx = tx_hash
        self.use_contract(address)
        return address

    def rpc(self, method: str, params: list[Any]) -> Any:
        """Answer one read-only JSON-RPC call; raise ``Invalid`` for anything else.

        Calls go through web3's own methods, which normalise JSON-RPC params for
        eth-tester; the answers are turned back into JSON-RPC hex.
        """
        if method not in READ_ONLY_METHODS:
            raise Invalid(f"{method} is not served: this endpoint is read-only")
        self.sync()
        eth = self.w3.eth
        with self._lock:
            try:
                result: Any
                if method == "eth_chainId":
                    result = eth.chain_id
                elif method == "eth_blockNumber":
                    result = eth.block_number
                elif method == "net_version":
                    return str(eth.chain_id)
                elif method == "eth_call":
                    call = dict(_param(params, 0, dict))
                    call["gas"] = call_gas(params)  # capped: anonymous callers run code here
                    call.setdefault("from", self.account.address)  # a funded caller
                    result = eth.call(call, _block(params, 1))  # type: ignore[arg-type]
                elif method == "eth_getTransactionReceipt":
                    result = eth.get_transaction_receipt(_param(params, 0, str))
                elif method == "eth_getTransactionByHash":
                    result = eth.get_transaction(_param(params, 0, str))
                elif method == "eth_getBlockByNumber":
                    full = bool(params[1]) if len(params) > 1 else False
                    result = eth.get_block(_block(params, 0), full)
                else:  # eth_getLogs
                    result = eth.get_logs(_param(params, 0, dict))
            except (TransactionNotFound, BlockNotFound):
                return None
        return _jsonable(result)


def _param(params: list[Any], index: int, kind: type) -> Any:
    if len(params) <= index or not isinstance(params[index], kind):
        raise Invalid(f"param {index} must be a JSON {'object' if kind is dict else 'string'}")
    return params[index]


def _block(params: list[Any], index: int) -> Any:
    """A block parameter: a tag such as "latest", or a hex number."""
    if len(params) <= index:
        return "latest"
    value = params[index]
    if isinstance(value, str) and value.startswith("0x"):
        return int(value, 16)
    if value in ("latest", "earliest", "pending", "safe", "finalized"):
        return value
    raise Invalid(f"param {index} must be a block tag or a hex block number")


_OPEN: dict[Path, EmbeddedChain] = {}
_OPEN_LOCK = threading.Lock()


def embedded_chain(journal: Path, *, gas_limit: int = 150_000) -> EmbeddedChain:
    """The process's one embedded chain for this journal (replaying it costs seconds)."""
    key = journal.resolve()
    with _OPEN_LOCK:
        chain = _OPEN.get(key)
        if chain is None:
            chain = EmbeddedChain(key, gas_limit=gas_limit)
            _OPEN[key] = chain
        else:
            chain.sync()
        return chain
