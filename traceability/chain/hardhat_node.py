"""A local Hardhat node, started and stopped by PID (never through npx, never by name)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from traceability.chain.contracts import HARDHAT_DIR
from traceability.errors import Conflict, Invalid

HARDHAT_BIN = HARDHAT_DIR / "node_modules" / ".bin" / "hardhat"


@dataclass(frozen=True)
class RunningNode:
    pid: int
    url: str
    log_file: Path


def _answers(url: str, timeout: float = 1.0) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return "result" in json.loads(response.read())
    except (OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start(pid_file: Path, *, port: int = 8545, wait: float = 60.0) -> RunningNode:
    """Start ``hardhat node`` on 127.0.0.1:port and wait until it answers JSON-RPC."""
    if not HARDHAT_BIN.exists():
        raise Invalid(f"{HARDHAT_BIN} is missing: run `cd hardhat_local && npm ci`")
    url = f"http://127.0.0.1:{port}"
    if pid_file.exists():
        known = int(pid_file.read_text().split()[0])
        if _alive(known):
            raise Conflict(f"a Hardhat node started by us already runs (PID {known})")
        pid_file.unlink()
    if _answers(url):
        raise Conflict(f"something already answers JSON-RPC at {url}")
    log_file = pid_file.with_suffix(".log")
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        process = subprocess.Popen(
            [str(HARDHAT_BIN), "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=HARDHAT_DIR,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    pid_file.write_text(f"{process.pid} {url}\n")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file.unlink(missing_ok=True)
            raise Invalid(f"hardhat node exited with {process.returncode}; see {log_file}")
        if _answers(url):
            return RunningNode(process.pid, url, log_file)
        time.sleep(0.2)
    stop_pid(process.pid)
    pid_file.unlink(missing_ok=True)
    raise Invalid(f"hardhat node did not answer at {url} within {wait:.0f} s; see {log_file}")


def stop_pid(pid: int, *, wait: float = 15.0) -> None:
    """Stop one process by its PID: SIGTERM, then SIGKILL if it lingers."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            finished, _status = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return
        except ChildProcessError:
            if not _alive(pid):
                return
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def stop(pid_file: Path) -> int | None:
    """Stop the node recorded in ``pid_file``; return its PID, or None if none ran."""
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    stop_pid(pid)
    pid_file.unlink(missing_ok=True)
    return pid
