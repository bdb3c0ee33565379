"""Celery: the anchoring job, eager in the embedded mode, on Redis otherwise.

The app is built on the process's platform by ``make_celery``; nothing is read at
import time. ``sunledger worker`` opens the platform at process start and runs a
worker with beat, which calls the anchoring tick every ``anchor_interval_seconds``;
ingest also asks for a tick (after its commit) so that "every K events" does not wait
for the next beat. Every task runs on the platform its app was built on; work a task
queues with ``after_commit`` runs once its transaction commits.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from celery import Celery
from sqlalchemy.exc import SQLAlchemyError

from traceability.errors import SunledgerError
from traceability.platform import Platform
from traceability.settings import Settings
from traceability.storage.after_commit import after_commit

ANCHOR_TICK = "sunledger.anchor_tick"
PROBE_WATCH = "sunledger.probe_watch"
RECORD_CHECKS = "sunledger.record_checks"
ALERT_ESCALATION = "sunledger.alert_escalation"
WEBHOOK_DELIVERY = "sunledger.webhook_delivery"
VISION_CLIP = "sunledger.vision_clip"
WITNESS_TICK = "sunledger.witness_tick"
DAY_SUMMARIES = "sunledger.day_summaries"
_LOCK = threading.RLock()
logger = logging.getLogger(__name__)


def run_anchor_tick(platform: Platform, *, force: bool = False) -> dict[str, Any]:
    report = asdict(platform.anchoring.tick(platform.sessions, force=force))
    if report["scheduled"] is not None and platform.settings.witnesses:
        # A new checkpoint: ask the witnesses (queued, or on a thread): never in the way.
        try:
            request_witness_tick(platform)
        except Exception as exc:  # witnessing must never fail anchoring
            logger.warning("witnessing postponed: %s", exc)
    return report


def run_witness_tick(platform: Platform) -> dict[str, Any]:
    """Ask every configured witness to cosign the checkpoints it has not cosigned yet."""
    if not platform.settings.witnesses:
        return {"cosigned": {}, "witnessed": [], "errors": []}
    return asdict(platform.witnessing.collect(platform.sessions))


_EAGER_WITNESS: weakref.WeakKeyDictionary[Platform, list[bool]] = weakref.WeakKeyDictionary()


def _eager_witness_loop(platform: Platform) -> None:
    """Run witness ticks until no request came in meanwhile (one thread per platform)."""
    while True:
        with _LOCK:
            state = _EAGER_WITNESS[platform]
            if not state[1]:
                state[0] = False
                return
            state[1] = False
        try:
            run_witness_tick(platform)
        except Exception:  # a thread must not die silently: say why, and stop this round
            logger.exception("witness collection failed")


def make_celery(platform: Platform) -> Celery:
    """A Celery app whose tasks run on ``platform``, with its beat schedule."""
    settings = platform.settings
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
            tick_started(platform)
        return run_anchor_tick(platform, force=force)

    @app.task(name=PROBE_WATCH, shared=False)  # type: ignore[untyped-decorator]
    def probe_watch() -> dict[str, Any]:
        return run_probe_watch(platform)

    @app.task(name=ALERT_ESCALATION, shared=False)  # type: ignore[untyped-decorator]
    def alert_escalation(now: str | None = None) -> dict[str, Any]:
        return run_alert_escalation(platform, _instant(now))

    @app.task(name=WEBHOOK_DELIVERY, shared=False)  # type: ignore[untyped-decorator]
    def webhook_delivery(now: str | None = None) -> dict[str, Any]:
        return run_webhook_delivery(platform, _instant(now))

    @app.task(name=RECORD_CHECKS, shared=False)  # type: ignore[untyped-decorator]
    def record_checks(now: str | None = None) -> dict[str, Any]:
        return run_record_checks(platform, _instant(now))

    @app.task(name=WITNESS_TICK, shared=False)  # type: ignore[untyped-decorator]
    def witness_tick() -> dict[str, Any]:
        return run_witness_tick(platform)

    @app.task(name=DAY_SUMMARIES, shared=False)  # type: ignore[untyped-decorator]
    def day_summaries(now: str | None = None) -> dict[str, Any]:
        return run_day_summaries(platform, _instant(now))

    @app.task(name=VISION_CLIP, shared=False)  # type: ignore[untyped-decorator]
    def vision_clip(camera_id: str, path: str, start: str | None = None) -> dict[str, Any]:
        return run_vision_clip(platform, camera_id, path, _instant(start))

    return app


def _instant(text: str | None) -> datetime | None:
    """A task's optional ``now`` (ISO 8601 with zone); tasks travel as JSON, so as text."""
    return None if text is None else datetime.fromisoformat(text)


def run_alert_escalation(platform: Platform, now: datetime | None = None) -> dict[str, Any]:
    """Yellow and red cards for overdue alerts; their notifications go out after commit."""
    from traceability.alerts.escalation import escalate_overdue
    from traceability.storage.db import transaction

    with transaction(platform.sessions) as session:
        given = escalate_overdue(session, platform.log, now or datetime.now(UTC))
        if given:
            after_commit(session, lambda: request_webhook_delivery(platform))
    return {"escalated": [{"alert_id": g.alert_id, "card": g.card} for g in given]}


def run_record_checks(platform: Platform, now: datetime | None = None) -> dict[str, Any]:
    """Records that should exist by now: the morning check before the first shift, the
    samples of each meal. Each miss opens one alert per premises and day."""
    from traceability.records.checks import RecordChecks
    from traceability.storage.db import transaction

    with transaction(platform.sessions) as session:
        opened = RecordChecks().tick(session, platform.log, now or datetime.now(UTC))
        if opened:
            after_commit(session, lambda: request_webhook_delivery(platform))
    return {"opened": opened}


def run_webhook_delivery(platform: Platform, now: datetime | None = None) -> dict[str, Any]:
    """Send the webhook deliveries that are due (new ones, and retries whose time came)."""
    from traceability.alerts.webhooks import deliver_due

    return asdict(deliver_due(platform.sessions, now or datetime.now(UTC)))


def run_probe_watch(platform: Platform) -> dict[str, Any]:
    """Silent-probe and other time-based rules for every active device."""
    from traceability.devices.intake import ProbeIntake, watch
    from traceability.storage.db import transaction

    with transaction(platform.sessions) as session:
        intake = ProbeIntake(platform.log, platform.signer)
        judgement = watch(intake, session, datetime.now(UTC))
    return {"opened": judgement.opened, "recovered": judgement.recovered}


def run_day_summaries(platform: Platform, now: datetime | None = None) -> dict[str, Any]:
    """Log the probe day summaries that are due: closed days, and today's running one."""
    from traceability.public_record.day_summaries import DaySummaries
    from traceability.storage.db import transaction

    with transaction(platform.sessions) as session:
        report = DaySummaries(platform.log).tick(session, now or datetime.now(UTC))
    return {"closed": report.closed, "running": report.running}


def run_vision_clip(
    platform: Platform, camera_id: str, path: str, start: datetime | None = None
) -> dict[str, Any]:
    """Run a registered camera's vision checker over an uploaded clip and log the results."""
    from pathlib import Path

    from traceability.entrypoints.vision_checker import analyze_uploaded_clip

    return analyze_uploaded_clip(platform.sessions, platform.log, camera_id, Path(path), start)


_APPS: weakref.WeakKeyDictionary[Platform, Celery] = weakref.WeakKeyDictionary()


def celery_for(platform: Platform) -> Celery:
    """The Celery app on this platform (built once; its tasks run on the platform)."""
    with _LOCK:
        app = _APPS.get(platform)
        if app is None:
            app = _APPS[platform] = make_celery(platform)
        return app


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


_EAGER_TICKS: weakref.WeakKeyDictionary[Platform, OneAtATime] = weakref.WeakKeyDictionary()
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
    with _LOCK:
        if url not in _REDIS:
            import redis

            _REDIS[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _REDIS[url]


def tick_started(platform: Platform) -> None:
    """A tick started: later commits need a new one (the one queued is being used)."""
    client = _redis_for(platform.settings)
    if client is not None:
        client.delete(_tick_queued_key(platform.settings))


def request_anchor_tick(platform: Platform, *, force: bool = False) -> None:
    """Ask for a tick after a commit.

    Eager mode (no broker): runs in the caller's thread, one at a time per log; a call
    while a tick runs (a stalled chain, say) returns at once and the running tick goes
    once more. With a broker: queued, but at most one ingest-requested tick waits in the
    broker at a time (a Redis key, cleared when a tick starts; it expires after
    ``max(60, 4 × anchor interval)`` s in case a worker lost it), so ticks do not pile up
    while the chain is down. ``force`` always queues (or runs, waiting its turn).
    """
    settings = platform.settings
    tick = celery_for(platform).tasks[ANCHOR_TICK]
    if settings.broker_url is None:
        with _LOCK:
            flight = _EAGER_TICKS.setdefault(platform, OneAtATime())
        flight.run(lambda: tick.delay(force=force), wait=force)
        return
    client = _redis_for(settings)
    if client is not None and not force:
        ttl = max(60, 4 * int(settings.anchor_interval_seconds))
        if not client.set(_tick_queued_key(settings), "1", nx=True, ex=ttl):
            return  # one is already waiting: it will see these events too
    tick.delay(force=force)


def request_day_summaries(platform: Platform) -> None:
    """The embedded mode's eager path: log the due summaries now. With a broker the beat
    does it (every five minutes), so a commit asks for nothing."""
    if platform.settings.broker_url is None:
        celery_for(platform).tasks[DAY_SUMMARIES].delay()


def request_webhook_delivery(platform: Platform) -> None:
    """Ask for webhook delivery after a commit: runs now in eager mode, queued otherwise."""
    celery_for(platform).tasks[WEBHOOK_DELIVERY].delay()


def request_follow_up(platform: Platform, *, alerts: bool = False, readings: bool = False) -> None:
    """What a committed write asks for: after probe readings, the embedded mode logs the
    probe day summaries that are due; then an anchoring tick (queued, or eager: one at a
    time, so a stalled chain holds at most one thread), and when the transaction opened or
    moved alerts, webhook delivery (class 1 alerts are "immediate notice"; the beat would
    otherwise send them within 15 s). The write is stored already, so a failure here is
    logged and left to the beat."""
    if readings:
        try:
            request_day_summaries(platform)
        except (SunledgerError, SQLAlchemyError) as exc:
            logger.warning("probe day summaries postponed: %s", exc)
    try:
        request_anchor_tick(platform)
    except Exception as exc:  # committed already: the next tick (or the beat) anchors it
        logger.warning("anchoring postponed: %s", getattr(exc, "detail", exc))
    if alerts:
        try:
            request_webhook_delivery(platform)
        except (SunledgerError, SQLAlchemyError, OSError) as exc:
            # The transaction is committed; deliveries wait in the outbox for the beat.
            logger.warning("webhook delivery postponed: %s", exc)


def request_witness_tick(platform: Platform) -> None:
    """Ask for cosignatures: queued on the broker, or (eager mode) on a background thread,
    so that a slow or absent witness never holds up the request that made a checkpoint."""
    settings = platform.settings
    if not settings.witnesses:
        return
    if settings.broker_url is not None:
        celery_for(platform).tasks[WITNESS_TICK].delay()
        return
    with _LOCK:
        state = _EAGER_WITNESS.setdefault(platform, [False, False])
        state[1] = True  # wanted
        if state[0]:
            return  # the running thread will go round once more
        state[0] = True  # running
    threading.Thread(
        target=_eager_witness_loop, args=(platform,), name="witness-collection", daemon=True
    ).start()


def wait_for_eager_witnessing(platform: Platform, timeout: float = 60.0) -> bool:
    """Block until the eager witness thread of this platform is idle (tests, the demo)."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with _LOCK:
            state = _EAGER_WITNESS.get(platform)
            if state is None or not state[0]:
                return True
        time.sleep(0.05)
    return False
