"""Operations: /readyz names each service that does not answer; /metrics from the database."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from local_ports import free_port
from seeded_city import City

from api.app import create_app
from traceability.alerts.raising import open_alert
from traceability.entrypoints.worker import run_anchor_tick
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)


def metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    pattern = rf"^{name}{{{re.escape(wanted)}}} (\S+)$" if labels else rf"^{name} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found is not None, f"{name} {labels} not in metrics"
    return float(found.group(1))


def test_ready_on_the_embedded_default(city: City) -> None:
    answer = city.client.get("/readyz")
    assert answer.status_code == 200
    checks = answer.json()["checks"]
    assert {name for name, c in checks.items() if c["ok"]} == {"database", "broker", "chain"}


def test_not_ready_names_the_broker_and_chain_that_do_not_answer(settings: Settings) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    app = create_app(
        settings.model_copy(
            update={
                "broker_url": f"redis://127.0.0.1:{free_port()}/0",
                "chain": "hardhat",
                "chain_rpc_url": dead,
            }
        )
    )
    with TestClient(app) as client:
        answer = client.get("/readyz")
    app.state.engine.dispose()
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["broker"]["ok"] is False and checks["chain"]["ok"] is False
    assert dead in checks["chain"]["detail"]


def test_ready_with_the_real_redis(settings: Settings, redis_url: str) -> None:
    app = create_app(settings.model_copy(update={"broker_url": redis_url}))
    with TestClient(app) as client:
        answer = client.get("/readyz")
        text = client.get("/metrics").text
    app.state.engine.dispose()
    assert answer.json()["checks"]["broker"]["ok"] is True
    assert metric(text, "sunledger_task_queue_depth") >= 0


def test_metrics_show_ingest_anchor_lag_and_alerts(city: City) -> None:
    platform = city.app.state.platform
    now = datetime.now(UTC)
    with transaction(platform.sessions) as session:
        opened = [
            open_alert(
                session,
                premises_id="p-1",
                subject="premises:p-1",
                source="record",
                rule=f"metrics_{n}",
                alert_class=1 + n % 2,
                detail="for the metrics",
                started_at=now,
                now=now,
            )
            for n in range(3)
        ]
        Ingest(platform.log).append(session, [o.event for o in opened])
    before = city.client.get("/metrics")
    assert before.status_code == 200 and before.headers["content-type"].startswith("text/plain")
    text = before.text
    assert metric(text, "sunledger_log_size") == 3
    assert metric(text, "sunledger_anchor_lag_events") == 3
    assert metric(text, "sunledger_anchor_lag_seconds") >= 0
    assert metric(text, "sunledger_ingest_events_per_second") == 3 / 60
    assert (
        metric(text, "sunledger_alerts", **{"class": "1", "status": "open", "escalation": "none"})
        == 2
    )
    assert "# TYPE sunledger_alerts gauge" in text
    run_anchor_tick(platform, force=True)
    after = city.client.get("/metrics").text
    assert metric(after, "sunledger_anchor_lag_events") == 0
    assert metric(after, "sunledger_anchor_lag_seconds") == 0
    assert metric(after, "sunledger_anchored_tree_size") == 3
