"""The living demo: the site served on 127.0.0.1 while probes and cameras keep reporting.

``serve_city`` starts the web server (``python -m api``, the web layer this
package never imports) as a child process, waits until it answers, then runs
two background threads until the server stops, the time is up, or the demo
gets SIGINT/SIGTERM:

- the probe simulator (``traceability.simulator``): every probe of the city
  sends readings measured now, each signed with the probe's own key, over HTTP
  to the served API (so the rules judge them and the anchoring follows);
- a camera loop: each registered camera's clip goes through the vision checker
  in turn (the day clip while the kitchen is open, the night clip while it is
  closed), its results logged, the camera marked online. The checker is the
  ``DemoVision`` the entry point hands in (this package never imports it).

On the way out the threads are stopped and the server is stopped by its PID
(SIGTERM, then SIGKILL after a grace period).
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

import httpx

from traceability.cameras.registry import CameraRegistry
from traceability.cameras.vision_ledger import LedgerSink, VisionLedger
from traceability.demo.city import demo_fleet
from traceability.demo.data_dir import clip_path
from traceability.demo.scenario import Scenario
from traceability.demo.vision import DemoVision, VisionMissing
from traceability.platform import Platform
from traceability.public_record.stove_readings import LoggedStoveProbe
from traceability.settings import Settings
from traceability.simulator.run import simulate
from traceability.simulator.transports import HttpSink

log = logging.getLogger(__name__)

PROBE_RATE = 2.0
"""Readings per second the live probes send, all together."""
CAMERA_PAUSE = 20.0
"""Seconds between two cameras' clips."""
FOREVER = 10 * 365 * 86_400.0


@dataclass
class LiveStats:
    readings_sent: int = 0
    readings_accepted: int = 0
    clips_analysed: int = 0
    problems: list[str] = field(default_factory=list)


class LiveCity:
    """The background threads that keep the demo city's data coming; the cameras' results
    are logged through the process's one ``platform``."""

    def __init__(
        self,
        settings: Settings,
        platform: Platform,
        scenario: Scenario,
        base_url: str,
        *,
        vision: DemoVision | VisionMissing,
        probe_rate: float = PROBE_RATE,
        camera_pause: float = CAMERA_PAUSE,
    ) -> None:
        self.settings = settings
        self.platform = platform
        self.scenario = scenario
        self.base_url = base_url
        self.vision = vision
        self.probe_rate = probe_rate
        self.camera_pause = camera_pause
        self.stop_event = threading.Event()
        self.stats = LiveStats()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, target in (("demo-probes", self._probes), ("demo-cameras", self._cameras)):
            thread = threading.Thread(target=self._guarded(name, target), name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 15.0) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _guarded(self, name: str, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except Exception as exc:  # a dying thread must say why, not vanish
                log.exception("%s stopped", name)
                self.stats.problems.append(f"{name}: {exc}")

        return run

    # -- probes ---------------------------------------------------------------

    def _clock(self) -> float:
        """The simulator's clock; once stopping, it jumps past any duration so the run ends."""
        return time.monotonic() + (FOREVER if self.stop_event.is_set() else 0.0)

    def _sleep(self, seconds: float) -> None:
        self.stop_event.wait(seconds)

    def _probes(self) -> None:
        fleet = demo_fleet(self.scenario, self.settings.data_dir)
        sink = HttpSink(self.base_url, timeout=30.0)
        try:
            report = simulate(
                fleet,
                sink,
                rate=self.probe_rate,
                duration=FOREVER,
                speedup=1.0,
                batch=20,
                clock=self._clock,
                sleep=self._sleep,
            )
        finally:
            sink.close()
        self.stats.readings_sent += report.sent
        self.stats.readings_accepted += report.accepted
        if report.rejected or report.failed:
            self.stats.problems.append(
                f"probes: rejected {report.rejected}, failed {report.failed}: "
                + "; ".join(report.details[:3])
            )

    # -- cameras --------------------------------------------------------------

    def _cameras(self) -> None:
        vision = self.vision
        if isinstance(vision, VisionMissing):
            self.stats.problems.append(
                f"cameras: the vision checker is not available ({vision.reason})"
            )
            return
        sessions = self.platform.sessions
        sink = LedgerSink(sessions, VisionLedger(self.platform.log))
        stove_probe = LoggedStoveProbe(sessions)
        cameras = [c.id for p in self.scenario.premises for c in p.cameras]
        turn = 0
        while cameras and not self.stop_event.is_set():
            camera_id = cameras[turn % len(cameras)]
            turn += 1
            with sessions() as session:
                stored = CameraRegistry().get(session, camera_id).config
            config = json.loads(stored)
            now = datetime.now(UTC)
            kind = "day" if vision.is_open(config, now) else "night"
            clip = clip_path(self.settings.data_dir, kind)
            vision.watch_clip(config, clip, now, sink, stove_probe, self.stop_event)
            self.stats.clips_analysed += 1
            self.stop_event.wait(self.camera_pause)


# --------------------------------------------------------------------------- the server


def server_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "api", "--host", host, "--port", str(port), "--workers", "1"]


def server_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env["SUNLEDGER_DATA_DIR"] = str(settings.data_dir)
    if settings.witnesses:
        env["SUNLEDGER_WITNESSES"] = json.dumps([w.model_dump() for w in settings.witnesses])
        env["SUNLEDGER_WITNESS_QUORUM"] = str(settings.witness_quorum)
    return env


SERVER_LOG = "demo-server.log"


def server_log(settings: Settings) -> Path:
    """Where the demo's server logs (appended to across runs; ``--reset`` removes it)."""
    return settings.data_dir / SERVER_LOG


def wait_until_up(process: subprocess.Popen[bytes], url: str, timeout: float = 60.0) -> bool:
    """True once ``url`` answers 200; False if the server died or did not answer in time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(url, timeout=2.0).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def stop_process(process: subprocess.Popen[bytes], grace: float = 10.0) -> int | None:
    """Stop a child by its PID: SIGTERM, then SIGKILL after ``grace`` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(grace)
    return process.returncode


def serve_city(
    settings: Settings,
    platform: Platform,
    scenario: Scenario,
    host: str,
    port: int,
    *,
    vision: DemoVision | VisionMissing,
    seconds: float | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> tuple[int, LiveStats]:
    """Serve the site with live data until the server stops, ``seconds`` pass, or SIGINT/SIGTERM.

    ``settings`` are the server's (the demo adds its witness to them); ``platform`` is this
    process's, which the live threads write through. Returns the server's exit status (0
    when the demo stopped it) and what the live threads did.
    """
    # The server's own log (JSON lines, a routine anchor tick every minute) goes to a file
    # in the data directory: the terminal keeps the demo's printout readable.
    with server_log(settings).open("ab") as log_file:
        process = subprocess.Popen(
            server_command(host, port),
            env=server_env(settings),
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    stopping = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    previous: dict[int, Any] = {
        s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)
    }
    live = LiveCity(settings, platform, scenario, base, vision=vision)
    try:
        if not wait_until_up(process, f"{base}/healthz"):
            stop_process(process)
            return (process.returncode or 1), live.stats
        if on_ready is not None:
            on_ready(process.pid)
        live.start()
        deadline = math.inf if seconds is None else time.monotonic() + seconds
        while process.poll() is None and not stopping.is_set():
            stopping.wait(min(0.5, max(0.0, deadline - time.monotonic())))
            if time.monotonic() >= deadline:
                break
        died = process.poll()
    finally:
        live.stop()
        stop_process(process)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return (died or 0), live.stats
