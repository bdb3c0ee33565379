"""``sunledger orgs``: a real process creates organisations, premises and keys."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from test_cli import sunledger

from api.app import create_app
from traceability.orgs import repository as org_repository
from traceability.settings import Settings


def test_orgs_commands_issue_keys_the_api_accepts(tmp_path: Path) -> None:
    env = {"SUNLEDGER_DATA_DIR": str(tmp_path)}
    made = sunledger(
        "orgs", "create", "reg-x", "--name", "Bureau", "--role", "regulator",
        "--district", "xh", "--key-label", "console", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    token = re.search(r"slk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}", made.stdout)
    assert token is not None
    assert sunledger("orgs", "create", "rest-a", "--name", "Jade", "--role", "restaurant", env=env)
    premises = sunledger(
        "orgs", "add-premises", "p-a", "--org", "rest-a", "--name", "Jade Garden",
        "--licence", "JY13101040000001", "--issued", "2024-02-01", "--district", "xh",
        "--address", "1 Tianping Rd", env=env,
    )  # fmt: skip
    assert premises.returncode == 0, premises.stderr
    wrong = sunledger(
        "orgs", "add-premises", "p-b", "--org", "reg-x", "--name", "X", "--licence", "JY100002",
        "--issued", "2024-02-01", "--district", "xh", "--address", "x", env=env,
    )  # fmt: skip
    assert wrong.returncode == 2 and "reg-x is a regulator" in wrong.stderr
    bad_date = sunledger(
        "orgs", "add-premises", "p-b", "--org", "rest-a", "--name", "X", "--licence", "JY100002",
        "--issued", "01/02/2024", "--district", "xh", "--address", "x", env=env,
    )  # fmt: skip
    assert bad_date.returncode == 2 and "YYYY-MM-DD" in bad_date.stderr
    listed = sunledger("orgs", "list", env=env)
    assert "rest-a" in listed.stdout and "premises: p-a" in listed.stdout

    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {token.group(0)}"})
        assert me.status_code == 200 and me.json()["premises_count"] == 1
    app.state.engine.dispose()
    key_id = token.group(0)[4:20]
    assert sunledger("orgs", "revoke-key", key_id, env=env).returncode == 0
    app = create_app(Settings(data_dir=tmp_path))
    with TestClient(app) as client:
        me = client.get("/v1/me", headers={"Authorization": f"Bearer {token.group(0)}"})
        assert me.status_code == 401 and "revoked" in me.json()["detail"]
    app.state.engine.dispose()
    unknown = sunledger("orgs", "issue-key", "nobody", "--label", "x", env=env)
    assert unknown.returncode == 2 and "no organisation nobody" in unknown.stderr


def test_add_premises_takes_the_registry_fields_the_admin_api_takes(tmp_path: Path) -> None:
    env = {"SUNLEDGER_DATA_DIR": str(tmp_path)}
    assert sunledger("orgs", "create", "rest-a", "--name", "J", "--role", "restaurant", env=env)
    base = ("orgs", "add-premises", "p-b", "--org", "rest-a", "--name", "The Cafe",
            "--district", "westminster", "--address", "1 Whitehall")  # fmt: skip
    refused = {
        ("--latitude", "95"): "--latitude: latitude 95.0 is outside ±90",
        ("--longitude", "-181"): "--longitude: longitude -181.0 is outside ±180",
        ("--scheme", "uk-xx"): "--scheme: inspection scheme 'uk-xx' is not one of",
        ("--external-id", "254719"): "--external-id '254719': expected SOURCE=ID",
        ("--external-id", "FHRS=1"): "--external-id: external id FHRS:1 needs a source",
        ("--postal-code", "x" * 21): "--postal-code: postal_code must be 1-20 characters",
        ("--phone", ""): "--phone: phone must be 1-40 characters",
    }
    for option, named in refused.items():
        done = sunledger(*base, *option, env=env)
        assert done.returncode == 2 and named in done.stderr, (option, done.stderr)
    twice = sunledger(*base, "--external-id", "fhrs=1", "--external-id", "fhrs=2", env=env)
    assert twice.returncode == 2 and "--external-id: one external id per source" in twice.stderr

    made = sunledger(
        *base, "--scheme", "uk-fhrs", "--external-id", "fhrs=254719", "--external-id",
        "companies-house=01234567", "--city", "London", "--region", "Greater London",
        "--postal-code", "SW1A 2AA", "--latitude", "51.5045", "--longitude", "-0.1263",
        "--phone", "020 7946 0000", "--business-type", "Restaurant/Cafe/Canteen",
        "--inspection-only", "--timezone", "Europe/London", env=env,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert "(scheme uk-fhrs), inspection only" in made.stdout
    taken = sunledger(
        "orgs", "add-premises", "p-c", "--org", "rest-a", "--name", "Other", "--district",
        "westminster", "--address", "2 Whitehall", "--external-id", "fhrs=254719", env=env,
    )  # fmt: skip
    assert taken.returncode == 2 and "fhrs id 254719 already names premises p-b" in taken.stderr

    app = create_app(Settings(data_dir=tmp_path))
    with app.state.platform.sessions() as session:
        row = org_repository.premises(session, "p-b")
        assert row is not None
        assert (row.licence_number, row.licence_issued_on) == (None, None)
        assert (row.city, row.region, row.postal_code) == ("London", "Greater London", "SW1A 2AA")
        assert (row.latitude, row.longitude) == (51.5045, -0.1263)
        assert (row.phone, row.business_type) == ("020 7946 0000", "Restaurant/Cafe/Canteen")
        assert (row.scheme, row.inspection_only, row.timezone) == (
            "uk-fhrs",
            True,
            "Europe/London",
        )
        assert org_repository.external_ids(session, "p-b") == {
            "companies-house": "01234567",
            "fhrs": "254719",
        }
        assert org_repository.premises(session, "p-c") is None
    app.state.engine.dispose()
