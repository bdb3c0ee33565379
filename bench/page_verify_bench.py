"""How long the consumer page takes to verify everything it shows, in real Chromium, plain
and with 4x CPU slowdown on emulated phone networks (CDP Emulation.setCPUThrottlingRate,
Network.emulateNetworkConditions).

Usage: python bench/page_verify_bench.py [--runs N] [--page consumer|lot|both]
       python bench/page_verify_bench.py --trace FILE   (one traced 4x CPU + Slow 4G load)

Serves the browser tests' seeded kitchen (tests/e2e/seeded_kitchen.py: one premises, one
probe with a week of daily summaries, records, a lot, an inspection, a grade, two alerts)
with ``sunledger serve`` on 127.0.0.1, anchors it, and times from navigation to the moment
no badge is still verifying (every proof bundle fetched and checked, every root read from
the chain): ``seconds`` on this process's clock from ``page.goto`` until Playwright hears
it, ``page_seconds`` on the page's own clock (``performance.now()`` in the frame that saw
it, from the navigation's start). ``page.goto`` returns at the navigation's commit
(``--wait-until load`` for the earlier rounds' way): Playwright then loads its own script
into the page (50 ms of a 4x slowed main thread) while the page waits for its script, not
in the middle of the page's work. Nothing is asserted: the figures go to BENCHMARKS.md. The
server is stopped by its PID.

``--trace FILE`` loads the consumer page once at 4x CPU on Slow 4G with a Chrome trace
(CDP Tracing) written to FILE and its sampled JS profile beside it (``.cpuprofile``), and
prints where the time went: each request's start and end, and the page's main thread,
busy or idle, over the load.
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
from seeded_kitchen import GTIN, LOT, anchor, register_city, seed_over_http

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
PAGES = {"consumer": "/r/p-sun", "lot": f"/01/{GTIN}/10/{LOT}"}
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


def throttle(context: Any, page: Any, profile: dict[str, float] | None) -> None:
    if profile is None:
        return
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


# Polled in every frame from the navigation's commit: once some badge is shown, none is
# verifying and the banner has counted every item, it asks for the next frame, which starts
# after this one's layout and paint (the ticks on screen), and then answers the page's clock
# at that start (ms since the navigation started).
VERIFIED = """() => {
    if (window.__benchSeen) return window.__benchPainted || false;
    const summary = document.getElementById("verify-summary");
    const done = !!summary && !!document.querySelector(".badge")
        && !document.querySelector(".badge[data-state=pending]")
        && !!summary.dataset.total && summary.dataset.done === summary.dataset.total;
    if (!done) return false;
    window.__benchSeen = performance.now();
    requestAnimationFrame(() => { window.__benchPainted = performance.now(); });
    return false;
}"""


def settle(page: Any) -> float:
    """Until no badge is verifying and the banner has counted every item, laid out and
    painted; the page's own clock then, in seconds."""
    return float(page.wait_for_function(VERIFIED, timeout=300_000).json_value()) / 1000


def time_page(
    browser: Any, url: str, profile: dict[str, float] | None, wait_until: str = "commit"
) -> dict[str, Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    throttle(context, page, profile)
    start = time.perf_counter()
    page.goto(url, timeout=300_000, wait_until=wait_until)
    on_page = settle(page)
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
        "page_seconds": on_page,
        "items": len(states),
        "ok": states.count("ok"),
        "bundles": bundles,
        "requests": requests + 1,
    }


TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "v8.execute",
    "blink.user_timing",
    "loading",
]


def trace_page(browser: Any, url: str, path: Path, wait_until: str = "commit") -> dict[str, Any]:
    """One load at 4x CPU on Slow 4G with a Chrome trace; where its time went."""
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    throttle(context, page, {"cpu": 4, **SLOW_4G})
    profiler = context.new_cdp_session(page)
    profiler.send("Profiler.enable")
    profiler.send("Profiler.setSamplingInterval", {"interval": 200})
    profiler.send("Profiler.start")
    browser.start_tracing(page=page, path=str(path), categories=TRACE_CATEGORIES)
    start = time.perf_counter()
    page.goto(url, timeout=300_000, wait_until=wait_until)
    on_page = settle(page)
    elapsed = time.perf_counter() - start
    browser.stop_tracing()
    profile = profiler.send("Profiler.stop")["profile"]
    context.close()
    # The sampled JS profile beside the trace (DevTools opens it: Performance > Load profile).
    path.with_suffix(".cpuprofile").write_text(json.dumps(profile))
    return {
        "seconds": round(elapsed, 2),
        "page_seconds": round(on_page, 2),
        **where_time_went(json.loads(path.read_text())),
        "js_self_ms_by_function": js_self_time(profile),
    }


def js_self_time(profile: dict[str, Any], top: int = 20) -> dict[str, float]:
    """Sampled self time (ms) of each function (name, file and line) of a CPU profile."""
    nodes = {n["id"]: n for n in profile["nodes"]}
    spent: dict[str, float] = {}
    deltas = profile.get("timeDeltas", [])
    for sample, delta in zip(profile.get("samples", []), deltas[1:] + [0], strict=True):
        frame = nodes[sample]["callFrame"]
        where = frame["url"].rsplit("/", 1)[-1]
        name = f"{frame['functionName'] or '(anonymous)'} {where}:{frame['lineNumber'] + 1}"
        spent[name] = spent.get(name, 0.0) + delta / 1000
    return {k: round(v, 1) for k, v in sorted(spent.items(), key=lambda kv: -kv[1])[:top]}


def where_time_went(trace: Any) -> dict[str, Any]:
    """Requests (start and end, ms from the page's first request) and the page's main
    thread: busy ms in each 250 ms window and the self time of what ran, by name."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("name") == "thread_name" and e.get("args", {}).get("name") == "CrRendererMain"
    }
    sends = [e for e in events if e.get("name") == "ResourceSendRequest"]
    if not sends:
        return {"error": "no requests in the trace"}
    origin = min(e["ts"] for e in sends)
    requests: dict[str, dict[str, Any]] = {}
    for e in events:
        data = e.get("args", {}).get("data", {})
        rid = data.get("requestId")
        if rid is None:
            continue
        at = round((e["ts"] - origin) / 1000)
        if e["name"] == "ResourceSendRequest":
            name = data.get("url", "").split("//", 1)[-1].split("/", 1)[-1][:70]
            requests.setdefault(rid, {})["url"] = "/" + name
            requests[rid]["start"] = at
        elif e["name"] == "ResourceFinish":
            requests.setdefault(rid, {"url": "?"})["end"] = at
    timed = [e for e in events if e.get("ph") == "X" and (e["pid"], e["tid"]) in mains]
    # The renderer of the page: the main thread that ran the most.
    busiest: dict[tuple[int, int], float] = {}
    for e in timed:
        if e["name"] == "RunTask":
            key = (e["pid"], e["tid"])
            busiest[key] = busiest.get(key, 0.0) + e.get("dur", 0)
    if not busiest:
        return {"requests": sorted(requests.values(), key=lambda r: r.get("start", 0))}
    main_thread = max(busiest, key=lambda k: busiest[k])
    mine = sorted(
        (e for e in timed if (e["pid"], e["tid"]) == main_thread and "dur" in e),
        key=lambda e: (e["ts"], -e["dur"]),
    )
    windows: dict[int, float] = {}
    # Self time: each event's duration less its direct children's.
    self_time: dict[str, float] = {}
    open_: list[dict[str, Any]] = []
    for e in mine:
        while open_ and open_[-1]["ts"] + open_[-1]["dur"] <= e["ts"]:
            open_.pop()
        if open_:
            parent = open_[-1]["name"]
            self_time[parent] = self_time.get(parent, 0.0) - e["dur"]
        elif e["name"] == "RunTask":
            slot = max(0, int((e["ts"] - origin) / 250_000))
            windows[slot] = windows.get(slot, 0.0) + e["dur"] / 1000
        self_time[e["name"]] = self_time.get(e["name"], 0.0) + e["dur"]
        open_.append(e)
    top = sorted(self_time.items(), key=lambda kv: -kv[1])[:14]
    return {
        "requests": sorted(requests.values(), key=lambda r: r.get("start", 0)),
        "main_thread_busy_ms_per_250ms": {
            f"{k * 250}-{k * 250 + 250}": round(v) for k, v in sorted(windows.items())
        },
        "main_thread_busy_ms": round(sum(windows.values())),
        "self_ms_by_name": {name: round(us / 1000) for name, us in top},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page", choices=[*PAGES, "both"], default="consumer")
    parser.add_argument("--trace", type=Path, help="one traced Slow 4G load, written here")
    parser.add_argument("--out", type=Path, default=Path("bench/results/page_verify.json"))
    parser.add_argument(
        "--wait-until",
        choices=["commit", "load"],
        default="commit",
        help="when page.goto returns: commit (the default) lets Playwright load its own"
        " script into the page while the page waits for its script; load (the earlier"
        " rounds' way) makes it do so in the middle of the page's work",
    )
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    pages = list(PAGES) if args.page == "both" else [args.page]
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
        "wait_until": args.wait_until,
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
                if args.trace is not None:
                    time_page(browser, base + PAGES["consumer"], None)  # a warm browser
                    report["trace"] = trace_page(
                        browser, base + PAGES["consumer"], args.trace, args.wait_until
                    )
                    report["profiles"] = {}
                timed = [] if args.trace is not None else [(p, n) for p in pages for n in PROFILES]
                for which, name in timed:
                    profile = PROFILES[name]
                    url = base + PAGES[which]
                    runs = [
                        time_page(browser, url, profile, args.wait_until) for _ in range(args.runs)
                    ]
                    seconds = [r["seconds"] for r in runs]
                    on_page = [r["page_seconds"] for r in runs]
                    name = f"{which}: {name}"
                    report["profiles"][name] = {
                        "median_seconds": round(statistics.median(seconds), 2),
                        "all_seconds": [round(x, 2) for x in seconds],
                        "max_seconds": round(max(seconds), 2),
                        "page_median_seconds": round(statistics.median(on_page), 2),
                        "page_all_seconds": [round(x, 2) for x in on_page],
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
