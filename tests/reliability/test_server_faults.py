"""Server faults of issue 15, against a real ``sunledger serve`` (uvicorn) on 127.0.0.1.

- Read-your-writes: an admin write's 201 arrives only after its commit, so the
  next request (on another connection, in another server process) sees it.
- The embedded chain's read-only JSON-RPC: hostile ``eth_call`` (infinite loops,
  huge gas, full batches) never stalls the API: ``/healthz`` answers meanwhile.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
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

    start.started = started  # type: ignore[attr-defined]
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


INFINITE_LOOP = "0x5b600056"  # JUMPDEST PUSH1 0 JUMP
JUMPDEST_SLED = "0x" + "5b" * 20_000 + "600056"  # the most opcodes per unit of gas
HUGE_GAS = "0xffffffffffff"


def hostile_request(index: int) -> Any:
    """Twenty kinds of abuse: infinite loops with no gas named, with huge gas, a JUMPDEST
    sled, and full batches of them."""

    def call(n: int, data: str, gas: str | None) -> dict[str, Any]:
        params: dict[str, Any] = {"data": data}
        if gas is not None:
            params["gas"] = gas
        return {"jsonrpc": "2.0", "id": n, "method": "eth_call", "params": [params, "latest"]}

    kind = index % 4
    if kind == 0:
        return call(index, INFINITE_LOOP, None)
    if kind == 1:
        return call(index, INFINITE_LOOP, HUGE_GAS)
    if kind == 2:
        return call(index, JUMPDEST_SLED, HUGE_GAS)
    return [call(n, INFINITE_LOOP, HUGE_GAS) for n in range(20)]


def test_hostile_eth_calls_never_stall_the_api(serve: Any, tmp_path: Path) -> None:
    """20 hostile JSON-RPC requests at once against a single server process while
    ``/healthz`` is polled: its p99 stays under 100 ms, every hostile call gets an error
    it can read (out of gas, batch budget spent, or 503 busy), and the endpoint still
    answers honest calls afterwards."""
    base = serve(server_env(tmp_path), workers=1)
    rpc_url = f"{base}/v1/chain/rpc"
    warm = httpx.post(
        rpc_url, json={"jsonrpc": "2.0", "id": 0, "method": "eth_chainId"}, timeout=90
    )
    assert warm.status_code == 200 and "result" in warm.json(), warm.text

    def p99_of(samples: list[float]) -> float:
        ordered = sorted(samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    quiet: list[float] = []  # the same polling with no attack: the machine's own noise
    with httpx.Client(base_url=base, timeout=10) as http:
        for _ in range(100):
            begun = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            quiet.append(time.perf_counter() - begun)
            time.sleep(0.02)

    hostile = 20
    outcomes: list[tuple[int, Any]] = []
    lock = threading.Lock()
    started = threading.Barrier(hostile + 1)

    def attacker(index: int) -> None:
        started.wait(timeout=30)
        answer = httpx.post(rpc_url, json=hostile_request(index), timeout=120)
        with lock:
            outcomes.append((answer.status_code, answer.json()))

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(hostile)]
    for thread in threads:
        thread.start()
    started.wait(timeout=30)
    samples: list[float] = []
    answered_under_attack = 0  # /healthz answers that came back while hostile calls ran
    with httpx.Client(base_url=base, timeout=10) as http:
        for _ in range(2_000):  # bounded: the attack is over long before
            begun = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            samples.append(time.perf_counter() - begun)
            under_attack = any(thread.is_alive() for thread in threads)
            answered_under_attack += under_attack
            if not under_attack and len(samples) >= 100:
                break
            time.sleep(0.02)
    attack_over = not any(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(timeout=120)

    errors: Counter[str] = Counter()
    for status, body in outcomes:
        answers = body if isinstance(body, list) else [body]
        for answer in answers:
            assert "error" in answer and "result" not in answer, (status, answer)
            message = answer["error"]["message"]
            if status == 503:
                errors["503 busy"] += 1
            elif "Out of gas" in message or "gas cannot be negative" in message:
                errors["out of gas"] += 1
            elif "gas budget" in message:
                errors["batch gas budget spent"] += 1
            elif "and was stopped" in message:
                errors["stopped at its time limit"] += 1
            else:
                errors[message[:60]] += 1
    p99 = p99_of(samples)
    samples.sort()
    honest = httpx.post(rpc_url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber"})
    record_figure(
        "chain_rpc_hostile_calls",
        {
            "hostile_requests": hostile,
            "healthz_samples": len(samples),
            "healthz_p50_ms": round(samples[len(samples) // 2] * 1000, 1),
            "healthz_p99_ms": round(p99 * 1000, 1),
            "healthz_max_ms": round(samples[-1] * 1000, 1),
            "healthz_p99_ms_without_attack": round(p99_of(quiet) * 1000, 1),
            "attack_over_while_polling": attack_over,
            "healthz_answered_under_attack": answered_under_attack,
            "hostile_answers": dict(errors),
        },
    )
    assert len(outcomes) == hostile
    assert set(errors) <= {
        "503 busy",
        "out of gas",
        "batch gas budget spent",
        "stopped at its time limit",
    }, errors
    # Not stalled: /healthz kept answering while the hostile calls were still running (a
    # server running them on its event loop answers at most once per finished call).
    assert answered_under_attack >= 2 * hostile, answered_under_attack
    if FULL:  # the latency target, asserted only in `make reliability`: make test
        # runs beside other jobs and asserts no durations (the figure is recorded above)
        assert p99 < 0.100, f"/healthz p99 {p99 * 1000:.1f} ms while hostile calls ran"
    assert honest.status_code == 200 and "result" in honest.json(), honest.text


LOT_CODES = ("L/2026/11", "A/qr.svg", "50% off?#1", "批次/1", "/", "a//b")


def test_lot_codes_with_slashes_have_working_pages_and_qr_codes(serve: Any, tmp_path: Path) -> None:
    """GS1 AI 10 allows '/' (and '%', '?', ...): such a lot, recorded through the API of a
    real server, answers at its percent-encoded Digital Link path, as JSON, as the lot
    page and as a QR code pointing there; the public record links to it."""
    from urllib.parse import quote

    from deployment_kit import register_tenant

    base = serve(server_env(tmp_path), workers=1)
    day = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    gtin = "06912345678902"
    with httpx.Client(base_url=base, timeout=60) as http:
        tenant = register_tenant(http, "o-lots", "p-lots", devices=0)
        for lot in LOT_CODES:
            record = {
                "date": day,
                "supplier": "Green Farm Co",
                "supplier_licence": "SC11111111111",
                "supplier_certificate_expiry": "2030-01-01",
                "product": "Pork belly",
                "gtin": gtin,
                "lot_code": lot,
                "quantity": 12.5,
                "unit": "kg",
                "receiver": "Zhang Wei",
            }
            made = http.post(
                "/v1/premises/p-lots/records",
                json={"record_type": "purchase_inspection", "record": record},
                headers=tenant.headers,
            )
            assert made.status_code == 201, (lot, made.text)
        links = {
            i["lot_code"]: i["lot_page"]
            for i in http.get("/v1/public/restaurants/p-lots").json()["ingredients"]
        }
        for lot in LOT_CODES:
            path = f"/01/{gtin}/10/{quote(lot, safe='')}"
            assert links[lot] == path
            answer = http.get(path)
            assert answer.status_code == 200, (lot, answer.text)
            assert answer.json()["lot_code"] == lot and answer.json()["path"] == path
            page = http.get(path, headers={"Accept": "text/html"})
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            qr = http.get(f"{path}/qr.svg", headers={"Accept": "text/html,image/svg+xml"})
            assert qr.status_code == 200 and qr.headers["content-type"] == "image/svg+xml", lot
            assert f"{path}</desc>" in qr.text or f"{path}<" in qr.text, qr.text[:400]
        # An unencoded '/' names no lot: the answer says how to write it.
        bare = http.get(f"/01/{gtin}/10/L/2026/11")
        assert bare.status_code == 404 and "%2F" in bare.json()["detail"]
        for dots in (".", ".."):
            refused = http.post(
                "/v1/premises/p-lots/records",
                json={"record_type": "purchase_inspection", "record": {**record, "lot_code": dots}},
                headers=tenant.headers,
            )
            assert refused.status_code == 422 and "path segment" in refused.text, refused.text
    record_figure("lot_codes_with_slashes", {"lot_codes": len(LOT_CODES), "all_served": True})


def test_sigterm_stops_the_server_while_hostile_calls_queue(serve: Any, tmp_path: Path) -> None:
    """The old endpoint ran py-evm on the event loop and ignored SIGTERM for minutes. Now a
    server with a full queue of hostile batches stops on SIGTERM: queued calls are dropped
    and the chain reader's process (in the server's process group) goes with it."""
    import signal
    import subprocess

    from deployment_kit import group_rss_kib

    env = server_env(tmp_path)
    base = serve(env, workers=1)
    rpc_url = f"{base}/v1/chain/rpc"
    warm = httpx.post(
        rpc_url, json={"jsonrpc": "2.0", "id": 0, "method": "eth_chainId"}, timeout=90
    )
    assert warm.status_code == 200, warm.text

    def attacker(index: int) -> None:
        try:
            httpx.post(rpc_url, json=hostile_request(3 + 4 * index), timeout=120)
        except httpx.HTTPError:
            pass  # the server went away: that is the point

    threads = [threading.Thread(target=attacker, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    server = serve.started[-1].by_name["api"].popen
    for _ in range(100):  # until the reader process is up beside the server (bounded)
        if len(group_rss_kib(server.pid)) >= 2:
            break
        time.sleep(0.1)
    begun = time.monotonic()
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the server did not stop on SIGTERM within 90 s")
    seconds = time.monotonic() - begun
    for thread in threads:
        thread.join(timeout=120)
    left = group_rss_kib(server.pid)
    record_figure(
        "chain_rpc_sigterm", {"queued_hostile_batches": 10, "stop_seconds": round(seconds, 2)}
    )
    assert left == {}, f"processes left in the server's group: {left}"
