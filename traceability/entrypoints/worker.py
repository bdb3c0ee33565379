"""Celery: the anchoring job, eager in the embedded mode, on Redis otherwise.

The app is built from settings by ``make_celery``; nothing is read at import
time. ``sunledger worker`` runs a worker with beat, which calls the anchoring
tick every ``anchor_interval_seconds``; ingest also asks for a tick (after its
commit) so that "every K events" does not wait for the next beat.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery

from traceability.chain.anchoring import Anchoring, AnchorPolicy
from traceability.chain.factory import open_chain
from traceability.platform import open_platform
from traceability.settings import Settings

ANCHOR_TICK = "sunledger.anchor_tick"
PROBE_WATCH = "sunledger.probe_watch"
RECORD_CHECKS = "sunledger.record_checks"
ALERT_ESCALATION = "sunledger.alert_escalation"
WEBHOOK_DELIVERY = "sunledger.webhook_delivery"
VISION_CLIP = "sunledger.vision_clip"
WITNESS_TICK = "sunledger.witness_tick"
DAY_SUMMARIES = "sunledger.day_summaries"
_LOCK = threading.RLock()
_ANCHORING: dict[str, tuple[Anchoring, Any]] = {}


def policy_for(settings: Settings) -> AnchorPolicy:
    return AnchorPolicy(
        every_events=settings.anchor_every_events,
        interval=timedelta(seconds=settings.anchor_interval_seconds),
        confirmations=settings.anchor_confirmations,
    )


_PLATFORMS: dict[str, Any] = {}


def platform_for(settings: Settings) -> Any:
    """The process's (engine, sessions, log, signer) for these settings, opened once."""
    key = settings.model_dump_json()
    with _LOCK:
        if key not in _PLATFORMS:
            _PLATFORMS[key] = open_platform(settings)
        return _PLATFORMS[key]


def anchoring_for(settings: Settings) -> tuple[Anchoring, Any]:
    """The process's anchoring service for these settings (opening a chain is not free)."""
    key = settings.model_dump_json()
    _engine, sessions, log, signer = platform_for(settings)
    with _LOCK:
        if key not in _ANCHORING:
            chain = open_chain(settings, sessions)
            _ANCHORING[key] = (Anchoring(log, signer, chain, policy_for(settings)), sessions)
        return _ANCHORING[key]


def run_anchor_tick(settings: Settings, *, force: bool = False) -> dict[str, Any]:
    anchoring, sessions = anchoring_for(settings)
    report = asdict(anchoring.tick(sessions, force=force))
    if report["scheduled"] is not None and settings.witnesses:
        # A new checkpoint: ask the witnesses (queued, or on a thread): never in the way.
        try:
            request_witness_tick(settings)
        except Exception as exc:  # witnessing must never fail anchoring
            logging.getLogger(__name__).warning("witnessing postponed: %s", exc)
    return report


_WITNESSING: dict[str, Any] = {}


def witnessing_for(settings: Settings) -> Any:
    """The process's witness collection for these settings."""
    from traceability.witnessing.collection import Witnessing

    key = settings.model_dump_json()
    _engine, _sessions, log, _signer = platform_for(settings)
    with _LOCK:
        if key not in _WITNESSING:
            _WITNESSING[key] = Witnessing.from_settings(log, settings)
        return _WITNESSING[key]


def run_witness_tick(settings: Settings) -> dict[str, Any]:
    """Ask every configured witness to cosign the checkpoints it has not cosigned yet."""
    if not settings.witnesses:
        return {"cosigned": {}, "witnessed": [], "errors": []}
    _engine, sessions, _log, _signer = platform_for(settings)
    return asdict(witnessing_for(settings).collect(sessions))


_EAGER_WITNESS: dict[str, list[bool]] = {}


def _eager_witness_loop(settings: Settings, key: str) -> None:
    """Run witness ticks until no request came in meanwhile (one thread per settings)."""
    while True:
        with _LOCK:
            state = _EAGER_WITNESS[key]
            if not state[1]:
                state[0] = False
                return
            state[1] = False
        try:
            run_witness_tick(settings)
        except Exception:  # a thread must not die silently: say why, and stop this round
            logging.getLogger(__name__).exception("witness collection failed")


def make_celery(settings: Settings) -> Celery:
    """A Celery app for these settings, with the anchoring task and its beat schedule."""
    app = Celery("sunledger")
    if settings.broker_url is None:
        app.conf.update(
            broker_url="memory://localhost/",  # a host keeps kombu from warning
            result_backend="cache+memory://",
            task_always_eager=True,
            task_eager_propagates=True,
        )
    else:
        app.conf.update(
            broker_url=settings.broker_url,
            result_backend=settings.broker_url,
            task_acks_late=True,
            worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True,
            beat_schedule={
                "anchor": {
                    "task": ANCHOR_TICK,
                    "schedule": settings.anchor_interval_seconds,
                    # A beat tick not started by the next one is dropped, not run late:
                    # while the chain stalls a worker, they do not queue up to run in a row.
                    "options": {"expires": max(5.0, float(settings.anchor_interval_seconds))},
                },
                "probe-watch": {"task": PROBE_WATCH, "schedule": 60.0},
                "alert-escalation": {"task": ALERT_ESCALATION, "schedule": 300.0},
                "webhook-delivery": {"task": WEBHOOK_DELIVERY, "schedule": 15.0},
                "record-checks": {"task": RECORD_CHECKS, "schedule": 300.0},
                "witness": {"task": WITNESS_TICK, "schedule": settings.witness_interval_seconds},
                "day-summaries": {"task": DAY_SUMMARIES, "schedule": 300.0},
            },
            beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        )

    @app.task(name=ANCHOR_TICK, shared=False)  # type: ignore[untyped-decorator]
    def anchor_tick(force: bool = False) -> dict[str, Any]:
        if settings.broker_url is not None:
            tick_started(settings)
        return run_anchor_tick(settings, force=force)

    @app.task(name=PROBE_WATCH, shared=False)  # type: ignore[untyped-decorator]
    def probe_watch() -> dict[str, Any]:
        return run_probe_watch(settings)

    @app.task(name=ALERT_ESCALATION, shared=False)  # type: ignore[untyped-decorator]
    def alert_escalation(now: str | None = None) -> dict[str, Any]:
        return run_alert_escalation(settings, _instant(now))

    @app.task(name=WEBHOOK_DELIVERY, shared=False)  # type: ignore[untyped-decorator]
    def webhook_delivery(now: str | None = None) -> dict[str, Any]:
        return run_webhook_delivery(settings, _instant(now))

    @app.task(name=RECORD_CHECKS, shared=False)  # type: ignore[untyped-decorator]
    def record_checks(now: str | None = None) -> dict[str, Any]:
        return run_record_checks(settings, _instant(now))

    @app.task(name=WITNESS_TICK, shared=False)  # type: ignore[untyped-decorator]
    def witness_tick() -> dict[str, Any]:
        return run_witness_tick(settings)

    @app.task(name=DAY_SUMMARIES, shared=False)  # type: ignore[untyped-decorator]
    def day_summaries(now: str | None = None) -> dict[str, Any]:
        return run_day_summaries(settings, _instant(now))

    @app.task(name=VISION_CLIP, shared=False)  # type: ignore[untyped-decorator]
    def vision_clip(camera_id: str, path: str, start: str | None = None) -> dict[str, Any]:
        return run_vision_clip(settings, camera_id, path, _instant(start))

    return app


def _instant(text: str | None) -> datetime | None:
    """A task's optional ``now`` (ISO 8601 with zone); tasks travel as JSON, so as text."""
    return None if text is None else datetime.fromisoformat(text)


def run_alert_escalation(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Yellow and red cards for overdue alerts; their notifications go out after commit."""
    from traceability.alerts.escalation import escalate_overdue
    from traceability.storage.db import transaction

    _engine, sessions, log, _signer = platform_for(settings)
    with transaction(sessions) as session:
        given = escalate_overdue(session, log, now or datetime.now(UTC))
    if given:
        request_webhook_delivery(settings)
    return {"escalated": [{"alert_id": g.alert_id, "card": g.card} for g in given]}


def run_record_checks(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Records that should exist by now: the morning check before the first shift, the
    samples of each meal. Each miss opens one alert per premises and day."""
    from traceability.records.checks import RecordChecks
    from traceability.storage.db import transaction

    _engine, sessions, log, _signer = platform_for(settings)
    with transaction(sessions) as session:
        opened = RecordChecks().tick(session, log, now or datetime.now(UTC))
    if opened:
        request_webhook_delivery(settings)
    return {"opened": opened}


def run_webhook_delivery(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Send the webhook deliveries that are due (new ones, and retries whose time came)."""
    from traceability.alerts.webhooks import deliver_due

    _engine, sessions, _log, _signer = platform_for(settings)
    return asdict(deliver_due(sessions, now or datetime.now(UTC)))


def run_probe_watch(settings: Settings) -> dict[str, Any]:
    """Silent-probe and other time-based rules for every active device."""
    from traceability.devices.intake import ProbeIntake, watch
    from traceability.storage.db import transaction

    _engine, sessions, log, signer = platform_for(settings)
    with transaction(sessions) as session:
        judgement = watch(ProbeIntake(log, signer), session, datetime.now(UTC))
    return {"opened": judgement.opened, "recovered": judgement.recovered}


def run_day_summaries(settings: Settings, now: datetime | None = None) -> dict[str, Any]:
    """Log the probe day summaries that are due: closed days, and today's running one."""
    from traceability.public_record.day_summaries import DaySummaries
    from traceability.storage.db import transaction

    _engine, sessions, log, _signer = platform_for(settings)
    with transaction(sessions) as session:
        report = DaySummaries(log).tick(session, now or datetime.now(UTC))
    return {"closed": report.closed, "running": report.running}


def run_vision_clip(
    settings: Settings, camera_id: str, path: str, start: datetime | None = None
) -> dict[str, Any]:
    """Run a registered camera's vision checker over an uploaded clip and log the results."""
    from pathlib import Path

    from traceability.entrypoints.vision_checker import analyze_uploaded_clip

    _engine, sessions, log, _signer = platform_for(settings)
    return analyze_uploaded_clip(sessions, log, camera_id, Path(path), start)


_APPS: dict[str, Celery] = {}


def celery_for(settings: Settings) -> Celery:
    """The process's Celery app for these settings."""
    key = settings.model_dump_json()
    with _LOCK:
        if key not in _APPS:
            _APPS[key] = make_celery(settings)
        return _APPS[key]


class OneAtATime:
    """Runs a job in the caller's thread, never two at once: a call that finds the job
    running asks for one more run and returns at once (calls coalesce into runs)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._again = threading.Event()

    def run(self, job: Callable[[], object], *, wait: bool = False) -> bool:
        """Run ``job`` (again while more runs were asked for); False if another caller is
        running it and will run it once more. ``wait`` blocks until this caller runs it."""
        while True:
            if not self._lock.acquire(blocking=wait):
                self._again.set()
                if self._lock.locked():
                    return False  # the running caller sees the flag when it is done
                continue  # it finished meanwhile: run it here
            try:
                self._again.clear()
                job()
                while self._again.is_set():
                    self._again.clear()
                    job()
            finally:
                self._lock.release()
            if not self._again.is_set():
                return True
            wait = False  # asked for between the last run and the release


_EAGER_TICKS: dict[str, OneAtATime] = {}
_REDIS: dict[str, Any] = {}
TICK_QUEUED_KEY = "sunledger:anchor-tick-queued:"
"""Redis key (plus the log origin) set while an ingest-requested tick waits in the broker."""


def _tick_queued_key(settings: Settings) -> str:
    return TICK_QUEUED_KEY + settings.log_origin


def _redis_for(settings: Settings) -> Any:
    """A Redis client on the broker, when the broker is Redis (None otherwise)."""
    url = settings.broker_url
    if url is None or not url.startswith(("redis://", "rediss://", "unix://")):
        return None
    key = "redis:" + url
    with _LOCK:
        if key not in _PLATFORMS:
            import redis

            _PLATFORMS[key] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _PLATFORMS[key]


def tick_started(settings: Settings) -> None:
    """A tick started: later commits need a new one (the one queued is being used)."""
    client = _redis_for(settings)
    if client is not None:
        client.delete(_tick_queued_key(settings))


def request_anchor_tick(settings: Settings, *, force: bool = False) -> None:
    """Ask for a tick after a commit.

    Eager mode (no broker): runs in the caller's thread, one at a time per log; a call
    while a tick runs (a stalled chain, say) returns at once and the running tick goes
    once more. With a broker: queued, but at most one ingest-requested tick waits in the
    broker at a time (a Redis key, cleared when a tick starts; it expires after
    ``max(60, 4 × anchor interval)`` s in case a worker lost it), so ticks do not pile up
    while the chain is down. ``force`` always queues (or runs, waiting its turn).
    """
    tick = celery_for(settings).tasks[ANCHOR_TICK]
    if settings.broker_url is None:
        with _LOCK:
            flight = _EAGER_TICKS.setdefault(settings.model_dump_json(), OneAtATime())
        flight.run(lambda: tick.delay(force=force), wait=force)
        return
    client = _redis_for(settings)
    if client is not None and not force:
        ttl = max(60, 4 * int(settings.anchor_interval_seconds))
        if not client.set(_tick_queued_key(settings), "1", nx=True, ex=ttl):
            return  # one is already waiting: it will see these events too
    tick.delay(force=force)


def request_day_summaries(settings: Settings) -> None:
    """The embedded mode's eager path: log the due summaries now. With a broker the beat
    does it (every five minutes), so a commit asks for nothing."""
    if settings.broker_url is None:
        celery_for(settings).tasks[DAY_SUMMARIES].delay()


def request_webhook_delivery(settings: Settings) -> None:
    """Ask for webhook delivery after a commit: runs now in eager mode, queued otherwise."""
    celery_for(settings).tasks[WEBHOOK_DELIVERY].delay()


def request_witness_tick(settings: Settings) -> None:
    """Ask for cosignatures: queued on the broker, or (eager mode) on a background thread,
    so that a slow or absent witness never holds up the request that made a checkpoint."""
    if not settings.witnesses:
        return
    if settings.broker_url is not None:
        celery_for(settings).tasks[WITNESS_TICK].delay()
        return
    key = settings.model_dump_json()
    with _LOCK:
        state = _EAGER_WITNESS.setdefault(key, [False, False])
        state[1] = True  # wanted
        if state[0]:
            return  # the running thread will go round once more
        state[0] = True  # running
    threading.Thread(
        target=_eager_witness_loop, args=(settings, key), name="witness-collection", daemon=True
    ).start()


def wait_for_eager_witnessing(settings: Settings, timeout: float = 60.0) -> bool:
    """Block until the eager witness thread for these settings is idle (tests, the demo)."""
    import time

    key = settings.model_dump_json()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _LOCK:
            state = _EAGER_WITNESS.get(key)
            if state is None or not state[0]:
                return True
        time.sleep(0.05)
    return False
