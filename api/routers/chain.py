"""The embedded chain as a read-only JSON-RPC endpoint, so browsers and verifiers can check it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import PlatformDep
from traceability.errors import Conflict, Invalid, SunledgerError

router = APIRouter(prefix="/v1/chain", tags=["chain"])


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


@router.post("/rpc")
async def rpc(request: Request, platform: PlatformDep) -> JSONResponse:
    """Read-only JSON-RPC 2.0 (single or batch): eth_chainId, eth_blockNumber, eth_call,
    eth_getTransactionReceipt, eth_getTransactionByHash, eth_getBlockByNumber, eth_getLogs."""
    if platform.settings.chain != "embedded":
        raise Conflict(
            f"this deployment anchors on the {platform.settings.chain} chain at its own RPC; "
            "the local read-only endpoint only serves the embedded chain"
        )
    try:
        payload = await request.json()
    except (ValueError, RecursionError):
        return JSONResponse(_error(None, -32700, "parse error: the body is not JSON we accept"))
    chain = platform.embedded_chain
    calls = payload if isinstance(payload, list) else [payload]
    if not calls or len(calls) > 50:
        return JSONResponse(_error(None, -32600, "send between 1 and 50 calls"))
    answers = []
    for call in calls:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            answers.append(_error(None, -32600, "invalid request: no method"))
            continue
        request_id = call.get("id")
        params = call.get("params", [])
        if not isinstance(params, list):
            answers.append(_error(request_id, -32602, "params must be a list"))
            continue
        try:
            result = chain.rpc(call["method"], params)
        except Invalid as exc:
            code = -32601 if "not served" in exc.detail else -32000
            answers.append(_error(request_id, code, exc.detail))
            continue
        except SunledgerError as exc:
            answers.append(_error(request_id, -32000, exc.detail))
            continue
        except Exception as exc:  # eth-tester rejects odd params with its own errors
            answers.append(_error(request_id, -32602, f"{call['method']}: {exc}"))
            continue
        answers.append({"jsonrpc": "2.0", "id": request_id, "result": result})
    return JSONResponse(answers if isinstance(payload, list) else answers[0])
