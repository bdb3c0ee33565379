"""A missing or invalid setting stops `sunledger serve` / `worker` at start-up, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli import sunledger


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"SUNLEDGER_ANCHOR_CONFIRMATIONS": "abc"}, "SUNLEDGER_ANCHOR_CONFIRMATIONS"),
        ({"SUNLEDGER_CHAIN": "ropsten"}, "SUNLEDGER_CHAIN"),
        ({"SUNLEDGER_CHAIN": "rpc"}, "SUNLEDGER_CHAIN_PRIVATE_KEY"),
        (
            {"SUNLEDGER_CHAIN": "rpc", "SUNLEDGER_CHAIN_KEYSTORE_FILE": "/nonexistent.json"},
            "SUNLEDGER_CHAIN_KEYSTORE_PASSWORD",
        ),
        ({"SUNLEDGER_DATABASE_URL": "mysql://x@y/z"}, "SUNLEDGER_DATABASE_URL"),
        ({"SUNLEDGER_ANCHOR_CONTRACT": "0x1234"}, "SUNLEDGER_ANCHOR_CONTRACT"),
    ],
)
@pytest.mark.parametrize("command", ["serve", "worker"])
def test_start_up_names_the_bad_setting(
    tmp_path: Path, env: dict[str, str], named: str, command: str
) -> None:
    done = sunledger(command, env={"SUNLEDGER_DATA_DIR": str(tmp_path), **env})
    assert done.returncode == 2
    assert "invalid settings" in done.stderr and named in done.stderr
    assert "Traceback" not in done.stderr
