"""The embedded chain's read-only JSON-RPC in its own process: gas, batch and time limits."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

from traceability.chain.embedded import CALL_GAS_CAP, EmbeddedChain
from traceability.chain.read_only_rpc import BATCH_GAS_BUDGET, ReadOnlyRpc

LOOP = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP, for ever
SLED = "0x" + "5b" * 20_000 + "600056"


def call(n: int, method: str, *params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": n, "method": method, "params": list(params)}


def test_hostile_calls_are_capped_budgeted_and_stopped(tmp_path: Path) -> None:
    journal = tmp_path / "embedded-chain.jsonl"
    chain = EmbeddedChain(journal)
    contract = chain.ensure_deployed()
    reader = ReadOnlyRpc(journal)
    try:
        (chain_id,) = reader.answer([call(1, "eth_chainId")])
        assert chain_id == {"jsonrpc": "2.0", "id": 1, "result": hex(chain.chain_id)}

        # Huge gas is lowered to the cap: the loop runs out of gas instead of for ever.
        (looped,) = reader.answer([call(2, "eth_call", {"data": LOOP, "gas": "0xffffffffffff"})])
        assert "Out of gas" in looped["error"]["message"], looped

        # A batch's eth_calls share one budget: the fourth full-gas call is refused unrun.
        assert BATCH_GAS_BUDGET == 3 * CALL_GAS_CAP
        batch = reader.answer([call(n, "eth_call", {"data": LOOP}) for n in range(4)])
        assert ["Out of gas" in b["error"]["message"] for b in batch[:3]] == [True] * 3
        assert batch[3]["error"]["code"] == -32005 and "gas budget" in batch[3]["error"]["message"]

        # A call that has used its processor time is stopped with its process.
        reader.call_seconds = 0.05  # the capped sled costs about 0.25 s here
        (stopped,) = reader.answer([call(3, "eth_call", {"data": SLED})])
        assert stopped["error"] == {
            "code": -32005,
            "message": "eth_call used more than 0.05 s of processor time and was stopped",
        }
        assert reader.restarts == 1

        # The next caller gets a new process with the same chain.
        reader.call_seconds = 30
        (code,) = reader.answer([call(4, "eth_getCode", contract)])
        assert code["error"]["code"] == -32601  # not served: the endpoint is read-only
        (block,) = reader.answer([call(5, "eth_blockNumber")])
        assert int(block["result"], 16) == chain.w3.eth.block_number
        refused = reader.answer(["not a call", call(6, "eth_call", {"data": LOOP, "gas": "12"})])
        assert refused[0]["error"]["code"] == -32600
        assert "hex quantity" in refused[1]["error"]["message"]
    finally:
        reader.stop()


def test_a_starved_reader_answers_and_a_hung_one_is_stopped(tmp_path: Path) -> None:
    """The time limit counts the reader's processor time: a child kept off the processor
    (as nice 19 is on a busy machine; SIGSTOP here) answers once it runs again, however
    long it waited; one that hangs for good is stopped by the clock limit."""
    journal = tmp_path / "embedded-chain.jsonl"
    chain = EmbeddedChain(journal)
    chain.ensure_deployed()
    reader = ReadOnlyRpc(journal, call_seconds=0.3)
    try:
        (first,) = reader.answer([call(1, "eth_blockNumber")])
        assert "result" in first, first
        child = reader._child
        assert child is not None
        os.kill(child.pid, signal.SIGSTOP)  # starved for 1 s: over 0.3 s, but not working
        resume = threading.Timer(1.0, os.kill, (child.pid, signal.SIGCONT))
        resume.start()
        try:
            (starved,) = reader.answer([call(2, "eth_blockNumber")])
        finally:
            resume.join()
        assert starved == {"jsonrpc": "2.0", "id": 2, "result": first["result"]}
        assert reader.restarts == 0 and reader._child is child

        reader.call_wall_seconds = 1.0
        os.kill(child.pid, signal.SIGSTOP)  # and never resumed
        (hung,) = reader.answer([call(3, "eth_chainId")])
        assert hung["error"] == {
            "code": -32005,
            "message": "eth_chainId had no answer after 1 s and was stopped",
        }
        assert reader.restarts == 1 and child.poll() is not None  # killed, by its PID
        (again,) = reader.answer([call(4, "eth_chainId")])
        assert again["result"] == hex(chain.chain_id)
    finally:
        reader.stop()
