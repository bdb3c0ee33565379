"""The embedded chain as a read-only JSON-RPC endpoint, so browsers and verifiers can check it.

Anyone may call it, so nothing of it runs on the event loop or in this interpreter:
``traceability.chain.read_only_rpc`` answers in a child process, with gas, batch and
time limits. One thread here talks to it, and at most ``MAX_QUEUED`` requests wait or
run at once: the next one is answered 503 with ``Retry-After`` at once. Whatever a
caller sends, the rest of the API (``/healthz`` included) keeps answering.
"""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import Platform, PlatformDep
from traceability.chain.factory import EMBEDDED_JOURNAL
from traceability.chain.read_only_rpc import (
    LIMIT_EXCEEDED,
    MAX_BATCH_CALLS,
    ReadOnlyRpc,
    rpc_error,
)
from traceability.errors import Conflict

router = APIRouter(prefix="/v1/chain", tags=["chain"])

MAX_QUEUED = 8
"""Requests waiting for or running in the chain reader; more are refused with 503."""
MAX_BODY_BYTES = 1024 * 1024
WAIT_SECONDS = 60.0
"""A request waits this long for its answer (it queues behind others), then gets 503."""


class RpcGate:
    """One thread that hands batches to the chain reader, and a bound on the queue."""

    def __init__(self, reader: ReadOnlyRpc, max_queued: int = MAX_QUEUED) -> None:
        self.reader = reader
        self.max_queued = max_queued
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chain-rpc")
        self._lock = threading.Lock()
        self._queued = 0

    def submit(self, calls: list[Any]) -> Future[list[dict[str, Any]]] | None:
        """The batch's answers to come, or None when the queue is full."""
        with self._lock:
            if self._queued >= self.max_queued:
                return None
            self._queued += 1
        future = self._executor.submit(self.reader.answer, calls)
        future.add_done_callback(self._done)
        return future

    def _done(self, _future: Future[list[dict[str, Any]]]) -> None:
        with self._lock:
            self._queued -= 1

    def close(self) -> None:
        """Drop what waits, stop the reader's process: a stopping server ends at once."""
        self._executor.shutdown(wait=False, cancel_futures=True)
        self.reader.close()


def close_gate(app: Any) -> None:
    """At shutdown: the app's gate, if a request ever made one."""
    gate: RpcGate | None = getattr(app.state, "chain_rpc_gate", None)
    if gate is not None:
        gate.close()


_GATE_LOCK = threading.Lock()


def _gate(request: Request, platform: Platform) -> RpcGate:
    """The app's gate, made on first use (its reader starts with the first call)."""
    state = request.app.state
    with _GATE_LOCK:
        gate: RpcGate | None = getattr(state, "chain_rpc_gate", None)
        if gate is None:
            journal = platform.settings.data_dir / EMBEDDED_JOURNAL
            reader = ReadOnlyRpc(journal.resolve(), gas_limit=platform.settings.anchor_gas_limit)
            gate = state.chain_rpc_gate = RpcGate(reader)
        return gate


def _busy(message: str, retry_after: int) -> JSONResponse:
    return JSONResponse(
        rpc_error(None, LIMIT_EXCEEDED, message),
        status_code=503,
        headers={"Retry-After": str(retry_after)},
    )


@router.post("/rpc")
async def rpc(request: Request, platform: PlatformDep) -> JSONResponse:
    """Read-only JSON-RPC 2.0 (single or batch of up to 20): eth_chainId, eth_blockNumber,
    eth_call, eth_getTransactionReceipt, eth_getTransactionByHash, eth_getBlockByNumber,
    eth_getLogs. An ``eth_call`` runs with at most 1,000,000 gas (a larger ``gas`` is
    lowered to it) and 5 s of processor time, a batch with 3,000,000 gas in all; 503 with
    ``Retry-After`` when too many requests wait."""
    if platform.settings.chain != "embedded":
        raise Conflict(
            f"this deployment anchors on the {platform.settings.chain} chain at its own RPC; "
            "the local read-only endpoint only serves the embedded chain"
        )
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        return JSONResponse(
            rpc_error(None, -32600, f"the request is {len(body)} bytes; at most {MAX_BODY_BYTES}")
        )
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):
        return JSONResponse(rpc_error(None, -32700, "parse error: the body is not JSON we accept"))
    calls = payload if isinstance(payload, list) else [payload]
    if not calls or len(calls) > MAX_BATCH_CALLS:
        return JSONResponse(rpc_error(None, -32600, f"send between 1 and {MAX_BATCH_CALLS} calls"))
    await asyncio.to_thread(lambda: platform.embedded_chain)  # deployed before it is read
    future = _gate(request, platform).submit(calls)
    if future is None:
        return _busy("the chain endpoint is busy: try again in a second", 1)
    try:
        answers = await asyncio.wait_for(asyncio.wrap_future(future), WAIT_SECONDS)
    except TimeoutError:
        return _busy(f"no answer within {WAIT_SECONDS:.0f} s: the chain endpoint is busy", 5)
    return JSONResponse(answers if isinstance(payload, list) else answers[0])
