"""Issue 15, over HTTP: poison readings are refused with their code (never 500), and a
database that stops answering gives 503 with Retry-After (never 500) on ingest,
``/healthz`` and the public pages, then everything answers again once it is back.

The outage is real: the app talks to the real PostgreSQL through a TCP proxy on
127.0.0.1 (``tests/tcp_proxy.py``) that the test cuts (connections reset, nothing
listening) and restores.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tcp_proxy import TcpProxy, proxied_postgres

from api.app import create_app
from traceability.orgs.registry import Directory
from traceability.settings import Settings
from traceability.storage.db import transaction

POISON = [
    ({"type": ["Temperature"], "value": 3, "uom": "CEL"}, "malformed"),
    ({"type": {"a": 1}, "value": 3, "uom": "CEL"}, "malformed"),
    ({"type": "Temperature", "value": 3, "uom": ["CEL"]}, "malformed"),
    ({"type": "Temperature", "value": int("9" * 401), "uom": "CEL"}, "impossible_value"),
    ({"type": "Temperature", "value": -int("9" * 401), "uom": "CEL"}, "impossible_value"),
]


def poison_body(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "readings": [
            {
                "device_id": "fr-1",
                "seq": 1,
                "measured_at": "2026-11-25T10:00:00Z",
                "values": [value],
                "sig": base64.b64encode(bytes(64)).decode(),
            }
        ]
    }


@pytest.mark.parametrize(("value", "code"), POISON)
def test_poison_readings_get_422_with_their_code(
    value: dict[str, Any], code: str, settings: Settings
) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        answer = client.post("/v1/probes/readings", json=poison_body(value))
    app.state.engine.dispose()
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["error"] == "ReadingRejected" and body["code"] == code, body
    assert body["reading"] == 0 and body["detail"]


@pytest.fixture
def proxied(postgres_url: str, tmp_path: Path) -> Iterator[tuple[TcpProxy, Settings]]:
    """Settings whose database is the real PostgreSQL (a private schema) behind a proxy."""
    with proxied_postgres(postgres_url, tmp_path, "outage.sunledger/log") as pair:
        yield pair


@pytest.mark.postgres
def test_database_down_gives_503_with_retry_after_then_recovers(
    proxied: tuple[TcpProxy, Settings],
) -> None:
    proxy, settings = proxied
    app = create_app(settings)
    now = datetime.now(UTC)
    directory = Directory()
    with transaction(app.state.platform.sessions) as session:
        directory.create_organisation(
            session, org_id="r1", name="r1 org", role="restaurant", districts=[], now=now
        )
        directory.add_premises(
            session,
            premises_id="p-1",
            org_id="r1",
            name="Restaurant p-1",
            kind="restaurant",
            licence_number="JY1P10000",
            licence_issued_on=date(2024, 1, 1),
            district="d1",
            address="1 Road",
            now=now,
        )
    reading = poison_body({"type": "Temperature", "value": 3, "uom": "CEL"})
    paths = [
        ("GET", "/healthz", None),
        ("GET", "/v1/public/restaurants/p-1", None),
        ("POST", "/v1/probes/readings", reading),
    ]
    with TestClient(app, raise_server_exceptions=False) as client:
        up = {path: client.request(m, path, json=b).status_code for m, path, b in paths}
        assert up == {
            "/healthz": 200,
            "/v1/public/restaurants/p-1": 200,
            "/v1/probes/readings": 422,
        }  # fmt: skip  (fr-1 is not registered)
        proxy.cut()
        for _round in range(3):  # pooled connections die first, then new ones are refused
            for method, path, body in paths:
                answer = client.request(method, path, json=body)
                assert answer.status_code == 503, (path, answer.status_code, answer.text)
                assert answer.headers["Retry-After"].isdigit()
                assert answer.json()["error"] == "ServiceUnavailable"
                assert "database" in answer.json()["detail"]
        proxy.restore()
        back = {path: client.request(m, path, json=b).status_code for m, path, b in paths}
        assert back == up
    app.state.engine.dispose()
