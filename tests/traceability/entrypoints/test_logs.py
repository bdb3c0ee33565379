"""Long-running processes log one JSON object per line; `text` is there for terminals."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from local_ports import free_port

from traceability.entrypoints.logs import JsonLines

SUNLEDGER = str(Path(sys.executable).parent / "sunledger")


def test_a_record_becomes_one_json_line_with_its_extras() -> None:
    record = logging.makeLogRecord(
        {"name": "sunledger.api", "levelname": "WARNING", "msg": "anchor %s late", "args": (7,)}
    )
    record.__dict__["tree_size"] = 42
    try:
        raise ValueError("boom")
    except ValueError:
        record.exc_info = sys.exc_info()
    line = JsonLines().format(record)
    assert "\n" not in line.split('"exception"')[0]
    parsed = json.loads(line)
    assert parsed["level"] == "warning" and parsed["logger"] == "sunledger.api"
    assert parsed["message"] == "anchor 7 late" and parsed["tree_size"] == 42
    assert "ValueError: boom" in parsed["exception"] and parsed["time"].endswith("+00:00")


def test_sunledger_serve_logs_json_lines(tmp_path: Path) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    env["SUNLEDGER_DATA_DIR"] = str(tmp_path)
    server = subprocess.Popen(
        [SUNLEDGER, "serve", "--port", str(port)],
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("the server did not answer within 60 s")
    finally:
        server.send_signal(signal.SIGTERM)
        _out, err = server.communicate(timeout=30)
    lines = [line for line in err.splitlines() if line.strip()]
    assert lines, "the server logged nothing"
    parsed = [json.loads(line) for line in lines]  # every line is JSON
    assert any("startup complete" in p["message"].lower() for p in parsed)
    assert {"time", "level", "logger", "message"} <= set(parsed[0])
