"""The embedded chain's read-only JSON-RPC, answered in a process of its own.

Anyone may call it, and ``eth_call`` runs the caller's code on py-evm, which holds
the interpreter while it runs and cannot be interrupted from outside. So the calls
are answered by a child process (``python -m traceability.chain.read_only_rpc
JOURNAL``) with its own copy of the chain, replayed from the journal like every
other process's: the server's interpreter never runs a caller's code. Each call's
gas is capped (``CALL_GAS_CAP``); a batch has at most ``MAX_BATCH_CALLS`` calls and
``BATCH_GAS_BUDGET`` gas in all; a call that has used ``CALL_SECONDS`` of processor
time, or has not answered after ``CALL_WALL_SECONDS``, gets an error, and its process
is killed (a new one starts for the next call).

The limit counts the child's processor time, not the time on the clock: the child runs
at nice 19 so the server's own work comes first, and on a busy machine it may wait many
seconds for a core while doing next to nothing. A clock limit then stopped honest reads
(and paid for a new child replaying the journal); what the limit is for, a caller's code
holding the chain, is processor time. The clock limit stays, longer, for a child that
hangs without working.

The protocol between the two is one JSON object per line: the child says
``{"ready": true}`` once its chain is replayed, then answers each
``{"method", "params"}`` with ``{"result"}`` or ``{"error": {"code", "message"}}``.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from traceability.chain.embedded import CALL_GAS_CAP, call_gas, embedded_chain
from traceability.errors import Invalid, SunledgerError

MAX_BATCH_CALLS = 20
BATCH_GAS_BUDGET = 3 * CALL_GAS_CAP
"""Gas of all the ``eth_call`` of one batch, each counted at the gas it runs with."""
CALL_SECONDS = 5.0
"""A call that has used this much processor time is stopped (its process killed)."""
CALL_WALL_SECONDS = 60.0
"""A call not answered after this long on the clock is stopped too (a child that hangs,
or one starved of the processor for a minute)."""
POLL_SECONDS = 0.1
"""How often a waiting call's processor time is looked at."""
START_SECONDS = 120.0
"""Starting the child and replaying a long journal may take this long."""
CHILD_NICENESS = 19
LIMIT_EXCEEDED = -32005
SERVER_ERROR = -32000


def rpc_error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


class ReadOnlyRpc:
    """Answers JSON-RPC calls through the child process; one batch at a time (callers
    queue on a lock). Blocking: call it from a thread, never from an event loop."""

    def __init__(
        self,
        journal: Path,
        *,
        gas_limit: int = 150_000,
        call_seconds: float = CALL_SECONDS,
        call_wall_seconds: float = CALL_WALL_SECONDS,
    ) -> None:
        self.journal = journal
        self.gas_limit = gas_limit
        self.call_seconds = call_seconds
        self.call_wall_seconds = call_wall_seconds
        self._lock = threading.Lock()
        self._child: subprocess.Popen[bytes] | None = None
        self._pending = b""
        self._closed = False
        self.restarts = 0
        """How many times a child was killed for running too long (or died)."""

    def answer(self, calls: list[Any]) -> list[dict[str, Any]]:
        """Each call's JSON-RPC answer, in order."""
        with self._lock:
            answers = []
            gas_left = BATCH_GAS_BUDGET
            for call in calls[:MAX_BATCH_CALLS]:
                answer, gas_left = self._one(call, gas_left)
                answers.append(answer)
            for call in calls[MAX_BATCH_CALLS:]:
                request_id = call.get("id") if isinstance(call, dict) else None
                answers.append(
                    rpc_error(request_id, LIMIT_EXCEEDED, f"at most {MAX_BATCH_CALLS} per batch")
                )
            return answers

    def _one(self, call: Any, gas_left: int) -> tuple[dict[str, Any], int]:
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return rpc_error(None, -32600, "invalid request: no method"), gas_left
        request_id = call.get("id")
        method: str = call["method"]
        params = call.get("params", [])
        if not isinstance(params, list):
            return rpc_error(request_id, -32602, "params must be a list"), gas_left
        if method == "eth_call":
            try:
                gas = call_gas(params)
            except Invalid as exc:
                return rpc_error(request_id, -32602, exc.detail), gas_left
            if gas > gas_left:
                message = (
                    f"this batch has spent its gas budget of {BATCH_GAS_BUDGET:,} ({gas_left:,} "
                    f"left, the call runs with {gas:,}): send it in another request"
                )
                return rpc_error(request_id, LIMIT_EXCEEDED, message), gas_left
            gas_left -= gas
        reply = self._ask({"method": method, "params": params})
        if "error" in reply:
            return {"jsonrpc": "2.0", "id": request_id, "error": reply["error"]}, gas_left
        return {"jsonrpc": "2.0", "id": request_id, "result": reply["result"]}, gas_left

    # -- the child process -------------------------------------------------------------

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        try:
            child = self._started()
        except OSError as exc:
            return {"error": {"code": SERVER_ERROR, "message": f"the chain reader: {exc}"}}
        if child is None:
            return {"error": {"code": SERVER_ERROR, "message": "the chain reader did not start"}}
        assert child.stdin is not None
        began_cpu = _cpu_seconds(child.pid)
        try:
            child.stdin.write(json.dumps(message).encode() + b"\n")
            child.stdin.flush()
        except OSError:
            self.stop()
            return {"error": {"code": SERVER_ERROR, "message": "the chain reader stopped"}}
        line, over = self._answer_line(child, began_cpu)
        if line is None:
            died = child.poll()
            self.stop()
            self.restarts += 1
            if died is not None or over is None:
                status = "" if died is None else f" (exit status {died})"
                return {
                    "error": {
                        "code": SERVER_ERROR,
                        "message": f"the chain reader stopped{status} during {message['method']}",
                    }
                }
            return {
                "error": {
                    "code": LIMIT_EXCEEDED,
                    "message": f"{message['method']} {over} and was stopped",
                }
            }
        try:
            reply: dict[str, Any] = json.loads(line)
        except ValueError:
            self.stop()
            return {"error": {"code": SERVER_ERROR, "message": "the chain reader answered garbage"}}
        return reply

    def _started(self) -> subprocess.Popen[bytes] | None:
        if self._child is not None and self._child.poll() is None:
            return self._child
        self.stop()
        if self._closed:
            return None
        command = [sys.executable, "-m", "traceability.chain.read_only_rpc"]
        command += [str(self.journal), str(self.gas_limit)]
        child = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self._child, self._pending = child, b""
        try:
            ready = self._read_line(child, START_SECONDS)
        except EOFError:
            ready = None
        if ready is None or not json.loads(ready).get("ready"):
            self.stop()
            return None
        return child

    def _answer_line(
        self, child: subprocess.Popen[bytes], began_cpu: float | None
    ) -> tuple[bytes | None, str | None]:
        """The child's answer; or None and which limit the call went over (None when the
        child died instead). ``began_cpu``: the child's processor time before the call."""
        # Without /proc (not Linux) the clock is all there is: the old limit, on it.
        wall = self.call_wall_seconds if began_cpu is not None else self.call_seconds
        deadline = time.monotonic() + wall
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None, f"had no answer after {wall:g} s"
            try:
                line = self._read_line(child, min(POLL_SECONDS, left))
            except EOFError:
                return None, None
            if line is not None:
                return line, None
            if began_cpu is None:
                continue
            used = _cpu_seconds(child.pid)
            if used is None:
                return None, None  # the child is gone, its /proc entry with it
            if used - began_cpu >= self.call_seconds:
                return None, f"used more than {self.call_seconds:g} s of processor time"

    def _read_line(self, child: subprocess.Popen[bytes], seconds: float) -> bytes | None:
        """The child's next line, or None when it does not come within ``seconds``;
        ``EOFError`` when the child closed its output (it died)."""
        assert child.stdout is not None
        fd = child.stdout.fileno()
        deadline = time.monotonic() + seconds
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._pending:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise EOFError
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line

    def close(self) -> None:
        """Stop the child for good: later calls get an error (the server is stopping)."""
        self._closed = True
        self.stop()

    def stop(self) -> None:
        """Kill the child (by its PID) if it runs."""
        child, self._child = self._child, None
        if child is None:
            return
        if child.poll() is None:
            child.kill()
        child.wait(timeout=30)
        for stream in (child.stdin, child.stdout):
            if stream is not None:
                stream.close()


_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float | None:
    """Processor time (user and system) the process has used, from ``/proc/PID/stat``;
    None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # after "pid (comm)": field 3 is fields[0]
    return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND  # utime, stime


def _serve(journal: Path, gas_limit: int, replies: IO[bytes]) -> None:
    chain = embedded_chain(journal, gas_limit=gas_limit)

    def send(reply: dict[str, Any]) -> None:
        replies.write(json.dumps(reply).encode() + b"\n")
        replies.flush()

    send({"ready": True})
    for line in sys.stdin.buffer:
        message = json.loads(line)
        method = message["method"]
        try:
            send({"result": chain.rpc(method, message["params"])})
        except Invalid as exc:
            code = -32601 if "not served" in exc.detail else SERVER_ERROR
            send({"error": {"code": code, "message": exc.detail}})
        except SunledgerError as exc:
            send({"error": {"code": SERVER_ERROR, "message": exc.detail}})
        except Exception as exc:  # eth-tester's own errors: odd params, out of gas, reverts
            send({"error": {"code": -32602, "message": f"{method}: {str(exc)[:300]}"}})


if __name__ == "__main__":
    os.nice(CHILD_NICENESS)  # the server's own work comes first when the cores are busy
    protocol = sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing printed by a library may garble the protocol
    _serve(Path(sys.argv[1]), int(sys.argv[2]), protocol)
