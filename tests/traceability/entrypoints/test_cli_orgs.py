"""``sunledger orgs``: a real process creates organisations, premises and keys."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from test_cli import sunledger

from api.app import create_app
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
