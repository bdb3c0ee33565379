"""Organisations, premises and API keys: keys shown once, stored hashed, revocable."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from seeded_city import City
from sqlalchemy import select

from api.app import create_app
from traceability.errors import Conflict, Invalid, Unauthenticated
from traceability.orgs.registry import Directory
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import ApiKeyRow

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)


def test_me_names_the_caller_and_counts_its_reach(city: City) -> None:
    # A count, never the list: a regulator may reach thousands and every sign-in asks.
    own = city.client.get("/v1/me", headers=city.headers("rest-1")).json()
    assert own["premises_count"] == 1 and "premises" not in own
    regulator = city.client.get("/v1/me", headers=city.headers("reg-2")).json()
    assert regulator["role"] == "regulator" and regulator["premises_count"] == 1
    assert regulator["districts"] == ["d2"] and "premises" not in regulator
    # A second premises in d2 counts for its regulator, not for d1's.
    admin = city.headers("admin")
    added = city.client.post(
        "/v1/admin/premises",
        json={
            "premises_id": "p-9",
            "org_id": "rest-1",
            "name": "Annex",
            "kind": "restaurant",
            "licence_number": "JY13301000999",
            "licence_issued_on": "2025-03-01",
            "district": "d2",
            "address": "9 Side St",
        },
        headers=admin,
    )
    assert added.status_code == 201, added.text
    assert city.client.get("/v1/me", headers=city.headers("reg-2")).json()["premises_count"] == 2
    assert city.client.get("/v1/me", headers=city.headers("reg-1")).json()["premises_count"] == 1
    assert city.client.get("/v1/me", headers=city.headers("rest-1")).json()["premises_count"] == 2
    assert city.client.get("/v1/me", headers=city.headers("auditor")).json()["premises_count"] == 3
    answer = city.client.get("/v1/me")
    assert answer.status_code == 401 and answer.json()["error"] == "Unauthenticated"


def test_keys_are_stored_hashed_and_checked_whole(city: City) -> None:
    token = city.keys["rest-1"]
    with city.app.state.platform.sessions() as session:
        row = session.get(ApiKeyRow, city.key_ids["rest-1"])
        assert row is not None
        secret = token.split("_", 2)[2]
        assert bytes(row.secret_sha256) == hashlib.sha256(secret.encode()).digest()
        assert secret.encode() not in b"".join(
            bytes(r.secret_sha256) for r in session.execute(select(ApiKeyRow)).scalars()
        )
    tampered = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (tampered, "slk_nope", token.replace("slk_", "sk_"), ""):
        answer = city.client.get("/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert answer.status_code == 401, bad
    answer = city.client.get("/v1/me", headers={"Authorization": token})
    assert answer.status_code == 401 and "Bearer" in answer.json()["detail"]


def test_revoked_and_expired_keys_are_refused(city: City) -> None:
    directory = Directory()
    sessions = city.app.state.platform.sessions
    now = datetime.now(UTC)
    with transaction(sessions) as session:
        short = directory.issue_key(
            session,
            "rest-1",
            label="short",
            now=now - timedelta(days=2),
            valid_for=timedelta(days=1),
        )
    answer = city.client.get("/v1/me", headers={"Authorization": f"Bearer {short.token}"})
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    revoke = city.client.post(
        f"/v1/admin/keys/{city.key_ids['rest-2']}/revoke", headers=city.headers("admin")
    )
    assert revoke.status_code == 200
    answer = city.client.get("/v1/me", headers=city.headers("rest-2"))
    assert answer.status_code == 401 and "revoked" in answer.json()["detail"]


def test_admin_creates_organisations_premises_and_keys(city: City) -> None:
    admin = city.headers("admin")
    client = city.client
    assert (
        client.post(
            "/v1/admin/orgs",
            json={"org_id": "rest-3", "name": "Noodle House", "role": "restaurant"},
            headers=admin,
        ).status_code
        == 201
    )
    premises = {
        "premises_id": "p-3",
        "org_id": "rest-3",
        "name": "Noodle House, Main St",
        "kind": "restaurant",
        "licence_number": "JY13301000123",
        "licence_issued_on": "2025-03-01",
        "district": "d1",
        "address": "3 Main St",
    }
    assert client.post("/v1/admin/premises", json=premises, headers=admin).status_code == 201
    again = client.post("/v1/admin/premises", json=premises, headers=admin)
    assert again.status_code == 409 and "p-3" in again.json()["detail"]
    issued = client.post("/v1/admin/orgs/rest-3/keys", json={"label": "till"}, headers=admin)
    assert issued.status_code == 201
    token = issued.json()["api_key"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me["org_id"] == "rest-3" and me["premises_count"] == 1
    # Non-admins cannot reach the admin API.
    for name in ("rest-1", "reg-1", "auditor"):
        answer = client.get("/v1/admin/orgs", headers=city.headers(name))
        assert answer.status_code == 403, name
    bad = client.post(
        "/v1/admin/orgs",
        json={"org_id": "reg-9", "name": "No districts", "role": "regulator"},
        headers=admin,
    )
    assert bad.status_code == 422 and "district" in bad.json()["detail"]


def test_directory_rules(city: City) -> None:
    directory = Directory()
    now = datetime.now(UTC)
    with city.app.state.platform.sessions() as session:
        with pytest.raises(Conflict):
            directory.create_organisation(
                session, org_id="rest-1", name="x", role="restaurant", now=now
            )
        with pytest.raises(Invalid, match="only a regulator"):
            directory.create_organisation(
                session, org_id="r9", name="x", role="restaurant", districts=["d1"], now=now
            )
        with pytest.raises(Invalid, match="restaurant organisation"):
            directory.add_premises(
                session,
                premises_id="p-9",
                org_id="reg-1",
                name="x",
                kind="restaurant",
                licence_number="JY100000009",
                licence_issued_on=date(2025, 1, 1),
                district="d1",
                address="x",
                now=now,
            )
        with pytest.raises(Invalid, match="time zone"):
            directory.add_premises(
                session,
                premises_id="p-9",
                org_id="rest-1",
                name="x",
                kind="restaurant",
                licence_number="JY100000009",
                licence_issued_on=date(2025, 1, 1),
                district="d1",
                address="x",
                timezone="Mars/Olympus",
                now=now,
            )
        with pytest.raises(Unauthenticated, match="not valid"):
            directory.authenticate(session, "slk_" + "0" * 16 + "_" + "a" * 43, now)


def test_the_bootstrap_token_creates_the_first_admin(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"admin_token": SecretStr("boot-token")}))
    with TestClient(app) as client:
        boot = {"Authorization": "Bearer boot-token"}
        made = client.post(
            "/v1/admin/orgs", json={"org_id": "ops", "name": "Ops", "role": "admin"}, headers=boot
        )
        assert made.status_code == 201
        key = client.post("/v1/admin/orgs/ops/keys", json={"label": "laptop"}, headers=boot)
        admin = {"Authorization": f"Bearer {key.json()['api_key']}"}
        assert client.get("/v1/admin/orgs", headers=admin).status_code == 200
    app.state.engine.dispose()
