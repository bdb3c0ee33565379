"""How long the consumer page takes to verify everything it shows, in real Chromium, plain
and with 4x CPU slowdown on emulated phone networks (CDP Emulation.setCPUThrottlingRate,
Network.emulateNetworkConditions).

Usage: python bench/page_verify_bench.py [--runs N]

Serves the browser tests' seeded kitchen (tests/e2e/seeded_kitchen.py: one premises, one
probe with a week of daily summaries, records, a lot, an inspection, a grade, two alerts)
with ``sunledger serve`` on 127.0.0.1, anchors it, and times from navigation to the moment
no badge is still verifying (every proof bundle fetched and checked, every root read from
the chain). Nothing is asserted: the figures go to BENCHMARKS.md. The server is stopped by
its PID.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "e2e"))
from seeded_kitchen import anchor, register_city, seed_over_http

from traceability.settings import Settings

SUNLEDGER = str(Path(sys.executable).parent / "sunledger")
KBPS = 1000 / 8  # bytes per second in one kilobit per second
# Chrome DevTools' network presets as CDP takes them (latency in ms, throughput in bytes/s):
# "Fast 4G" is DevTools' own (60 ms x 2.75, 9 Mbps x 0.9 down, 1.5 Mbps x 0.9 up), taken as
# the normal phone connection; "Slow 4G" here is Lighthouse's mobile throttling (150 ms RTT,
# 1.6 Mbps, 750 kbps) applied as is; "Fast 3G" is DevTools' older preset (150 ms x 3.75,
# 1.6 Mbps x 0.9, 750 kbps x 0.9).
FAST_4G = {"latency": 165.0, "down": 8100 * KBPS, "up": 1350 * KBPS}
SLOW_4G = {"latency": 150.0, "down": 1600 * KBPS, "up": 750 * KBPS}
FAST_3G = {"latency": 562.5, "down": 1440 * KBPS, "up": 675 * KBPS}
PROFILES: dict[str, dict[str, float] | None] = {
    "1x CPU, no throttling (127.0.0.1)": None,
    "1x CPU, Fast 4G (165 ms, 8.1 Mbps down, 1.35 Mbps up)": {"cpu": 1, **FAST_4G},
    "4x CPU, Fast 4G (165 ms, 8.1 Mbps down, 1.35 Mbps up)": {"cpu": 4, **FAST_4G},
    "4x CPU, Slow 4G (150 ms, 1.6 Mbps down, 750 kbps up)": {"cpu": 4, **SLOW_4G},
    "4x CPU, Fast 3G (562.5 ms, 1.44 Mbps down, 675 kbps up)": {"cpu": 4, **FAST_3G},
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def time_page(browser: Any, url: str, profile: dict[str, float] | None) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    if profile is not None:
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": profile["cpu"]})
        cdp.send(
            "Network.emulateNetworkConditions",
            {
                "offline": False,
                "latency": profile["latency"],
                "downloadThroughput": profile["down"],
                "uploadThroughput": profile["up"],
            },
        )
    start = time.perf_counter()
    page.goto(url, timeout=300_000)
    page.wait_for_selector(".badge", timeout=300_000)
    page.wait_for_function(
        "() => document.querySelectorAll('.badge[data-state=pending]').length === 0"
        " && document.getElementById('verify-summary').dataset.done"
        " === document.getElementById('verify-summary').dataset.total",
        timeout=300_000,
    )
    elapsed = time.perf_counter() - start
    states = page.eval_on_selector_all(".badge", "els => els.map(e => e.dataset.state)")
    bundles = page.evaluate(
        "() => performance.getEntriesByType('resource')"
        ".filter(e => /\\/v1\\/proofs[/?]/.test(e.name)).length"
    )
    requests = page.evaluate("() => performance.getEntriesByType('resource').length")
    context.close()
    return {
        "seconds": elapsed,
        "items": len(states),
        "ok": states.count("ok"),
        "bundles": bundles,
        "requests": requests + 1,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("bench/results/page_verify.json"))
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    data_dir = Path(tempfile.mkdtemp(prefix="sunledger-page-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    env.update(
        {
            "SUNLEDGER_DATA_DIR": str(data_dir),
            "SUNLEDGER_ANCHOR_INTERVAL_SECONDS": "86400",
            "SUNLEDGER_ANCHOR_EVERY_EVENTS": "1000000",
        }
    )
    settings = Settings(data_dir=data_dir, database_url=None)
    keys, probe_key = register_city(settings)
    port = free_port()
    server = subprocess.Popen(
        [SUNLEDGER, "serve", "--data-dir", str(data_dir), "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(data_dir / "serve.log", "wb"),
    )
    base = f"http://127.0.0.1:{port}"
    report: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "runs": args.runs,
        "profiles": {},
    }
    try:
        for _ in range(600):
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
        seed_over_http(base, settings, keys, probe_key)
        anchor(data_dir, env)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path="/usr/bin/chromium",
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            try:
                for name, profile in PROFILES.items():
                    url = base + "/r/p-sun"
                    runs = [time_page(browser, url, profile) for _ in range(args.runs)]
                    seconds = [r["seconds"] for r in runs]
                    report["profiles"][name] = {
                        "median_seconds": round(statistics.median(seconds), 2),
                        "all_seconds": [round(x, 2) for x in seconds],
                        "max_seconds": round(max(seconds), 2),
                        "items": runs[0]["items"],
                        "ok": runs[0]["ok"],
                        "proof_requests": runs[0]["bundles"],
                        "requests": runs[0]["requests"],
                    }
                    report["profiles"][name]["load_average"] = os.getloadavg()
                    print(name, report["profiles"][name], file=sys.stderr)
            finally:
                browser.close()
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
