"""Chain faults: the Hardhat node stops answering for a while, and a reorg drops an anchor.

A Hardhat node keeps its chain in memory, so a node that is killed and started
again has lost every anchor. "Stopped for a while" is therefore SIGSTOP on the
node's process group (it stops answering JSON-RPC, requests hang) and SIGCONT
later (it answers again with its chain intact). The test runs its own node on a
free port so the session's node is not disturbed.

Meanwhile readings keep arriving over HTTP: anchoring must resume afterwards
and lose nothing, and ``sunledger_anchor_lag_events`` / ``_seconds`` in
``GET /metrics`` must grow while the node is stopped and be 0 once it caught
up. Then ``evm_snapshot``, an anchor, ``evm_revert``: the real worker process
notices the dropped anchor (anchors wait for 3 confirmations before they are
final) and anchors again what the reorg removed: each size at most once on chain,
the last one the log's size; an anchor the reorg dropped may instead end ``failed``
as superseded when a larger one covering it reached the chain first.

``SUNLEDGER_RELIABILITY=full`` stops the node for 60 s; the default for 6 s.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from deployment_kit import (
    Acknowledged,
    Processes,
    anchored_sizes,
    api_ready,
    bootstrap,
    http_readings,
    metric,
    private_schema,
    register_tenant,
    rpc,
    run,
    service_env,
    stored_events,
    wait_until,
)
from local_ports import free_port
from reliability_figures import FULL, record_figure
from sqlalchemy import select

from traceability.chain import hardhat_node
from traceability.chain.contracts import log_id_for
from traceability.storage.db import make_engine, session_factory
from traceability.storage.models import AnchorRow

pytestmark = [pytest.mark.reliability, pytest.mark.slow, pytest.mark.postgres]

PAUSE_SECONDS = 60.0 if FULL else 6.0
CONFIRMATIONS = 3


@pytest.fixture
def own_node(tmp_path: Path) -> Iterator[hardhat_node.RunningNode]:
    """A Hardhat node of this test only, started and stopped by its PID."""
    if not hardhat_node.HARDHAT_BIN.exists():
        pytest.skip(f"{hardhat_node.HARDHAT_BIN} is missing (npm ci)")
    pid_file = tmp_path / "hardhat" / "node.pid"
    node = hardhat_node.start(pid_file, port=free_port())
    try:
        yield node
    finally:
        try:
            os.killpg(node.pid, signal.SIGCONT)  # a stopped process does not act on SIGTERM
        except ProcessLookupError:
            pass
        hardhat_node.stop(pid_file)


@pytest.fixture
def deployment(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    mosquitto: tuple[str, int],
    own_node: hardhat_node.RunningNode,
) -> Iterator[dict[str, str]]:
    with private_schema(postgres_url) as url:
        yield service_env(
            tmp_path,
            url,
            redis_url,
            mosquitto,
            own_node.url,
            anchor_every_events="50",
            anchor_confirmations=str(CONFIRMATIONS),
        )


def lag(url: str) -> tuple[float, float, float]:
    """(lag in events, lag in seconds, anchored tree size) from GET /metrics."""
    text = httpx.get(f"{url}/metrics", timeout=30).text
    return (
        metric(text, "sunledger_anchor_lag_events"),
        metric(text, "sunledger_anchor_lag_seconds"),
        metric(text, "sunledger_anchored_tree_size"),
    )


def test_a_stopped_node_and_a_reorg_lose_nothing(
    deployment: dict[str, str], own_node: hardhat_node.RunningNode, tmp_path: Path
) -> None:
    env, chain = deployment, own_node.url
    bootstrap(env)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    processes = Processes(env, tmp_path)
    engine = make_engine(env["SUNLEDGER_DATABASE_URL"])
    sessions = session_factory(engine)
    ack = Acknowledged()
    stop = threading.Event()
    figures: dict[str, object] = {"pause_seconds": PAUSE_SECONDS}

    def caught_up() -> bool:
        events, seconds, _size = lag(url)
        return events == 0 and seconds == 0

    try:
        processes.start("api", "serve", "--workers", "2", "--port", str(port))
        processes.start("worker", "worker")
        wait_until("the API answering /readyz", lambda: api_ready(url), 90, processes)
        with httpx.Client(base_url=url, timeout=30) as client:
            tenant = register_tenant(client, "rest-chain", "p-chain", devices=1)
        device, key = next(iter(tenant.devices.items()))
        load = threading.Thread(target=http_readings, args=(url, device, key, ack, stop))
        load.start()
        wait_until("a first anchor", lambda: lag(url)[2] > 0, 90, processes)

        # 1. The node stops answering while readings keep arriving.
        os.killpg(own_node.pid, signal.SIGSTOP)
        try:
            time.sleep(1.5)  # answers already on their way have been read by now
            receipts_at_stop = len(ack.receipts)
            first = lag(url)
            time.sleep(PAUSE_SECONDS)
            second = lag(url)
            receipts_in_pause = len(ack.receipts) - receipts_at_stop
        finally:
            os.killpg(own_node.pid, signal.SIGCONT)
        figures["lag_while_stopped"] = {
            "events": [first[0], second[0]],
            "seconds": [round(first[1], 1), round(second[1], 1)],
        }
        figures["receipts_while_stopped"] = receipts_in_pause
        assert receipts_in_pause > 0  # ingest does not wait for the chain
        assert second[2] == first[2]  # nothing anchored while the node was stopped
        assert second[0] > first[0] > 0  # the lag grows while the node is stopped
        assert second[1] > first[1] > 0
        resumed = time.monotonic()
        wait_until("anchoring to resume", lambda: lag(url)[2] > second[2], 120, processes)
        stop.set()
        load.join(timeout=60)
        assert not load.is_alive()
        wait_until("the anchor lag back to 0", caught_up, 120, processes)
        figures["seconds_to_catch_up"] = round(time.monotonic() - resumed, 1)

        # 2. A reorg drops an anchor: snapshot, anchor, revert.
        snapshot = rpc(chain, "evm_snapshot", [])
        stop.clear()
        burst = threading.Thread(
            target=http_readings,
            args=(url, device, key, ack, stop),
            kwargs={"first_seq": 10_000_000},
        )
        burst.start()
        time.sleep(1.0)
        stop.set()
        burst.join(timeout=60)
        wait_until("the new readings anchored", caught_up, 120, processes)
        with sessions() as session:
            dropped = session.execute(
                select(AnchorRow).order_by(AnchorRow.tree_size.desc()).limit(1)
            ).scalar_one()
        assert dropped.status == "confirmed"  # mined, not yet final: a reorg can take it
        log_id = log_id_for(env["SUNLEDGER_LOG_ORIGIN"])
        contract = dropped.contract
        assert dropped.tree_size in dict(anchored_sizes(chain, contract, log_id))
        assert rpc(chain, "evm_revert", [snapshot]) is True
        assert dropped.tree_size not in dict(anchored_sizes(chain, contract, log_id))
        seen_lag = 0.0
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:  # watch the metrics until re-anchored
            events, _seconds, _size = lag(url)
            seen_lag = max(seen_lag, events)
            if dropped.tree_size in dict(anchored_sizes(chain, contract, log_id)) and not events:
                break
            time.sleep(0.1)
        figures["reorg"] = {"tree_size": dropped.tree_size, "max_lag_events_seen": seen_lag}
        wait_until("the dropped anchor anchored again", caught_up, 60, processes)
        with sessions() as session:
            again = session.get(AnchorRow, dropped.id)
            assert again is not None
            assert again.status in ("confirmed", "final")
            assert again.attempts > dropped.attempts  # sent again after the reorg
        rpc(chain, "hardhat_mine", [hex(CONFIRMATIONS + 1)])

        def all_settled() -> bool:
            # Final, or failed because a larger anchor covering it reached the chain first
            # (after a reorg that dropped two anchors, the larger one may be re-sent first).
            with sessions() as session:
                rows = list(session.execute(select(AnchorRow)).scalars())
            final = max((a.tree_size for a in rows if a.status == "final"), default=0)
            return all(
                a.status == "final"
                or (
                    a.status == "failed"
                    and (a.last_error or "").startswith("superseded")
                    and a.tree_size < final
                )
                for a in rows
            )

        try:
            wait_until("every anchor final or superseded", all_settled, 60, processes)
        except AssertionError as exc:
            with sessions() as session:
                rows = [
                    (a.tree_size, a.status, a.tx_hash, a.block_number, a.last_error)
                    for a in session.execute(
                        select(AnchorRow).where(AnchorRow.status != "final")
                    ).scalars()
                ]
            head = rpc(chain, "eth_blockNumber", [])
            raise AssertionError(f"not final: {rows}; head {head}") from exc
    finally:
        stop.set()
        processes.stop()

    stored = stored_events(sessions)
    lost = [e for e, promised in ack.receipts.items() if stored.get(e) != promised]
    with sessions() as session:
        anchors = list(session.execute(select(AnchorRow)).scalars())
    engine.dispose()
    on_chain = anchored_sizes(chain, contract, log_id)
    sizes = [size for size, _root in on_chain]
    by_size = {a.tree_size: a for a in anchors}
    figures.update(
        receipts=len(ack.receipts),
        lost=len(lost),
        unacknowledged_attempts=dict(ack.refused),
        log_size=len(stored),
        anchors_on_chain=len(sizes),
        anchor_rows_by_status=dict(Counter(a.status for a in anchors)),
    )
    record_figure("chain_faults", figures)
    assert lost == []
    assert len(sizes) == len(set(sizes)), Counter(sizes).most_common(3)
    assert sizes[-1] == len(stored)
    for size, root in on_chain:
        assert by_size[size].root_hash == root
    audited = run(env, "audit", "--rpc", chain)
    assert audited.returncode == 0, audited.stdout + audited.stderr
