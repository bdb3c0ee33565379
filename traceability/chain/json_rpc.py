"""Reading the anchor contract over Ethereum JSON-RPC: the verifier's ``AnchorReader``.

``JsonRpc`` is a minimal client (the same few calls a browser makes);
``RpcAnchorReader`` turns any JSON-RPC caller (``JsonRpc``, the embedded chain's
``rpc``, a test's in-process one) into the typed reads the pure verifier takes,
decoding the ABI of ``rootAt`` and the hex of receipts and logs here.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode, encode
from eth_utils.crypto import keccak

from traceability.errors import RpcError

__all__ = [
    "ROOT_AT_SELECTOR",
    "JsonRpc",
    "RpcAnchorReader",
    "RpcLog",
    "RpcTransaction",
    "root_at_call",
]

ROOT_AT_SELECTOR = keccak(text="rootAt(bytes32,uint64)")[:4]

RpcCaller = Callable[[str, list[Any]], Any]
"""``caller(method, params)`` returns the JSON-RPC ``result`` or raises ``RpcError``."""


@dataclass(frozen=True)
class RpcLog:
    """One event log entry of a receipt or of ``eth_getLogs`` (``verify.ChainLog``)."""

    address: str
    topics: tuple[bytes, ...]
    data: bytes


@dataclass(frozen=True)
class RpcTransaction:
    """A transaction with its receipt (``verify.AnchorTransaction``)."""

    to: str | None
    input: str
    status: int
    block_number: int | None
    logs: tuple[RpcLog, ...]


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


def root_at_call(log_id: bytes, tree_size: int) -> str:
    """Calldata of ``rootAt(logId, treeSize)``."""
    return "0x" + (ROOT_AT_SELECTOR + encode(["bytes32", "uint64"], [log_id, tree_size])).hex()


def _unhex(value: str) -> bytes:
    return bytes.fromhex(value[2:] if value.startswith("0x") else value)


def _logs(entries: object) -> tuple[RpcLog, ...]:
    if not isinstance(entries, list):
        return ()
    return tuple(
        RpcLog(
            str(entry.get("address")),
            tuple(_unhex(str(t)) for t in entry.get("topics") or []),
            _unhex(str(entry.get("data", "0x"))),
        )
        for entry in entries
        if isinstance(entry, dict) and isinstance(entry.get("address"), str)
    )


class RpcAnchorReader:
    """An ``AnchorReader`` over JSON-RPC calls (``eth_chainId``, ``eth_call``,
    ``eth_getTransactionByHash``/``Receipt``, ``eth_getLogs``)."""

    def __init__(self, call: RpcCaller) -> None:
        self.call = call

    def chain_id(self) -> int:
        return int(str(self.call("eth_chainId", [])), 16)

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes:
        answer = self.call(
            "eth_call", [{"to": contract, "data": root_at_call(log_id, tree_size)}, "latest"]
        )
        (stored,) = decode(["bytes32"], _unhex(str(answer)))
        return bytes(stored)

    def transaction(self, tx_hash: str) -> RpcTransaction | None:
        tx = self.call("eth_getTransactionByHash", [tx_hash])
        receipt = self.call("eth_getTransactionReceipt", [tx_hash])
        if not isinstance(tx, dict) or not isinstance(receipt, dict):
            return None
        to = tx.get("to")
        block = receipt.get("blockNumber")
        return RpcTransaction(
            to=to if isinstance(to, str) else None,
            input=str(tx.get("input", tx.get("data", ""))),
            status=int(str(receipt.get("status", "0x0")), 16),
            block_number=None if block is None else int(str(block), 16),
            logs=_logs(receipt.get("logs")),
        )

    def anchor_logs(self, contract: str, topics: tuple[bytes, ...]) -> list[RpcLog]:
        entries = self.call(
            "eth_getLogs",
            [
                {
                    "address": contract,
                    "fromBlock": "0x0",
                    "toBlock": "latest",
                    "topics": ["0x" + t.hex() for t in topics],
                }
            ],
        )
        if not isinstance(entries, list):
            raise RpcError(f"eth_getLogs answered {entries!r}, not a list")
        return list(_logs(entries))
