"""Every role against every endpoint, including the cross-tenant cases.

The target is always premises p-1 (restaurant rest-1, district d1) and things
of p-1 (an alert, an attachment, a lot). ``rest-2`` and ``reg-2`` are the
other tenant and the other district. For each endpoint the table says who
may pass; everyone else must get 401 (no key) or 403, and nobody the table
lets through may get either. Requests carry valid input, so a refusal cannot
hide behind a validation error. A new endpoint fails this test until it has
its row.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cv2
import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from seeded_city import City

from traceability.alerts.raising import open_alert
from traceability.storage.db import transaction
from traceability.transparency.ingest import Ingest

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

CALLERS = ("anonymous", "admin", "rest-1", "rest-2", "reg-1", "reg-2", "auditor")
EVERYONE = frozenset(CALLERS)
ANY_KEY = EVERYONE - {"anonymous"}
READERS_OF_P1 = frozenset({"admin", "rest-1", "reg-1", "auditor"})
ADMIN = frozenset({"admin"})
OWNER = frozenset({"rest-1"})
REGULATOR = frozenset({"reg-1"})
OWNER_OR_REGULATOR = frozenset({"rest-1", "reg-1"})
TODAY = datetime.now(UTC).date()


@dataclass
class Fixtures:
    """What the requests point at, made once per test."""

    alert_id: str
    attachment: str
    device_key: Ed25519PrivateKey
    counter: list[int] = field(default_factory=lambda: [0])

    def unique(self, prefix: str) -> str:
        self.counter[0] += 1
        return f"{prefix}-{self.counter[0]}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    allowed: frozenset[str]
    request: Callable[[Fixtures], dict[str, Any]] = lambda _f: {}
    """Keyword arguments of the TestClient call (json=, content=, params=, headers=)."""


def import_request(f: Fixtures) -> dict[str, Any]:
    """A one-inspection CSV of inspection history for district d1."""
    business = f.unique("b")
    body = (
        f"business_id,business_name,inspection_date,score\n{business},Matrix Diner,2020-01-02,88\n"
    )
    return {
        "content": body.encode(),
        "params": {"format": "csv", "district": "d1", "source": "matrix"},
        "headers": {"content-type": "text/csv"},
    }


def public_key(_f: Fixtures) -> str:
    """A fresh key each time: a key is registered to one device or gateway only."""
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def new_device(f: Fixtures) -> dict[str, Any]:
    return {
        "json": {
            "device_id": f.unique("fr"),
            "premises_id": "p-1",
            "location": "cold room",
            "kind": "fridge",
            "public_key": public_key(f),
        }
    }


def waste_oil(f: Fixtures) -> dict[str, Any]:
    return {
        "json": {
            "record_type": "waste_oil",
            "record": {
                "date": TODAY.isoformat(),
                "oil_type": "frying_oil",
                "quantity": 4.5,
                "unit": "kg",
                "collector": "Green Oil Recycling",
                "collector_licence": "HW-2024-118",
                "collected_at": f"{TODAY.isoformat()}T00:30:00+08:00",
            },
        }
    }


def inspection(_f: Fixtures) -> dict[str, Any]:
    return {
        "json": {
            "inspected_on": (TODAY - timedelta(days=1)).isoformat(),
            "items": [{"item": "cold storage below 8 °C", "passed": True}],
            "score": 92,
        }
    }


def png(_f: Fixtures) -> dict[str, Any]:
    ok, data = cv2.imencode(".png", np.full((8, 8, 3), 200, dtype=np.uint8))
    assert ok
    return {"content": data.tobytes(), "headers": {"Content-Type": "image/png"}}


def csv_body(_f: Fixtures) -> dict[str, Any]:
    header = "date,oil_type,quantity,unit,collector,collector_licence,collected_at"
    row = f"{TODAY.isoformat()},frying_oil,2,kg,Green Oil,HW-1,{TODAY.isoformat()}T00:10"
    return {
        "content": f"{header}\n{row}\n".encode(),
        "params": {"record_type": "waste_oil"},
        "headers": {"Content-Type": "text/csv"},
    }


def new_camera(f: Fixtures) -> dict[str, Any]:
    return {"json": {"config": {"camera_id": f.unique("cam"), "premises_id": "p-1"}}}


def note(_f: Fixtures) -> dict[str, Any]:
    return {"json": {"note": "seen"}}


def rectification(f: Fixtures) -> dict[str, Any]:
    return {"json": {"note": "door seal replaced", "evidence_sha256": [f.attachment]}}


MATRIX: list[Call] = [
    # Public and auditor surfaces: no key needed.
    Call("GET", "/healthz", EVERYONE),
    Call("GET", "/readyz", EVERYONE),
    Call("GET", "/metrics", EVERYONE),
    Call("GET", "/v1/log/checkpoint", EVERYONE),
    Call("GET", "/v1/log/public-key", EVERYONE),
    Call("GET", "/v1/log/entries/{index}", EVERYONE),
    Call("GET", "/v1/log/proof/inclusion", EVERYONE, lambda _f: {"params": {"index": 0}}),
    Call(
        "GET",
        "/v1/log/proof/consistency",
        EVERYONE,
        lambda _f: {"params": {"first": 1, "second": 1}},
    ),
    Call("GET", "/v1/log/anchors", EVERYONE),
    Call("GET", "/v1/trust", EVERYONE),
    Call("GET", "/v1/proofs/{event_id}", EVERYONE),
    Call("GET", "/v1/proofs", EVERYONE, lambda _f: {"params": {"event_id": ["x", "y"]}}),
    Call("GET", "/v1/proofs/{event_id}.tlog-proof", EVERYONE),
    Call("GET", "/v1/log/witnesses", EVERYONE),
    Call("GET", "/checkpoint", EVERYONE),
    Call("GET", "/tile/{path}", EVERYONE),
    Call(
        "POST",
        "/v1/chain/rpc",
        EVERYONE,
        lambda _f: {"json": {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}},
    ),
    Call("POST", "/v1/probes/readings", EVERYONE, lambda _f: {"json": {"readings": []}}),
    Call("GET", "/v1/records/csv-templates/{record_type}", EVERYONE),
    Call("GET", "/v1/records/csv-templates/{record_type}/legend", EVERYONE),
    Call("GET", "/v1/public/restaurants/{premises_id}", EVERYONE),
    Call("GET", "/v1/public/restaurants/{premises_id}/qr.svg", EVERYONE),
    Call("GET", "/v1/public/restaurants/{premises_id}/qr.png", EVERYONE),
    Call("GET", "/01/{gtin}/10/{lot}", EVERYONE),
    Call("GET", "/01/{gtin}/10/{lot}/qr.svg", EVERYONE),
    Call("GET", "/v1/public/open-data/inspections.csv", EVERYONE),
    Call("GET", "/v1/public/open-data/inspections.json", EVERYONE),
    Call("GET", "/v1/public/open-data/lives.zip", EVERYONE),
    Call("GET", "/v1/public/open-data/fhrs/establishments", EVERYONE),
    Call("GET", "/v1/public/config", EVERYONE),
    Call("GET", "/v1/public/premises", EVERYONE),
    Call("GET", "/", EVERYONE),
    Call("GET", "/r/{premises_id}", EVERYONE),
    Call("GET", "/console", EVERYONE),
    Call("GET", "/kitchen", EVERYONE),
    Call("GET", "/static/{asset}", EVERYONE),
    Call("GET", "/favicon.ico", EVERYONE),
    Call("GET", "/static/js/bundle/{entry}.js", EVERYONE),
    # 404 for everyone here (the fixture attachment is not vision evidence), never 401/403.
    Call("GET", "/v1/public/evidence/{sha256}", EVERYONE),
    # 404 for everyone here too (the fixture attachment is not a kitchen snapshot).
    Call("GET", "/v1/public/snapshots/{sha256}", EVERYONE),
    # Any key.
    Call("GET", "/v1/me", ANY_KEY),
    Call("GET", "/v1/me/premises", ANY_KEY),
    Call("GET", "/v1/alerts", ANY_KEY),
    Call(
        "GET",
        "/v1/alerts/stream",
        ANY_KEY,
        lambda _f: {"params": {"max_events": 1, "max_seconds": 1}},
    ),
    # Admin only.
    Call("POST", "/v1/admin/devices", ADMIN, new_device),
    Call("GET", "/v1/admin/devices/{device_id}", ADMIN),
    Call(
        "POST",
        "/v1/admin/devices/{device_id}/keys",
        ADMIN,
        lambda f: {"json": {"public_key": public_key(f)}},
    ),
    Call("POST", "/v1/admin/devices/{device_id}/retire", ADMIN),
    Call(
        "POST",
        "/v1/admin/gateways",
        ADMIN,
        lambda f: {
            "json": {
                "gateway_id": f.unique("gw"),
                "premises_id": "p-1",
                "public_key": public_key(f),
            }
        },
    ),
    Call("POST", "/v1/admin/gateways/{gateway_id}/retire", ADMIN),
    Call(
        "POST",
        "/v1/admin/orgs",
        ADMIN,
        lambda f: {"json": {"org_id": f.unique("org"), "name": "New", "role": "auditor"}},
    ),
    Call("GET", "/v1/admin/orgs", ADMIN),
    Call("POST", "/v1/admin/orgs/{org_id}/keys", ADMIN, lambda _f: {"json": {"label": "matrix"}}),
    Call("POST", "/v1/admin/keys/{key_id}/revoke", ADMIN),
    Call(
        "PUT",
        "/v1/admin/orgs/{org_id}/webhook",
        ADMIN,
        lambda _f: {"json": {"url": "http://127.0.0.1:9/hook"}},
    ),
    Call(
        "POST",
        "/v1/admin/premises",
        ADMIN,
        lambda f: {
            "json": {
                "premises_id": f.unique("p"),
                "org_id": "rest-1",
                "name": "Second site",
                "kind": "restaurant",
                "licence_number": f.unique("JY1").replace("-", ""),
                "licence_issued_on": "2024-05-01",
                "district": "d1",
                "address": "9 Side St",
            }
        },
    ),
    Call("POST", "/v1/admin/cameras", ADMIN, new_camera),
    Call("GET", "/v1/admin/cameras", ADMIN),
    Call("GET", "/v1/premises/{premises_id}/cameras", READERS_OF_P1),
    # The restaurant's own records.
    Call("POST", "/v1/premises/{premises_id}/records", OWNER, waste_oil),
    Call("GET", "/v1/premises/{premises_id}/records", READERS_OF_P1),
    Call("POST", "/v1/premises/{premises_id}/records/csv", OWNER, csv_body),
    Call("POST", "/v1/premises/{premises_id}/attachments", OWNER, png),
    Call("GET", "/v1/attachments/{sha256}", READERS_OF_P1),
    # Alerts of p-1.
    Call("GET", "/v1/alerts/{alert_id}", READERS_OF_P1),
    Call("POST", "/v1/alerts/{alert_id}/acknowledge", OWNER_OR_REGULATOR, note),
    Call(
        "POST",
        "/v1/alerts/{alert_id}/request-rectification",
        REGULATOR,
        lambda _f: {"json": {"note": "replace the seal"}},
    ),
    Call("POST", "/v1/alerts/{alert_id}/rectification", OWNER, rectification),
    Call("POST", "/v1/alerts/{alert_id}/close", REGULATOR, note),
    Call("POST", "/v1/alerts/{alert_id}/reopen", REGULATOR, lambda _f: {"json": {"note": "again"}}),
    # Regulator acts on its districts.
    Call("POST", "/v1/regulator/premises/{premises_id}/inspections", REGULATOR, inspection),
    Call("POST", "/v1/regulator/premises/{premises_id}/inspections/preview", REGULATOR, inspection),
    Call("GET", "/v1/regulator/premises/{premises_id}/inspections", READERS_OF_P1),
    Call("GET", "/v1/regulator/premises/{premises_id}/grades/{year}/preview", REGULATOR),
    Call("POST", "/v1/regulator/premises/{premises_id}/grades/{year}", REGULATOR),
    Call("GET", "/v1/regulator/premises/{premises_id}/grades", READERS_OF_P1),
    # Exports.
    Call(
        "GET",
        "/v1/exports/fsma204.csv",
        ANY_KEY,
        lambda _f: {"params": {"lot_code": "LOT-1"}},
    ),
    Call(
        "GET",
        "/v1/exports/epcis",
        READERS_OF_P1,
        lambda _f: {
            "params": {
                "premises_id": "p-1",
                "from": (TODAY - timedelta(days=3)).isoformat(),
                "to": TODAY.isoformat(),
            }
        },
    ),
    Call(
        "POST",
        "/v1/admin/imports/inspections",
        ADMIN,
        lambda f: import_request(f),
    ),
    Call(
        "POST",
        "/v1/regulator/imports/inspections",
        REGULATOR,
        lambda f: import_request(f),
    ),
]


def _fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = path.replace("{" + name + "}", value)
    return path


def _seed(city: City) -> tuple[Fixtures, dict[str, str]]:
    platform = city.app.state.platform
    now = datetime.now(UTC)
    device_key = Ed25519PrivateKey.generate()
    admin = city.headers("admin")
    fixture_png = png(None)  # type: ignore[arg-type]
    uploaded = city.client.post(
        "/v1/premises/p-1/attachments",
        content=fixture_png["content"],
        headers={**city.headers("rest-1"), **fixture_png["headers"]},
    )
    assert uploaded.status_code == 201, uploaded.text
    with transaction(platform.sessions) as session:
        opened = open_alert(
            session,
            premises_id="p-1",
            subject="premises:p-1",
            source="record",
            rule="matrix_test",
            alert_class=2,
            detail="a test alert",
            started_at=now,
            now=now,
        )
        Ingest(platform.log).append(session, [opened.event])
    fixtures = Fixtures(opened.alert.alert_id, uploaded.json()["sha256"], device_key)
    device = city.client.post("/v1/admin/devices", headers=admin, **new_device(fixtures))
    gateway = city.client.post(
        "/v1/admin/gateways",
        headers=admin,
        json={"gateway_id": "gw-matrix", "premises_id": "p-1", "public_key": public_key(fixtures)},
    )
    spare = city.client.post("/v1/admin/orgs/rest-2/keys", json={"label": "spare"}, headers=admin)
    assert device.status_code == gateway.status_code == spare.status_code == 201
    values = {
        "event_id": opened.event.event_id,
        "alert_id": fixtures.alert_id,
        "sha256": fixtures.attachment,
        "device_id": device.json()["device_id"],
        "gateway_id": "gw-matrix",
        "key_id": spare.json()["key_id"],
        "premises_id": "p-1",
        "org_id": "rest-1",
        "index": "0",
        "record_type": "waste_oil",
        "year": str(TODAY.year),
        "gtin": "09506000134352",
        "lot": "LOT-1",
        "asset": "js/verify.js",
        "entry": "consumer",
        "path": "entries/000.p/1",
    }
    return fixtures, values


def _operations(city: City) -> set[tuple[str, str]]:
    spec = city.app.openapi()
    return {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}


def test_every_endpoint_has_a_row(city: City) -> None:
    missing = _operations(city) - {(call.method, call.path) for call in MATRIX}
    assert not missing, f"endpoints without a row in the role matrix: {sorted(missing)}"


def test_no_role_passes_where_it_should_not(city: City) -> None:
    fixtures, values = _seed(city)
    wrong: list[str] = []
    tried = 0
    for call in MATRIX:
        path = _fill(call.path, values)
        for caller in CALLERS:
            kwargs = call.request(fixtures)
            headers = dict(kwargs.pop("headers", {}))
            if caller != "anonymous":
                headers.update(city.headers(caller))
            answer = city.client.request(call.method, path, headers=headers, **kwargs)
            tried += 1
            refused = answer.status_code in (401, 403)
            if caller in call.allowed and refused:
                wrong.append(f"{caller} refused at {call.method} {path}: {answer.text[:200]}")
            if caller not in call.allowed:
                if not refused:
                    wrong.append(
                        f"{caller} got {answer.status_code} at {call.method} {path}: "
                        f"{answer.text[:200]}"
                    )
                elif caller == "anonymous" and answer.status_code != 401:
                    wrong.append(f"anonymous got {answer.status_code}, not 401, at {path}")
                elif (
                    set(answer.json())
                    - {"error", "detail"}
                    - {"code", "params", "reading", "device_id"}
                ):
                    wrong.append(f"refusal at {path} is not in the error shape: {answer.text}")
    assert tried == len(MATRIX) * len(CALLERS)
    assert not wrong, "\n".join(wrong)


def test_expired_and_revoked_keys_pass_nowhere(city: City) -> None:
    from traceability.orgs.registry import Directory

    fixtures, values = _seed(city)
    directory = Directory()
    platform = city.app.state.platform
    now = datetime.now(UTC)
    with transaction(platform.sessions) as session:
        expired = directory.issue_key(
            session,
            "admin",
            label="old",
            now=now - timedelta(days=10),
            valid_for=timedelta(days=1),
        )
        revoked = directory.issue_key(session, "admin", label="gone", now=now)
        directory.revoke_key(session, revoked.key_id, now)
    successes = []
    for call in MATRIX:
        if call.allowed == EVERYONE:
            continue
        for token in (expired.token, revoked.token):
            kwargs = call.request(fixtures)
            headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {token}"}
            answer = city.client.request(
                call.method, _fill(call.path, values), headers=headers, **kwargs
            )
            if answer.status_code != 401:
                successes.append(f"{call.method} {call.path}: {answer.status_code}")
    assert not successes, successes
