"""Browser tests: a real server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Never ``playwright install``: the browser is the system's /usr/bin/chromium (``make
browser`` installs it). Under CI=true a missing browser fails the run; elsewhere it skips.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from seeded_kitchen import Seeded, anchor, register_city, seed_over_http

from traceability.settings import Settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ZH_PAK = Path("/usr/lib/chromium/locales/zh-CN.pak")  # Debian's chromium-l10n
ARTIFACTS = Path(__file__).parent / "artifacts"
SCREENSHOTS = Path(__file__).parents[2] / "docs" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
STARTUP_SECONDS = 90.0


def browser_missing(reason: str) -> None:
    """Fail under CI, skip elsewhere (as tests/conftest.py's service_missing does)."""
    message = f"Chromium for the browser tests is not available: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: browser tests must not skip)")
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Server:
    base: str
    data_dir: Path
    env: dict[str, str]
    seeded: Seeded

    def url(self, path: str) -> str:
        return self.base + path


def _environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    env["SUNLEDGER_DATA_DIR"] = str(data_dir)
    # Anchoring only when the test says so (sunledger anchor --force).
    env["SUNLEDGER_ANCHOR_INTERVAL_SECONDS"] = "86400"
    env["SUNLEDGER_ANCHOR_EVERY_EVENTS"] = "1000000"
    return env


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise AssertionError(f"the server did not answer within {STARTUP_SECONDS} s")


@pytest.fixture(scope="session")
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        browser_missing(f"{CHROMIUM} is missing (make browser)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        browser_missing(f"playwright is not installed: {exc}")
    return CHROMIUM


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = _environment(data_dir)
    settings = Settings(data_dir=data_dir, database_url=None)
    keys, probe_key = register_city(settings)
    with serving(data_dir, env) as base:
        seeded = seed_over_http(base, settings, keys, probe_key)
        anchor(data_dir, env)
        yield Server(base, data_dir, env, seeded)


@contextmanager
def seeded_server(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Server]:
    """A server of its own with the seeded kitchen city (not anchored), for tests that write
    what would change what other modules' pages show."""
    data_dir = tmp_path_factory.mktemp(name)
    env = _environment(data_dir)
    settings = Settings(data_dir=data_dir, database_url=None)
    keys, probe_key = register_city(settings)
    with serving(data_dir, env) as base:
        yield Server(base, data_dir, env, seed_over_http(base, settings, keys, probe_key))


@contextmanager
def phone_context(
    browser: Any,
    *,
    viewport: dict[str, int] | None = None,
    timeout_ms: int = 60_000,
    english: bool = False,
    **options: Any,
) -> Iterator[Any]:
    """A phone-sized browser context (414 px wide unless ``viewport`` says) with the tests'
    waits, in English when ``english`` (the pages' stored language choice); fails the test
    if a page of it threw a JavaScript error."""
    made = browser.new_context(viewport=viewport or {"width": 414, "height": 896}, **options)
    made.set_default_timeout(timeout_ms)
    if english:
        # Guarded: the script also runs in the blank first document, which has no storage.
        made.add_init_script("try { localStorage.setItem('sunledger.lang', 'en') } catch {}")
    errors: list[str] = []
    made.on("page", lambda tab: tab.on("pageerror", lambda exc: errors.append(str(exc))))
    try:
        yield made
    finally:
        made.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@contextmanager
def serving(data_dir: Path, env: dict[str, str]) -> Iterator[str]:
    """``sunledger serve`` on a free 127.0.0.1 port until the block ends (stopped by its
    PID); yields its base URL once it answers."""
    port = _free_port()
    log = data_dir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("sunledger")), "serve"]
            + ["--data-dir", str(data_dir), "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=Path(__file__).parents[2],
        )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process, log)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def playwright_driver(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def _launch(
    playwright: Any, chromium_path: Path, *extra: str, env: dict[str, str] | None = None
) -> Any:
    return playwright.chromium.launch(
        executable_path=str(chromium_path),
        headless=True,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            *extra,
        ],
        env=env,
        timeout=60_000,
    )


@pytest.fixture(scope="session")
def browser(playwright_driver: Any, chromium_path: Path) -> Iterator[Any]:
    launched = _launch(playwright_driver, chromium_path)
    try:
        yield launched
    finally:
        launched.close()


@pytest.fixture(scope="session")
def browser_zh(playwright_driver: Any, chromium_path: Path) -> Iterator[Any]:
    """A Chromium whose own interface is Chinese, as a phone in China has it: date inputs
    read 年/月/日 and the file button 选择文件 (a context's ``locale`` alone changes the
    page's Intl and navigator.language, not these). Needs Debian's chromium-l10n; give
    its contexts ``locale="zh-CN"`` too."""
    if not CHROMIUM_ZH_PAK.exists():
        browser_missing("Chromium's Chinese interface is missing (apt-get install chromium-l10n)")
    env = {**os.environ, "LANGUAGE": "zh_CN", "LANG": "zh_CN.UTF-8"}
    launched = _launch(playwright_driver, chromium_path, "--lang=zh-CN", env=env)
    try:
        yield launched
    finally:
        launched.close()


def save_screenshot(page: Any, name: str) -> Path:
    """Save under tests/e2e/artifacts (git-ignored); with SUNLEDGER_UPDATE_SCREENSHOTS=1 also
    copy to docs/screenshots (committed), so that a test run leaves the tree clean."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    target = ARTIFACTS / name
    page.screenshot(path=str(target), full_page=False)
    if os.environ.get("SUNLEDGER_UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(target, SCREENSHOTS / name)
    return target
