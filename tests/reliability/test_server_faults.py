"""Server faults of issue 15, against a real ``sunledger serve`` (uvicorn) on 127.0.0.1.

- Read-your-writes: an admin write's 201 arrives only after its commit, so the
  next request (on another connection, in another server process) sees it.
- The embedded chain's read-only JSON-RPC: hostile ``eth_call`` (infinite loops,
  huge gas, full batches) never stalls the API: ``/healthz`` answers meanwhile.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from deployment_kit import ADMIN_TOKEN, Processes, private_schema, run, wait_until
from local_ports import free_port
from reliability_figures import FULL, record_figure

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def server_env(tmp_path: Path, database_url: str | None = None) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    env = {
        **base,
        "SUNLEDGER_DATA_DIR": str(tmp_path / "data"),
        "SUNLEDGER_SIGNING_KEY_FILE": str(tmp_path / "log.key"),
        "SUNLEDGER_ADMIN_TOKEN": ADMIN_TOKEN,
        "SUNLEDGER_LOG_FORMAT": "json",
    }
    if database_url is not None:
        env["SUNLEDGER_DATABASE_URL"] = database_url
    return env


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """Starts ``sunledger serve`` with an environment; yields its base URL; stops it by PID."""
    started: list[Processes] = []

    def start(env: dict[str, str], *, workers: int = 1) -> str:
        made = run(env, "keys", "generate", "--out", env["SUNLEDGER_SIGNING_KEY_FILE"])
        assert made.returncode == 0, made.stderr
        port = free_port()
        processes = Processes(env, tmp_path)
        started.append(processes)
        processes.start(
            "api", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)
        )
        url = f"http://127.0.0.1:{port}"
        wait_until("the API answers /healthz", lambda: healthy(url), 90, processes)
        return url

    yield start
    for processes in started:
        processes.stop()


@pytest.mark.postgres
def test_an_admin_write_is_visible_when_its_201_arrives(
    serve: Any, tmp_path: Path, postgres_url: str
) -> None:
    """Organisation, then at once a premises of it: 600 pairs from 2 concurrent clients on a
    2-process server over PostgreSQL; the premises never meets ``404 no organisation``."""
    pairs = 600 if FULL else 200
    with private_schema(postgres_url) as url:
        base = serve(server_env(tmp_path, url), workers=2)
        answers: Counter[str] = Counter()
        lock = threading.Lock()

        def client(name: str) -> None:
            with httpx.Client(base_url=base, timeout=30, headers=ADMIN) as http:
                for i in range(pairs // 2):
                    org_id = f"o-{name}-{i}"
                    made = http.post(
                        "/v1/admin/orgs",
                        json={"org_id": org_id, "name": f"{org_id} diner", "role": "restaurant"},
                    )
                    assert made.status_code == 201, made.text
                    premises = http.post(
                        "/v1/admin/premises",
                        json={
                            "premises_id": f"p-{name}-{i}",
                            "org_id": org_id,
                            "name": f"{org_id} diner",
                            "kind": "restaurant",
                            "licence_number": f"JY1-{name}-{i}",
                            "licence_issued_on": "2024-01-10",
                            "district": "d1",
                            "address": "1 Commit Rd",
                        },
                    )
                    with lock:
                        answers[str(premises.status_code)] += 1

        threads = [threading.Thread(target=client, args=(name,)) for name in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=600)
    misses = pairs - answers["201"]
    record_figure(
        "admin_read_your_writes",
        {"pairs": pairs, "clients": 2, "workers": 2, "answers": dict(answers), "misses": misses},
    )
    assert answers == Counter({"201": pairs}), answers
