"""The auditor endpoints, checked the way an auditor would: recompute and verify everything."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from traceability import merkle
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.checkpoints import NoteVerifier, verify_checkpoint
from traceability.transparency.ingest import Ingest, parse_batch
from traceability.verify import parse_trust


def reading(seq: int) -> dict[str, Any]:
    return {
        "kind": "probe_reading",
        "subject": "device:fr-0001",
        "occurred_at": "2026-11-25T10:00:00Z",
        "payload": {
            "device_id": "fr-0001",
            "seq": seq,
            "measured_at": "2026-11-25T10:00:00Z",
            "values": [{"type": "Temperature", "value": 3.5, "uom": "CEL"}],
        },
    }


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


def fill(client: TestClient, count: int) -> None:
    platform = client.app.state.platform  # type: ignore[attr-defined]
    ingest = Ingest(platform.log)
    with transaction(platform.sessions) as session:
        ingest.ingest(session, parse_batch([reading(i) for i in range(count)]))
        platform.log.checkpoint(session, platform.signer)


def test_an_auditor_verifies_entries_against_the_signed_checkpoint(client: TestClient) -> None:
    fill(client, 300)
    verifier = NoteVerifier.from_verifier_key(client.get("/v1/log/public-key").text.strip())
    response = client.get("/v1/log/checkpoint")
    assert response.headers["content-type"].startswith("text/plain")
    checkpoint = verify_checkpoint(response.text, verifier, origin="test.sunledger/log")
    assert checkpoint.tree_size == 300
    for index in (0, 1, 255, 256, 299):
        entry = client.get(f"/v1/log/entries/{index}").json()
        leaf = merkle.leaf_hash(canonical_bytes(entry["event"]))
        assert leaf.hex() == entry["leaf_hash"]
        proof = client.get(f"/v1/log/proof/inclusion?index={index}&tree_size=300").json()
        assert proof["leaf_hash"] == entry["leaf_hash"]
        assert bytes.fromhex(proof["root_hash"]) == checkpoint.root_hash
        merkle.verify_inclusion(
            index, 300, leaf, [bytes.fromhex(h) for h in proof["hashes"]], checkpoint.root_hash
        )
    default = client.get("/v1/log/proof/inclusion?index=7").json()
    assert default["tree_size"] == 300


def test_consistency_between_two_checkpoints(client: TestClient) -> None:
    fill(client, 10)
    old = client.get("/v1/log/checkpoint").text
    fill(client, 20)
    new = client.get("/v1/log/checkpoint").text
    verifier = NoteVerifier.from_verifier_key(client.get("/v1/log/public-key").text.strip())
    a, b = verify_checkpoint(old, verifier), verify_checkpoint(new, verifier)
    proof = client.get(f"/v1/log/proof/consistency?first={a.tree_size}&second={b.tree_size}")
    body = proof.json()
    assert body["first_root"] == a.root_hash.hex()
    merkle.verify_consistency(
        a.tree_size,
        b.tree_size,
        [bytes.fromhex(h) for h in body["hashes"]],
        a.root_hash,
        b.root_hash,
    )


@pytest.mark.parametrize(
    ("path", "status", "reason"),
    [
        ("/v1/log/entries/5", 404, "no entry at index 5"),
        ("/v1/log/entries/-1", 404, "no entry at index -1"),
        ("/v1/log/entries/abc", 422, "index"),
        ("/v1/log/proof/inclusion?index=5&tree_size=5", 422, "index 5 is not below tree size 5"),
        ("/v1/log/proof/inclusion?index=0&tree_size=6", 422, "larger than the log"),
        ("/v1/log/proof/inclusion?index=x&tree_size=5", 422, "index"),
        ("/v1/log/proof/inclusion?index=0&tree_size=0", 422, "tree_size"),
        ("/v1/log/proof/inclusion", 422, "index"),
        ("/v1/log/proof/consistency?first=4&second=3", 422, "first size 4 is larger"),
        ("/v1/log/proof/consistency?first=1&second=99", 422, "larger than the log"),
        ("/v1/log/proof/consistency?first=1.5&second=3", 422, "first"),
        ("/v1/log/proof/consistency?first=-1&second=3", 422, "first"),
        ("/v1/log/proof/inclusion?index=99999999999999999999999&tree_size=5", 422, "index"),
    ],
)
def test_bad_parameters_get_a_reason_not_a_500(
    client: TestClient, path: str, status: int, reason: str
) -> None:
    fill(client, 5)
    response = client.get(path)
    assert response.status_code == status, response.text
    body = response.json()
    # The error's class and English reason; a code and its parameters when the message has
    # one (``fields`` when the framework's validation names the parameter): nothing else.
    assert {"error", "detail"} <= set(body) <= {"error", "detail", "code", "params", "fields"}
    assert ("code" in body) == ("params" in body)
    assert reason in body["detail"]


def test_no_checkpoint_yet_is_a_404(client: TestClient) -> None:
    response = client.get("/v1/log/checkpoint")
    assert response.status_code == 404
    assert response.json() == {"error": "NotFound", "detail": "no checkpoint has been signed yet"}


def test_healthz(client: TestClient) -> None:
    fill(client, 2)
    assert client.get("/healthz").json() == {
        "status": "ok",
        "log_size": 2,
        "origin": "test.sunledger/log",
    }


def test_entries_carry_no_personal_data(client: TestClient) -> None:
    platform = client.app.state.platform  # type: ignore[attr-defined]
    event = {
        "kind": "restaurant_record",
        "subject": "premises:p-9",
        "occurred_at": "2026-11-25T06:00:00Z",
        "payload": {"record_type": "morning_check", "staff": [{"name": "Zhang San"}]},
    }
    with transaction(platform.sessions) as session:
        Ingest(platform.log).ingest(session, parse_batch([event]))
    text = client.get("/v1/log/entries/0").text
    assert "Zhang" not in text
    assert "commitment" in json.loads(text)["event"]["payload"]["staff"][0]["name"]


def test_anchors_proofs_and_the_embedded_chain_rpc(client: TestClient) -> None:
    from traceability.chain.json_rpc import RpcAnchorReader
    from traceability.entrypoints.worker import run_anchor_tick
    from traceability.verify import verify_bundle

    fill(client, 12)
    platform = client.app.state.platform  # type: ignore[attr-defined]
    report = run_anchor_tick(platform, force=True)
    assert report["errors"] == []
    anchors = client.get("/v1/log/anchors").json()
    assert [(a["tree_size"], a["status"]) for a in anchors] == [(12, "final")]
    assert set(anchors[0]) == {
        "tree_size",
        "root_hash",
        "chain_id",
        "contract",
        "log_id",
        "tx_hash",
        "block_number",
        "status",
    }
    assert client.get("/v1/log/anchors?status=pending").json() == []
    event_id = client.get("/v1/log/entries/3").json()["event"]["id"]
    bundle = client.get(f"/v1/proofs/{event_id}").json()
    assert bundle["format"] == "sunledger-proof/1" and bundle["status"] == "anchored"

    def rpc(method: str, params: list[Any]) -> Any:
        answer = client.post(
            "/v1/chain/rpc", json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        ).json()
        assert "error" not in answer, answer
        return answer["result"]

    verifier = NoteVerifier.from_verifier_key(client.get("/v1/log/public-key").text.strip())
    published = client.get("/v1/trust")
    assert published.status_code == 200, published.text
    trust = parse_trust(published.json())
    assert published.json()["format"] == "sunledger-trust/1"
    assert trust.public_key == client.get("/v1/log/public-key").text.strip()
    assert trust.verifier().key_id == verifier.key_id
    assert trust.chain.contract == bundle["anchor"]["contract"]
    assert trust.chain.chain_id == int(rpc("eth_chainId", []), 16)
    assert published.json()["witnesses"] == {"quorum": 0, "keys": []}
    verdict = verify_bundle(
        bundle, trust.verifier(), RpcAnchorReader(rpc), pin=trust.chain, origin=trust.origin
    )
    assert verdict.ok, verdict.checks
    # Standard JSON-RPC field names (eth-tester's own are snake_case), as any client expects.
    block = rpc("eth_getBlockByNumber", ["latest", True])
    tx = block["transactions"][0]
    assert {"input", "blockHash", "blockNumber", "transactionIndex", "chainId"} <= set(tx)
    assert "data" not in tx and not any("_" in key for key in tx)
    receipt = rpc("eth_getTransactionReceipt", [tx["hash"]])
    assert not any("_" in key for key in receipt) and receipt["logs"][0]["transactionHash"]
    refused = client.post(
        "/v1/chain/rpc",
        json={"jsonrpc": "2.0", "id": 2, "method": "eth_sendRawTransaction", "params": ["0x00"]},
    ).json()
    assert refused["error"]["code"] == -32601 and "read-only" in refused["error"]["message"]
    batch = client.post(
        "/v1/chain/rpc",
        json=[
            {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            {"jsonrpc": "2.0", "id": 2, "method": "eth_blockNumber", "params": []},
        ],
    ).json()
    assert [b["id"] for b in batch] == [1, 2] and batch[0]["result"].startswith("0x")
    assert client.get("/v1/proofs/no-such-event").status_code == 404


def test_bundles_match_the_published_schema(client: TestClient) -> None:
    from pathlib import Path

    import jsonschema

    from traceability.entrypoints.worker import run_anchor_tick

    schema = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "proof-bundle.schema.json").read_text()
    )
    jsonschema.Draft202012Validator.check_schema(schema)
    fill(client, 3)
    event_id = client.get("/v1/log/entries/1").json()["event"]["id"]
    logged = client.get(f"/v1/proofs/{event_id}").json()
    jsonschema.validate(logged, schema)
    assert logged["anchor"] is None
    run_anchor_tick(client.app.state.platform, force=True)  # type: ignore[attr-defined]
    anchored = client.get(f"/v1/proofs/{event_id}").json()
    jsonschema.validate(anchored, schema)
    assert anchored["anchor"]["status"] == "final"


def test_a_deeply_nested_body_is_refused_not_fatal(client: TestClient) -> None:
    """py_ecc raises the recursion limit to 100,000 on import; we bring it back down,
    or a 200 kB body of nested brackets would overflow the C stack in json.loads."""
    import sys

    assert sys.getrecursionlimit() <= 12_288
    body = "[" * 100_000 + "]" * 100_000
    response = client.post(
        "/v1/chain/rpc", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200  # JSON-RPC reports errors in the body
    assert response.json()["error"]["code"] == -32700
