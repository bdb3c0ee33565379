"""The ``sunledger`` command as a user runs it: a real process, exit codes and messages."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from local_ports import free_port

from traceability import merkle
from traceability.transparency.checkpoints import read_signer_key_file, verify_checkpoint
from traceability.transparency.receipts import verify_receipt

SUNLEDGER = str(Path(sys.executable).parent / "sunledger")


def sunledger(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    return subprocess.run(
        [SUNLEDGER, *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**base, **(env or {})},
    )


def event(seq: int, **extra: Any) -> str:
    return json.dumps(
        {
            "id": f"00000000-0000-4000-8000-{seq:012d}",
            "kind": "probe_reading",
            "subject": "device:fr-0042",
            "occurred_at": "2026-11-25T10:00:00Z",
            "payload": {
                "device_id": "fr-0042",
                "seq": seq,
                "measured_at": "2026-11-25T10:00:00Z",
                "values": [{"type": "Temperature", "value": 4.0, "uom": "CEL"}],
            },
            **extra,
        }
    )


def test_keys_generate_writes_a_private_file_and_refuses_to_overwrite(tmp_path: Path) -> None:
    key = tmp_path / "log.key"
    done = sunledger("keys", "generate", "--out", str(key), "--name", "city-log")
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    signer = read_signer_key_file(key)
    assert done.stdout.strip() == signer.verifier_key()
    again = sunledger("keys", "generate", "--out", str(key))
    assert again.returncode == 2
    assert "already exists" in again.stderr
    assert read_signer_key_file(key).verifier_key() == signer.verifier_key()


def test_log_append_then_checkpoint(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(event(i) for i in range(1200)) + "\n")
    receipts = tmp_path / "receipts.jsonl"
    data = tmp_path / "data"
    done = sunledger(
        "log", "append", str(events), "--data-dir", str(data), "--receipts", str(receipts)
    )
    assert done.returncode == 0, done.stderr
    assert "1200 new events appended" in done.stderr
    signer = read_signer_key_file(data / "log-signing.key")
    lines = [json.loads(line) for line in receipts.read_text().splitlines()]
    assert [verify_receipt(r, signer.verifier()).leaf_index for r in lines] == list(range(1200))

    rerun = sunledger("log", "append", str(events), "--data-dir", str(data))
    assert rerun.returncode == 0
    assert "0 new events appended, 1200 already logged" in rerun.stderr

    note = sunledger("log", "checkpoint", "--data-dir", str(data))
    assert note.returncode == 0
    checkpoint = verify_checkpoint(note.stdout, signer.verifier(), origin="sunledger.local/log")
    assert checkpoint.tree_size == 1200
    leaves = [bytes.fromhex(r["leaf_hash"]) for r in lines]
    assert checkpoint.root_hash == merkle.root(leaves)


def test_a_bad_line_stores_nothing_and_names_the_line(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    bad = json.loads(event(3))
    bad["payload"]["seq"] = -1
    events.write_text("\n".join([event(1), event(2), "", json.dumps(bad), event(4)]) + "\n")
    data = tmp_path / "data"
    done = sunledger("log", "append", str(events), "--data-dir", str(data))
    assert done.returncode == 2
    assert f"{events}:4:" in done.stderr and "seq" in done.stderr
    assert not (data / "sunledger.db").exists()

    events.write_text(event(1) + "\n{not json\n")
    done = sunledger("log", "append", str(events), "--data-dir", str(data))
    assert done.returncode == 2
    assert f"{events}:2: not JSON" in done.stderr

    done = sunledger("log", "append", str(tmp_path / "missing.jsonl"), "--data-dir", str(data))
    assert done.returncode == 2 and "no such file" in done.stderr


def test_invalid_settings_are_named(tmp_path: Path) -> None:
    done = sunledger(
        "log", "checkpoint", env={"SUNLEDGER_DATABASE_URL": "mysql://root@localhost/db"}
    )
    assert done.returncode == 2
    assert "SUNLEDGER_DATABASE_URL" in done.stderr
    missing_key = sunledger(
        "log",
        "checkpoint",
        env={
            "SUNLEDGER_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:1/none",
            "SUNLEDGER_SIGNING_KEY_FILE": str(tmp_path / "nope.key"),
        },
    )
    assert missing_key.returncode == 2
    assert "nope.key does not exist" in missing_key.stderr
    assert "SUNLEDGER_SIGNING_KEY_FILE" in missing_key.stderr


def test_serve_answers_and_stops_by_pid(tmp_path: Path) -> None:
    appended = tmp_path / "e.jsonl"
    appended.write_text(event(1) + "\n")
    assert sunledger("log", "append", str(appended), "--data-dir", str(tmp_path)).returncode == 0
    port = free_port()
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    proc = subprocess.Popen(
        [SUNLEDGER, "serve", "--data-dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=base,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and body is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    body = json.loads(r.read())
            except OSError:
                time.sleep(0.2)
        assert body == {"status": "ok", "log_size": 1, "origin": "sunledger.local/log"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/log/checkpoint") as r:
            assert r.read().decode().startswith("sunledger.local/log\n1\n")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@pytest.mark.parametrize("argument", ["--help", "log --help"])
def test_help(argument: str) -> None:
    done = sunledger(*argument.split())
    assert done.returncode == 0
    assert "Usage" in done.stdout


def test_verify_needs_only_the_bundle_and_the_key(tmp_path: Path) -> None:
    """No database, no data directory: exit codes name the failed check."""
    data = tmp_path / "data"
    events = tmp_path / "e.jsonl"
    events.write_text(event(1) + "\n" + event(2) + "\n")
    assert sunledger("log", "append", str(events), "--data-dir", str(data)).returncode == 0
    bundle_file = tmp_path / "bundle.json"
    exported = sunledger(
        "proof",
        "00000000-0000-4000-8000-000000000001",
        "--data-dir",
        str(data),
        "--out",
        str(bundle_file),
    )
    assert exported.returncode == 0, exported.stderr
    key = read_signer_key_file(data / "log-signing.key").verifier_key()
    home = tmp_path / "home"
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / "share")}

    shown = sunledger("trust", "show", "--data-dir", str(data))
    assert shown.returncode == 0, shown.stderr
    trust = json.loads(shown.stdout)
    assert trust["format"] == "sunledger-trust/1" and trust["log"]["public_key"] == key
    pins = ["--contract", trust["chain"]["contract"], "--chain-id", str(trust["chain"]["chain_id"])]
    unpinned = sunledger("verify", str(bundle_file), "--public-key", key, env=env)
    assert unpinned.returncode == 2 and "--contract, --chain-id" in unpinned.stderr
    trust_file = tmp_path / "trust.json"
    trust_file.write_text(shown.stdout)
    both = sunledger("verify", str(bundle_file), "--trust", str(trust_file), *pins, env=env)
    assert both.returncode == 2 and "not both" in both.stderr
    bad_trust = tmp_path / "bad-trust.json"
    bad_trust.write_text(json.dumps({**trust, "chain": {**trust["chain"], "chain_id": "x"}}))
    refused = sunledger("verify", str(bundle_file), "--trust", str(bad_trust), env=env)
    assert refused.returncode == 2 and "chain.chain_id" in refused.stderr
    by_file = sunledger("verify", str(bundle_file), "--trust", str(trust_file), env=env)
    assert by_file.returncode == 13 and "✓ anchor_pinned" in by_file.stdout, by_file.stdout
    other_contract = sunledger(
        "verify", str(bundle_file), "--public-key", key, "--contract", "0x" + "ab" * 20,
        "--chain-id", str(trust["chain"]["chain_id"]), env=env,
    )  # fmt: skip
    assert other_contract.returncode == 14 and "anchor_pinned" in other_contract.stderr

    no_chain = sunledger("verify", str(bundle_file), "--public-key", key, *pins, env=env)
    assert no_chain.returncode == 13, no_chain.stdout
    assert "✓ inclusion_proof" in no_chain.stdout and "no chain RPC" in no_chain.stdout

    bundle = json.loads(bundle_file.read_text())
    bundle["event"]["payload"]["seq"] = 99
    bundle_file.write_text(json.dumps(bundle))
    tampered = sunledger("verify", str(bundle_file), "--public-key", key, *pins, env=env)
    assert tampered.returncode == 4
    assert "leaf_hash" in tampered.stderr

    fresh = sunledger(
        "proof",
        "00000000-0000-4000-8000-000000000001",
        "--data-dir",
        str(data),
        "--out",
        str(bundle_file),
    )
    assert fresh.returncode == 0
    other = sunledger("keys", "generate", "--out", str(tmp_path / "other.key")).stdout.strip()
    wrong_key = sunledger("verify", str(bundle_file), "--public-key", other, *pins, env=env)
    assert wrong_key.returncode == 5
    assert "checkpoint_signature" in wrong_key.stderr
    assert not home.exists()  # nothing was created on the verifier's machine


def test_read_only_commands_create_nothing_and_name_what_is_missing(tmp_path: Path) -> None:
    """An auditor who mistypes the data directory is told so: no `ok 0 events`, no new
    database or signing key."""
    missing = tmp_path / "no-such-dir"
    for args in (
        ("audit", "--no-chain"),
        ("proof", "00000000-0000-4000-8000-000000000001"),
        ("log", "checkpoint"),
    ):
        done = sunledger(*args, "--data-dir", str(missing))
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"the data directory {missing} does not exist" in done.stderr, done.stderr
        assert "ok" not in done.stdout
        assert not missing.exists(), args

    empty = tmp_path / "empty"
    empty.mkdir()
    done = sunledger("audit", "--no-chain", "--data-dir", str(empty))
    assert done.returncode == 2
    assert f"there is no database {empty / 'sunledger.db'}" in done.stderr
    assert sorted(empty.iterdir()) == []

    # A log that exists but holds no event: the audit has nothing to vouch for.
    (tmp_path / "none.jsonl").write_text("")
    made = sunledger("log", "append", str(tmp_path / "none.jsonl"), "--data-dir", str(empty))
    assert made.returncode == 0, made.stderr
    done = sunledger("audit", "--no-chain", "--data-dir", str(empty))
    assert done.returncode == 2, done.stdout
    assert "is empty (tree size 0): there is nothing to audit" in done.stderr
    assert "ok" not in done.stdout

    # Another data directory's key file named by the settings, missing: named too.
    env = {"SUNLEDGER_SIGNING_KEY_FILE": str(tmp_path / "elsewhere.key")}
    done = sunledger("audit", "--no-chain", "--data-dir", str(empty), env=env)
    assert done.returncode == 2
    assert f"signing key file {tmp_path / 'elsewhere.key'} does not exist" in done.stderr
    assert not (tmp_path / "elsewhere.key").exists()


def test_audit_of_a_real_log_still_passes(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(event(i) for i in range(30)) + "\n")
    data = tmp_path / "data"
    done = sunledger("log", "append", str(events), "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    done = sunledger("audit", "--no-chain", "--data-dir", str(data))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok 30 events re-hashed"), done.stdout
