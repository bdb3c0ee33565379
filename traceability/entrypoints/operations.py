"""What operators watch: readiness of the services a process needs, and metrics.

Metrics are read from the database, not counted in one process, so every API
process and worker answers the same figures (several API processes run side
by side in a deployment). The Prometheus text format is written by hand: it
is a few lines, and it spares a dependency.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from traceability.alerts.repository import alert_counts
from traceability.settings import Settings
from traceability.storage.models import (
    AnchorRow,
    CameraRow,
    DeviceRow,
    EventRow,
    LogState,
    WebhookDeliveryRow,
)
from traceability.transparency.events import as_utc

ON_CHAIN = ("confirmed", "final")
RATE_WINDOW = timedelta(seconds=60)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_database(session: Session) -> Check:
    try:
        session.execute(text("SELECT 1"))
    except Exception as exc:
        return Check("database", False, f"{type(exc).__name__}: {exc}"[:300])
    return Check("database", True, session.get_bind().dialect.name)


def check_broker(settings: Settings) -> Check:
    if settings.broker_url is None:
        return Check("broker", True, "none (tasks run eagerly in the API process)")
    from kombu import Connection  # type: ignore[attr-defined]

    try:
        with Connection(settings.broker_url, connect_timeout=2) as connection:  # type: ignore[no-untyped-call]
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return Check("broker", False, f"{type(exc).__name__}: {exc}"[:300])
    return Check("broker", True, settings.broker_url.split("@")[-1])


def check_chain(settings: Settings) -> Check:
    if settings.chain == "embedded":
        return Check("chain", True, "embedded (in process)")
    url = settings.chain_rpc_url
    try:
        answer = httpx.post(
            url,
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            timeout=2.0,
        )
        chain_id = int(answer.json()["result"], 16)
    except Exception as exc:
        return Check("chain", False, f"{url}: {type(exc).__name__}: {exc}"[:300])
    return Check("chain", True, f"{url} (chain id {chain_id})")


def readiness(session: Session, settings: Settings) -> list[Check]:
    """Database, broker and chain: each reachable, or why not."""
    return [check_database(session), check_broker(settings), check_chain(settings)]


def _broker_queue_depth(settings: Settings) -> int | None:
    """Messages waiting in Celery's default queue (Redis brokers only; None otherwise)."""
    if settings.broker_url is None or not settings.broker_url.startswith("redis"):
        return None
    import redis

    try:
        client = redis.Redis.from_url(settings.broker_url, socket_timeout=2)
        return int(client.llen("celery"))
    except redis.RedisError:
        return None


@dataclass(frozen=True)
class Sample:
    name: str
    help: str
    value: float
    labels: tuple[tuple[str, str], ...] = ()


def metric_samples(session: Session, settings: Settings, now: datetime) -> list[Sample]:
    state = session.execute(select(LogState)).scalar_one_or_none()
    size = 0 if state is None else state.tree_size
    recent = session.execute(
        select(func.count()).select_from(EventRow).where(EventRow.recorded_at >= now - RATE_WINDOW)
    ).scalar_one()
    anchored = session.execute(
        select(func.max(AnchorRow.tree_size)).where(AnchorRow.status.in_(ON_CHAIN))
    ).scalar_one()
    anchored_size = int(anchored or 0)
    oldest_unanchored = session.execute(
        select(EventRow.recorded_at).where(EventRow.leaf_index == anchored_size)
    ).scalar_one_or_none()
    lag_seconds = (
        0.0
        if oldest_unanchored is None or anchored_size >= size
        else max(0.0, (now - as_utc(oldest_unanchored)).total_seconds())
    )
    samples = [
        Sample("sunledger_log_size", "Events in the log.", size),
        Sample(
            "sunledger_ingest_events_per_second",
            "Events logged per second over the last 60 s.",
            recent / RATE_WINDOW.total_seconds(),
        ),
        Sample(
            "sunledger_anchor_lag_events",
            "Events not yet covered by a mined anchor.",
            max(0, size - anchored_size),
        ),
        Sample(
            "sunledger_anchor_lag_seconds",
            "Age of the oldest event not yet covered by a mined anchor.",
            lag_seconds,
        ),
        Sample(
            "sunledger_anchored_tree_size", "Largest tree size anchored on chain.", anchored_size
        ),
    ]
    samples += _counts(
        session,
        AnchorRow.status,
        "sunledger_anchor_outbox",
        "Anchors in the outbox by status.",
        "status",
    )
    samples += _counts(
        session,
        WebhookDeliveryRow.status,
        "sunledger_webhook_outbox",
        "Webhook deliveries by status.",
        "status",
    )
    samples += _counts(
        session, DeviceRow.status, "sunledger_devices", "Registered probes by status.", "status"
    )
    for counted in alert_counts(session):
        samples.append(
            Sample(
                "sunledger_alerts",
                "Alerts by class, status and escalation card.",
                counted.count,
                (
                    ("class", str(counted.alert_class)),
                    ("status", counted.status),
                    ("escalation", counted.escalation),
                ),
            )
        )
    samples += _camera_samples(session)
    depth = _broker_queue_depth(settings)
    if depth is not None:
        samples.append(
            Sample("sunledger_task_queue_depth", "Celery tasks waiting on the broker.", depth)
        )
    return samples


def _camera_samples(session: Session) -> list[Sample]:
    """Per camera: frames analysed, last frame time, alerts by kind, detectors that ran."""
    samples: list[Sample] = []
    for row in session.execute(select(CameraRow).order_by(CameraRow.camera_id)).scalars():
        camera = (("camera", row.camera_id),)
        samples.append(
            Sample(
                "sunledger_camera_frames_analysed",
                "Frames the vision checker analysed, by camera.",
                int(row.frames_analysed or 0),
                camera,
            )
        )
        if row.last_frame_at is not None:
            samples.append(
                Sample(
                    "sunledger_camera_last_frame_timestamp_seconds",
                    "Unix time of the camera's latest frame.",
                    as_utc(row.last_frame_at).timestamp(),
                    camera,
                )
            )
        for kind, count in sorted(json.loads(row.alerts_by_kind or "{}").items()):
            samples.append(
                Sample(
                    "sunledger_camera_alerts",
                    "Alerts the vision checker opened, by camera and kind.",
                    int(count),
                    (*camera, ("kind", str(kind))),
                )
            )
        for detector in json.loads(row.detectors or "[]"):
            samples.append(
                Sample(
                    "sunledger_camera_detector",
                    "Detectors that ran on the camera's latest frames (1 each); the face "
                    "detector blurring evidence is blur:centerface or its fallback.",
                    1,
                    (*camera, ("detector", str(detector))),
                )
            )
    return samples


def _counts(session: Session, column: object, name: str, help_: str, label: str) -> list[Sample]:
    rows = session.execute(select(column, func.count()).group_by(column))  # type: ignore[call-overload]
    return [Sample(name, help_, count, ((label, str(value)),)) for value, count in rows]


def prometheus_text(samples: Iterable[Sample]) -> str:
    """The Prometheus text exposition format (version 0.0.4)."""
    lines: list[str] = []
    described: set[str] = set()
    for sample in samples:
        if sample.name not in described:
            described.add(sample.name)
            lines.append(f"# HELP {sample.name} {sample.help}")
            lines.append(f"# TYPE {sample.name} gauge")
        labels = ",".join(f"{key}={json.dumps(value)}" for key, value in sample.labels)
        value = repr(float(sample.value)) if sample.value % 1 else str(int(sample.value))
        lines.append(f"{sample.name}{{{labels}}} {value}" if labels else f"{sample.name} {value}")
    return "\n".join(lines) + "\n"


def utc_now() -> datetime:
    return datetime.now(UTC)
