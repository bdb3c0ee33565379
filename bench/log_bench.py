"""Benchmark of the persistent log: batched append, checkpoints and proofs at 10^3..10^7 leaves.

Usage: python bench/log_bench.py [--backend sqlite|postgresql|both] [--leaves N] [--batch B]

Appends N leaves (leaf hashing included) in batches into a fresh SQLite file and
a fresh PostgreSQL schema, and at each power of ten measures: the checkpoint
(sign + store), and p50/p99 of inclusion and consistency proofs read from the
database (each proof is re-verified by the log before it is returned). Every
proof's length is checked against the RFC 9162 length formula. A bare hashlib
loop over the same leaves, measured in the same run, gives the reference ratio.
Results go to bench/results/log_bench.json; the README table is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import text

from traceability import merkle
from traceability.storage.db import make_engine, migrate, session_factory, transaction
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import TransparencyLog

POSTGRES_URL = os.environ.get(
    "SUNLEDGER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ORIGIN = "bench.sunledger/log"


def leaf_data(i: int) -> bytes:
    return b"event-%d" % i


def inclusion_length(index: int, size: int) -> int:
    """RFC 9162 inclusion proof length (as in transparency-dev/merkle's decomposition)."""
    inner = (index ^ (size - 1)).bit_length()
    border = bin(index >> inner).count("1")
    return inner + border


def consistency_length(size1: int, size2: int) -> int:
    if size1 in (0, size2):
        return 0
    inner = ((size1 - 1) ^ (size2 - 1)).bit_length()
    border = bin((size1 - 1) >> inner).count("1")
    shift = (size1 & -size1).bit_length() - 1
    inner -= shift
    seed = 0 if size1 == 1 << shift else 1
    return seed + inner + border


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def machine() -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import sqlite3

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


def hashlib_baseline(n: int) -> float:
    sha = hashlib.sha256
    start = time.perf_counter()
    for i in range(n):
        sha(b"\x00" + leaf_data(i)).digest()
    return time.perf_counter() - start


def open_backend(backend: str, workdir: Path) -> tuple[str, Any]:
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    schema = f"bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    conn = psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), autocommit=True)
    conn.execute(f'CREATE SCHEMA "{schema}"')
    return f"{POSTGRES_URL}?options=-csearch_path%3D{schema}", (conn, schema)


def run(backend: str, total: int, batch: int, samples: int, progress: bool) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="sunledger-bench-"))
    url, cleanup = open_backend(backend, workdir)
    engine = make_engine(url)
    migrate(engine)
    sessions = session_factory(engine)
    log = TransparencyLog(ORIGIN)
    signer = NoteSigner.generate("bench")
    with transaction(sessions) as session:
        log.initialise(session)
    if backend == "postgresql":
        with engine.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
    else:
        version = None
    milestones = [10**k for k in range(3, 8) if 10**k <= total]
    rng = random.Random(7)
    size = 0
    append_seconds = 0.0
    results: list[dict[str, Any]] = []
    sha = hashlib.sha256
    while size < total:
        target = next((m for m in milestones if m > size), total)
        step = min(batch, target - size)
        t0 = time.perf_counter()
        hashes = [sha(b"\x00" + leaf_data(i)).digest() for i in range(size, size + step)]
        with transaction(sessions) as session:
            log.append(session, hashes)
        append_seconds += time.perf_counter() - t0
        size += step
        if progress:
            print(f"\r{backend}: {size:,} leaves", end="", file=sys.stderr, flush=True)
        if size in milestones:
            results.append(measure(sessions, log, signer, size, samples, rng))
            if progress:
                row = results[-1]
                print(
                    f"\n  n={size:,}: incl p99 {row['inclusion_p99_ms']:.2f} ms, "
                    f"cons p99 {row['consistency_p99_ms']:.2f} ms",
                    file=sys.stderr,
                )
    engine.dispose()
    if cleanup:
        conn, schema = cleanup
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        conn.close()
    return {
        "backend": backend,
        "server_version": version,
        "leaves": total,
        "batch": batch,
        "append_seconds": append_seconds,
        "appends_per_second": total / append_seconds,
        "at_size": results,
    }


def measure(
    sessions: Any, log: TransparencyLog, signer: NoteSigner, size: int, samples: int, rng: Any
) -> dict[str, Any]:
    t0 = time.perf_counter()
    with transaction(sessions) as session:
        checkpoint = log.checkpoint(session, signer)
    checkpoint_ms = (time.perf_counter() - t0) * 1000
    inclusion_ms: list[float] = []
    consistency_ms: list[float] = []
    max_len = 0
    with sessions() as session:
        for _ in range(samples):
            index = rng.randrange(size)
            t0 = time.perf_counter()
            proof = log.inclusion_proof(session, index, size)
            inclusion_ms.append((time.perf_counter() - t0) * 1000)
            if len(proof.hashes) != inclusion_length(index, size):
                raise AssertionError(f"inclusion proof length at {index}/{size}")
            if proof.leaf_hash != hashlib.sha256(b"\x00" + leaf_data(index)).digest():
                raise AssertionError(f"leaf {index} is not the leaf that was appended")
            merkle.verify_inclusion(
                index, size, proof.leaf_hash, proof.hashes, checkpoint.root_hash
            )
            max_len = max(max_len, len(proof.hashes))
            first = rng.randrange(1, size + 1)
            t0 = time.perf_counter()
            cproof = log.consistency_proof(session, first, size)
            consistency_ms.append((time.perf_counter() - t0) * 1000)
            if len(cproof.hashes) != consistency_length(first, size):
                raise AssertionError(f"consistency proof length {first}->{size}")
    return {
        "size": size,
        "checkpoint_ms": checkpoint_ms,
        "inclusion_p50_ms": statistics.median(inclusion_ms),
        "inclusion_p99_ms": percentile(inclusion_ms, 0.99),
        "consistency_p50_ms": statistics.median(consistency_ms),
        "consistency_p99_ms": percentile(consistency_ms, 0.99),
        "max_inclusion_hashes": max_len,
        "ceil_log2_n": (size - 1).bit_length(),
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--leaves", type=int, default=10**7)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--out", type=Path, default=Path("bench/results/log_bench.json"))
    args = parser.parse_args()
    progress = sys.stderr.isatty() or os.environ.get("BENCH_PROGRESS") == "1"
    baseline = hashlib_baseline(args.leaves)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    report: dict[str, Any] = {
        "machine": machine(),
        "hashlib_leaf_hashes_per_second": args.leaves / baseline,
        "runs": [],
    }
    for backend in backends:
        run_result = run(backend, args.leaves, args.batch, args.samples, progress)
        run_result["ratio_to_hashlib"] = run_result["appends_per_second"] / (args.leaves / baseline)
        report["runs"].append(run_result)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"machine: {report['machine']}")
    print(f"bare hashlib leaf hashing: {report['hashlib_leaf_hashes_per_second']:,.0f}/s")
    for r in report["runs"]:
        print(
            f"\n{r['backend']} {r['server_version'] or ''}: "
            f"{r['appends_per_second']:,.0f} leaves/s appended "
            f"({r['ratio_to_hashlib']:.2f}x of bare hashlib), batch {r['batch']:,}"
        )
        print(
            "| n | checkpoint ms | incl p50 ms | incl p99 ms | cons p50 ms | cons p99 ms "
            "| max incl hashes | ⌈log2 n⌉ |"
        )
        print("|---|---|---|---|---|---|---|---|")
        for s in r["at_size"]:
            print(
                f"| {s['size']:,} | {s['checkpoint_ms']:.2f} | {s['inclusion_p50_ms']:.2f} | "
                f"{s['inclusion_p99_ms']:.2f} | {s['consistency_p50_ms']:.2f} | "
                f"{s['consistency_p99_ms']:.2f} | {s['max_inclusion_hashes']} | "
                f"{s['ceil_log2_n']} |"
            )


if __name__ == "__main__":
    main()
