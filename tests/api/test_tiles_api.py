"""The log read as C2SP tlog-tiles: checkpoint, tiles and entry bundles, re-derived here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.test_auditor_api import fill
from traceability import merkle
from traceability.settings import Settings
from traceability.transparency.checkpoints import NoteVerifier, verify_checkpoint
from traceability.transparency.tile_paths import parse_entry_bundle


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings)
    with TestClient(app) as test_client:
        yield test_client
    app.state.engine.dispose()


def _hashes(blob: bytes) -> list[bytes]:
    assert len(blob) % 32 == 0
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def test_tiles_rebuild_the_checkpoint_root_and_bundles_hash_to_the_leaves(
    client: TestClient,
) -> None:
    fill(client, 300)
    verifier = NoteVerifier.from_verifier_key(client.get("/v1/log/public-key").text.strip())
    response = client.get("/checkpoint")
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=5"
    checkpoint = verify_checkpoint(response.text, verifier, origin="test.sunledger/log")
    assert checkpoint.tree_size == 300

    full = client.get("/tile/0/000")
    assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert full.headers["content-type"] == "application/octet-stream"
    partial = client.get("/tile/0/001.p/44")
    assert partial.headers["cache-control"] == "public, max-age=60"
    leaves = _hashes(full.content) + _hashes(partial.content)
    assert len(leaves) == 300
    assert merkle.root(leaves) == checkpoint.root_hash
    # Level 1 holds the root of each full level-0 tile.
    level1 = client.get("/tile/1/000.p/1").content
    assert level1 == merkle.root(_hashes(full.content))

    entries = parse_entry_bundle(client.get("/tile/entries/000").content)
    entries += parse_entry_bundle(client.get("/tile/entries/001.p/44").content)
    assert [merkle.leaf_hash(e) for e in entries] == leaves
    raw = client.get("/tile/entries/000", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert parse_entry_bundle(raw.content) == entries[:256]
    zipped = client.get("/tile/entries/000", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert int(zipped.headers["content-length"]) < len(raw.content)
    # An older checkpoint's partial tile is a prefix of today's.
    assert client.get("/tile/0/001.p/10").content == partial.content[: 10 * 32]
    assert hashlib.sha256(entries[0]).hexdigest()  # entries are the logged canonical bytes


def test_nothing_beyond_the_newest_checkpoint_and_bad_paths_get_reasons(
    client: TestClient,
) -> None:
    fill(client, 10)
    assert client.get("/tile/0/000.p/10").status_code == 200
    beyond = client.get("/tile/0/000.p/11")
    assert beyond.status_code == 404
    assert "newest checkpoint" in beyond.json()["detail"]
    assert client.get("/tile/0/000").status_code == 404  # not full yet
    assert client.get("/tile/entries/000.p/11").status_code == 404
    bad = client.get("/tile/0/0")
    assert bad.status_code == 422
    assert "three digits" in bad.json()["detail"]
