"""A real Celery worker on Redis anchors on a real Hardhat node, with PostgreSQL behind it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from traceability.chain.factory import deploy
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.models import AnchorRow
from traceability.transparency.checkpoints import NoteSigner, write_signer_key_file

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

SUNLEDGER = str(Path(sys.executable).parent / "sunledger")


def events_file(path: Path, start: int, count: int) -> Path:
    lines = [
        json.dumps(
            {
                "id": f"00000000-0000-4000-9000-{i:012d}",
                "kind": "probe_reading",
                "subject": "device:fz-3",
                "occurred_at": "2026-11-25T10:00:00Z",
                "payload": {
                    "device_id": "fz-3",
                    "seq": i,
                    "measured_at": "2026-11-25T10:00:00Z",
                    "values": [{"type": "Temperature", "value": -19.5, "uom": "CEL"}],
                },
            }
        )
        for i in range(start, start + count)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def wait_for_final(sessions: sessionmaker[Session], size: int, seconds: float) -> AnchorRow:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sessions() as session:
            row = session.execute(
                select(AnchorRow).where(AnchorRow.tree_size == size, AnchorRow.status == "final")
            ).scalar_one_or_none()
        if row is not None:
            return row
        time.sleep(0.3)
    raise AssertionError(f"no final anchor of size {size} within {seconds} s")


@pytest.mark.slow
def test_worker_anchors_what_the_cli_appends(
    postgres_url: str, hardhat_url: str, redis_url: str, tmp_path: Path
) -> None:
    broker = redis_url
    redis.Redis.from_url(broker).flushdb()  # our own test database on the local Redis
    key_file = tmp_path / "log.key"
    signer = NoteSigner.generate("worker-test")
    write_signer_key_file(key_file, signer)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    env.update(
        {
            "SUNLEDGER_DATA_DIR": str(tmp_path),
            "SUNLEDGER_DATABASE_URL": postgres_url,
            "SUNLEDGER_SIGNING_KEY_FILE": str(key_file),
            "SUNLEDGER_LOG_ORIGIN": "worker.test/log",
            "SUNLEDGER_CHAIN": "hardhat",
            "SUNLEDGER_CHAIN_RPC_URL": hardhat_url,
            "SUNLEDGER_BROKER_URL": broker,
            "SUNLEDGER_ANCHOR_INTERVAL_SECONDS": "1",
            "SUNLEDGER_ANCHOR_EVERY_EVENTS": "50",
        }
    )
    from sqlalchemy import text

    from traceability.storage.db import make_engine

    engine = make_engine(postgres_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE personal_values, events, log_tiles, checkpoints, log_state, anchors, "
                "chain_deployments CASCADE"
            )
        )
    engine.dispose()
    settings = Settings(
        data_dir=tmp_path,
        database_url=postgres_url,
        signing_key_file=key_file,
        log_origin="worker.test/log",
        chain="hardhat",
        chain_rpc_url=hardhat_url,
    )
    engine, sessions, _log, _signer = open_platform(settings)
    deploy(settings, sessions)

    worker = subprocess.Popen(
        [SUNLEDGER, "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "worker.log", "wb"),
    )
    try:
        appended = subprocess.run(
            [SUNLEDGER, "log", "append", str(events_file(tmp_path / "a.jsonl", 0, 120))],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert appended.returncode == 0, appended.stderr
        row = wait_for_final(sessions, 120, 60)
        assert row.tx_hash is not None
        bundle_file = tmp_path / "bundle.json"
        exported = subprocess.run(
            [SUNLEDGER, "proof", "00000000-0000-4000-9000-000000000077", "--out", str(bundle_file)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert exported.returncode == 0, exported.stderr
        verified = subprocess.run(
            [
                SUNLEDGER,
                "verify",
                str(bundle_file),
                "--public-key",
                signer.verifier_key(),
                "--contract",
                row.contract,
                "--chain-id",
                "31337",
                "--rpc",
                hardhat_url,
            ],
            env={k: v for k, v in env.items() if not k.startswith("SUNLEDGER_")},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "of chain 31337" in verified.stdout
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        engine.dispose()
    log_text = (tmp_path / "worker.log").read_text()
    assert "sunledger.anchor_tick" in log_text
