"""The embedded chain's read-only JSON-RPC in its own process: gas, batch and time limits."""

from __future__ import annotations

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

        # A call still running when its time is up is stopped with its process.
        reader.call_seconds = 0.2
        (stopped,) = reader.answer([call(3, "eth_call", {"data": SLED})])
        assert stopped["error"] == {
            "code": -32005,
            "message": "eth_call ran longer than 0.2 s and was stopped",
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
