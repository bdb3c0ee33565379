"""``sunledger serve`` and ``sunledger worker``: the long-running processes."""

from __future__ import annotations

import os
import sys
from typing import Annotated, Any

import typer

from traceability.entrypoints.cli.console import fail, load_settings
from traceability.entrypoints.cli.options import DataDir
from traceability.errors import SunledgerError
from traceability.platform import Platform, open_platform
from traceability.settings import Settings


def serve(
    data_dir: DataDir = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes.")] = 1,
) -> None:
    """Serve the API."""
    settings = load_settings(data_dir)
    try:
        open_platform(settings)  # fail here, with a clear message, not inside the server
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    run_server(settings, host, port, workers)


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    """Hand over to ``python -m api`` (the web layer), which this package never imports."""
    env = dict(os.environ)
    env["SUNLEDGER_DATA_DIR"] = str(settings.data_dir)
    if settings.database_url is not None:
        env["SUNLEDGER_DATABASE_URL"] = settings.database_url.get_secret_value()
    command = [sys.executable, "-m", "api", "--host", host, "--port", str(port)]
    command += ["--workers", str(workers)]
    os.execve(sys.executable, command, env)


def worker(
    data_dir: DataDir = None,
    concurrency: Annotated[int, typer.Option(min=1, max=16)] = 1,
) -> None:
    """Run a Celery worker with beat: anchoring every SUNLEDGER_ANCHOR_INTERVAL_SECONDS."""
    from traceability.entrypoints.worker import make_celery

    settings = load_settings(data_dir)
    if settings.broker_url is None:
        raise fail(
            "SUNLEDGER_BROKER_URL is not set: without a broker, tasks run in the process "
            "that asks for them (use `sunledger anchor` or set e.g. redis://127.0.0.1:6379/0)"
        )
    try:
        platform = Platform.open(settings)  # the one every task of this worker runs on
    except SunledgerError as exc:
        raise fail(exc.detail) from None
    # Beat keeps its schedule file there; without the directory beat dies and nothing
    # time-based runs (interval anchoring, probe watch, escalation, webhooks).
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    celery = make_celery(platform)
    _log_like_the_api(settings)
    _reconnect_after_fork(platform)
    celery.worker_main(
        ["worker", "--beat", "--loglevel=INFO", f"--concurrency={concurrency}", "--pool=solo"]
        if concurrency == 1
        else ["worker", "--beat", "--loglevel=INFO", f"--concurrency={concurrency}"]
    )


def _reconnect_after_fork(platform: Platform) -> None:
    """Prefork children inherit the platform; the parent's database connections are not
    theirs to use (each child opens its own, the parent's stay with the parent)."""
    from celery.signals import worker_process_init

    def _forked(**_kwargs: Any) -> None:
        platform.engine.dispose(close=False)

    worker_process_init.connect(_forked, weak=False)


def _log_like_the_api(settings: Settings) -> None:
    """Celery would set up its own text logging; ours (JSON lines by default) instead."""
    from celery.signals import setup_logging

    from traceability.entrypoints.logs import configure

    def _setup(**_kwargs: Any) -> None:
        configure(settings.log_format, settings.log_level)

    setup_logging.connect(_setup, weak=False)
