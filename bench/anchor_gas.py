"""Gas of CheckpointAnchor: first and later anchors, per-event versus batched, proof checks.

Usage: python bench/anchor_gas.py [--hardhat] [--events 100] [--batch 10000]

Runs on an in-process eth-tester chain (py-evm) and, with ``--hardhat``, also on a
Hardhat node this script starts itself (``hardhat_local/node_modules/.bin/hardhat node``
on a free port, with a throw-away config file) and stops by its PID at the end.

Everything is measured from receipts (``gasUsed``, the whole transaction's gas):

* the first anchor of a log at tree sizes 1, 10^3, 10^6, 2^40 (each on a fresh log);
* later anchors of one log at the same sizes (after a first anchor at size 1);
* anchoring each event on its own: ``--events`` transactions of consecutive tree sizes
  1, 2, ... (one new event each), gas per event = total gas / events;
* one anchor covering ``--batch`` events, as the first anchor of a log and as a later one
  (gas per event = gas / batch);
* ``eth_estimateGas`` of ``verifyInclusion`` and ``verifyLeaf`` at proof lengths 10, 20 and
  24 (trees of 2^10, 2^20 and 2^24 leaves, with synthetic sibling hashes).

Roots are real RFC 9162 roots where the tree is small enough to build. Results go to
bench/results/anchor_gas.json and the markdown table is printed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, HTTPProvider, Web3
from web3.contract import Contract

from traceability import merkle
from traceability.chain.contracts import load_artifact, log_id_for

REPO = Path(__file__).resolve().parents[1]
HARDHAT_DIR = REPO / "hardhat_local"
HARDHAT_BIN = HARDHAT_DIR / "node_modules" / ".bin" / "hardhat"
RESULTS = REPO / "bench" / "results" / "anchor_gas.json"
SIZES = [1, 1_000, 1_000_000, 2**40]
PROOF_LENGTHS = [10, 20, 24]
POLL = 0.005  # receipt polling; web3's default 0.1 s would dominate on a local node


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- chains


@contextmanager
def eth_tester_chain() -> Iterator[Web3]:
    yield Web3(EthereumTesterProvider(EthereumTester(PyEVMBackend())))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chain_id_answers(url: str) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
    request = urllib.request.Request(
        url, data=body.encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=1) as response:
            return "result" in json.loads(response.read())
    except (OSError, ValueError):
        return False


@contextmanager
def hardhat_chain(timeout: float = 60.0) -> Iterator[Web3]:
    """A Hardhat node started directly (not through npx) and stopped by its PID."""
    if not HARDHAT_BIN.exists():
        raise SystemExit(f"{HARDHAT_BIN} is missing: run `cd hardhat_local && npm ci`")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="sunledger-hardhat-") as tmp:
        # Hardhat refuses to run outside a project; a throw-away config makes one.
        config = Path(tmp) / "hardhat.config.js"
        config.write_text("module.exports = { networks: { hardhat: { chainId: 31337 } } };\n")
        log_file = (Path(tmp) / "node.log").open("w")
        env = {**os.environ, "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true"}
        command = [str(HARDHAT_BIN), "--config", str(config), "node"]
        command += ["--hostname", "127.0.0.1", "--port", str(port)]
        proc = subprocess.Popen(
            command, cwd=HARDHAT_DIR, stdout=log_file, stderr=subprocess.STDOUT, env=env
        )
        try:
            started = time.monotonic()
            while not chain_id_answers(url):
                if proc.poll() is not None:
                    log_file.flush()
                    tail = (Path(tmp) / "node.log").read_text()[-2000:]
                    raise SystemExit(f"hardhat node exited with {proc.returncode}:\n{tail}")
                if time.monotonic() - started > timeout:
                    raise SystemExit(f"hardhat node did not answer on {url} within {timeout} s")
                time.sleep(0.1)
            log(f"hardhat node (pid {proc.pid}) up on {url} in {time.monotonic() - started:.1f} s")
            yield Web3(HTTPProvider(url, request_kwargs={"timeout": 60}))
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            log_file.close()
            log(f"hardhat node (pid {proc.pid}) stopped")


# --------------------------------------------------------------------------- measurements


class Bench:
    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        artifact = load_artifact()
        self.admin, self.anchorer = w3.eth.accounts[:2]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.wait(factory.constructor(self.admin, self.anchorer).transact())
        self.deploy_gas = int(receipt["gasUsed"])
        self.contract: Contract = w3.eth.contract(
            address=receipt["contractAddress"], abi=artifact.abi
        )
        self._logs = 0

    def wait(self, tx: Any) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx, poll_latency=POLL)
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {tx.hex()} failed")
        return receipt

    def new_log(self) -> bytes:
        self._logs += 1
        return log_id_for(f"bench.sunledger/anchor-gas/{self._logs}")

    def anchor(self, log_id: bytes, size: int, root_hash: bytes) -> int:
        tx = self.contract.functions.anchor(log_id, size, root_hash).transact(
            {"from": self.anchorer, "gas": 150_000}
        )
        return int(self.wait(tx)["gasUsed"])


def synthetic_root(size: int) -> bytes:
    return merkle.leaf_hash(f"synthetic root {size}".encode())


def root_from_path(index: int, tree_size: int, leaf: bytes, path: list[bytes]) -> bytes:
    """The root an RFC 9162 2.1.3.2 walk reaches, for trees too large to build."""
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if fn & 1 or fn == sn:
            r = merkle.node_hash(p, r)
            while fn != 0 and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = merkle.node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return r


def measure(w3: Web3, backend: str, events: int, batch: int) -> dict[str, Any]:
    bench = Bench(w3)
    result: dict[str, Any] = {
        "backend": backend,
        "client": w3.client_version,
        "chain_id": w3.eth.chain_id,
        "deploy_gas": bench.deploy_gas,
    }

    result["first_anchor_gas"] = {
        str(size): bench.anchor(bench.new_log(), size, synthetic_root(size)) for size in SIZES
    }
    later_log = bench.new_log()
    bench.anchor(later_log, 1, synthetic_root(1))
    result["later_anchor_gas"] = {
        str(size): bench.anchor(later_log, size, synthetic_root(size))
        for size in [*SIZES[1:], 2**40 + 1]
    }
    log(f"{backend}: first {result['first_anchor_gas']}, later {result['later_anchor_gas']}")

    # One anchor per event: the tree grows by one leaf per transaction.
    rng = random.Random(1)
    leaves = [merkle.leaf_hash(rng.randbytes(64)) for _ in range(max(events, 2 * batch))]
    roots = [merkle.root(leaves[: n + 1]) for n in range(events)]
    per_event_log = bench.new_log()
    started = time.perf_counter()
    gas = [bench.anchor(per_event_log, n + 1, roots[n]) for n in range(events)]
    seconds = time.perf_counter() - started
    result["per_event"] = {
        "events": events,
        "transactions": events,
        "total_gas": sum(gas),
        "gas_per_event": sum(gas) / events,
        "first_tx_gas": gas[0],
        "later_tx_gas_mean": sum(gas[1:]) / max(1, events - 1),
        "later_tx_gas_max": max(gas[1:], default=gas[0]),
        "seconds": seconds,
        "transactions_per_second": events / seconds,
    }
    log(f"{backend}: {events} single-event anchors, {events / seconds:.1f} tx/s")

    # One anchor for a batch of events, as a log's first anchor and as a later one.
    batch_log = bench.new_log()
    first = bench.anchor(batch_log, batch, merkle.root(leaves[:batch]))
    later = bench.anchor(batch_log, 2 * batch, merkle.root(leaves[: 2 * batch]))
    result["batched"] = {
        "events": batch,
        "first_anchor_gas": first,
        "later_anchor_gas": later,
        "gas_per_event_first": first / batch,
        "gas_per_event_later": later / batch,
    }

    # Proof checks: eth_estimateGas of a whole verifyInclusion / verifyLeaf call, and the
    # exact gas of the same call sent as a transaction (py-evm's estimator, behind
    # eth-tester, stops its search within 21,000 gas of the true value).
    verify_log = bench.new_log()
    estimates: dict[str, dict[str, int]] = {"verifyInclusion": {}, "verifyLeaf": {}}
    used: dict[str, dict[str, int]] = {"verifyInclusion": {}, "verifyLeaf": {}}
    sender = {"from": bench.anchorer}
    for length in PROOF_LENGTHS:
        size = 2**length
        index = rng.randrange(size)
        data = rng.randbytes(200)
        leaf = merkle.leaf_hash(data)
        path = [rng.randbytes(32) for _ in range(length)]
        bench.anchor(verify_log, size, root_from_path(index, size, leaf, path))
        calls = {
            "verifyInclusion": bench.contract.functions.verifyInclusion(
                verify_log, size, index, leaf, path
            ),
            "verifyLeaf": bench.contract.functions.verifyLeaf(verify_log, size, index, data, path),
        }
        for fn, call in calls.items():
            assert call.call(sender) is True
            estimates[fn][str(length)] = call.estimate_gas(sender)
            receipt = bench.wait(call.transact({**sender, "gas": 500_000}))
            used[fn][str(length)] = int(receipt["gasUsed"])
    result["verify_gas_used"] = used
    result["verify_estimate_gas"] = estimates
    result["verify_leaf_data_bytes"] = 200
    return result


# --------------------------------------------------------------------------- report


def machine() -> dict[str, Any]:
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def fmt(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.2f}"


def table(results: list[dict[str, Any]]) -> str:
    names = [r["backend"] for r in results]
    rows: list[tuple[str, list[float]]] = [("deploy", [r["deploy_gas"] for r in results])]
    for size in SIZES:
        label = "2^40" if size == 2**40 else f"{size:,}"
        rows.append(
            (
                f"first anchor of a log, size {label}",
                [r["first_anchor_gas"][str(size)] for r in results],
            )
        )
    for size in [*SIZES[1:], 2**40 + 1]:
        label = {2**40: "2^40", 2**40 + 1: "2^40+1"}.get(size, f"{size:,}")
        rows.append(
            (f"later anchor, size {label}", [r["later_anchor_gas"][str(size)] for r in results])
        )
    events = results[0]["per_event"]["events"]
    rows.append(
        (
            f"one anchor per event: {events} txs, total",
            [r["per_event"]["total_gas"] for r in results],
        )
    )
    rows.append(
        ("one anchor per event: gas per event", [r["per_event"]["gas_per_event"] for r in results])
    )
    batch = results[0]["batched"]["events"]
    rows.append(
        (
            f"one anchor per {batch:,} events (first anchor): gas per event",
            [r["batched"]["gas_per_event_first"] for r in results],
        )
    )
    rows.append(
        (
            f"one anchor per {batch:,} events (later anchor): gas per event",
            [r["batched"]["gas_per_event_later"] for r in results],
        )
    )
    for fn in ("verifyInclusion", "verifyLeaf"):
        for length in PROOF_LENGTHS:
            rows.append(
                (
                    f"eth_estimateGas {fn}, proof of {length}",
                    [r["verify_estimate_gas"][fn][str(length)] for r in results],
                )
            )
        for length in PROOF_LENGTHS:
            rows.append(
                (
                    f"{fn}, proof of {length}, sent as a transaction (exact)",
                    [r["verify_gas_used"][fn][str(length)] for r in results],
                )
            )
    rows.append(
        (
            f"single-event anchors per second ({events} sequential txs)",
            [r["per_event"]["transactions_per_second"] for r in results],
        )
    )
    lines = [
        "| measurement (gas unless noted) | " + " | ".join(names) + " |",
        "|---|" + "---:|" * len(names),
    ]
    lines += [f"| {label} | " + " | ".join(fmt(v) for v in values) + " |" for label, values in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--hardhat", action="store_true", help="also measure on a Hardhat node")
    parser.add_argument("--events", type=int, default=100, help="single-event anchors to send")
    parser.add_argument("--batch", type=int, default=10_000, help="events covered by one anchor")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args()
    if args.events < 2 or args.batch < 1:
        parser.error("--events must be at least 2 and --batch at least 1")

    results = []
    with eth_tester_chain() as w3:
        results.append(measure(w3, "eth-tester", args.events, args.batch))
    if args.hardhat:
        with hardhat_chain() as w3:
            results.append(measure(w3, "hardhat", args.events, args.batch))

    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "contract": "CheckpointAnchor",
        "compiler": load_artifact().compiler_version,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    m = report["machine"]
    print(f"{m['nproc']} × {m['cpu']}, {report['date']}, solc {report['compiler']}\n")
    print(table(results))
    log(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
