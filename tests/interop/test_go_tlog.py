"""Tested against code not written here: Go's golang.org/x/mod/sumdb/note and sumdb/tlog
(Debian's golang-go and golang-golang-x-mod-dev) read the log through the C2SP tlog-tiles
endpoints and verify the checkpoint, the witnesses' cosignatures, inclusion of entries
from the entry bundles, consistency (their own proof from our tiles, and ours), and a
tlog-proof file. The Go program is tests/interop/tlogverify/main.go; it builds offline
from /usr/share/gocode in GOPATH mode."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn

from api.app import create_app
from tests.conftest import service_missing
from tests.local_ports import free_port
from tests.traceability.witnessing.test_witness_collection import (  # noqa: F401 - the fixture
    RunningWitness,
    grow,
    with_witnesses,
    witnesses,
)
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.transparency.checkpoints import NoteSigner
from traceability.witnessing.collection import Witnessing
from traceability.witnessing.cosignature import CosignatureSigner

GOPATH = Path("/usr/share/gocode")
SOURCE = Path(__file__).parent / "tlogverify"


@pytest.fixture(scope="module")
def tlogverify(tmp_path_factory: pytest.TempPathFactory) -> Path:
    go = shutil.which("go")
    if go is None or not (GOPATH / "src/golang.org/x/mod/sumdb/tlog").is_dir():
        service_missing(
            "the Go toolchain with golang.org/x/mod",
            "install golang-go and golang-golang-x-mod-dev (make interop)",
        )
    assert go is not None
    work = tmp_path_factory.mktemp("go")
    binary = work / "tlogverify"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": str(GOPATH),
        "GOCACHE": str(work / "cache"),
        "GOFLAGS": "",
    }
    built = subprocess.run(
        [go, "build", "-o", str(binary), "."],
        cwd=SOURCE,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    return binary


@pytest.fixture
def served(settings: Settings, witnesses: list[RunningWitness]) -> Iterator[tuple[str, Settings]]:  # noqa: F811
    settings = with_witnesses(settings, witnesses, quorum=2)
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", settings
    server.should_exit = True
    thread.join(timeout=30)
    app.state.engine.dispose()


def run(binary: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_go_sumdb_verifies_checkpoint_cosignatures_and_proofs_through_the_tiles(
    tlogverify: Path,
    served: tuple[str, Settings],
    witnesses: list[RunningWitness],  # noqa: F811
    signer: NoteSigner,
    tmp_path: Path,
) -> None:
    url, settings = served
    _engine, sessions, log, _signer = open_platform(settings)
    witnessing = Witnessing.from_settings(log, settings)
    grow(settings, 0, 300)
    assert witnessing.collect(sessions).witnessed == [300]
    with sessions() as session:
        old_root = base64.b64encode(log.root(session, 300)).decode()
    grow(settings, 300, 300)
    assert witnessing.collect(sessions).witnessed == [600]

    with urllib.request.urlopen(f"{url}/v1/log/entries/256", timeout=10) as answer:
        event_id = json.loads(answer.read())["event"]["id"]
    proof_file = tmp_path / "event.tlog-proof"
    with urllib.request.urlopen(f"{url}/v1/proofs/{event_id}.tlog-proof", timeout=10) as answer:
        proof_file.write_bytes(answer.read())

    vkeys = ",".join(w.key.verifier.vkey() for w in witnesses)
    common = ["-url", url, "-log-vkey", signer.verifier_key(), "-witness", vkeys]
    done = run(
        tlogverify,
        *common,
        "-quorum",
        "2",
        "-old-size",
        "300",
        "-old-root",
        old_root,
        "-indexes",
        "0,1,255,256,299,300,511,512,599",
        "-proof",
        str(proof_file),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok checkpoint test.sunledger/log size 600, 2 cosignatures" in done.stdout
    assert "ok inclusion of leaf 599" in done.stdout
    assert "ok consistency 300 -> 600" in done.stdout
    assert "ok tlog-proof of leaf 256 in size 300, 2 cosignatures" in done.stdout

    # Go fails on what is wrong: a witness key that did not cosign, a wrong old root.
    stranger = CosignatureSigner.generate("bureau.example/witness").verifier.vkey()
    done = run(
        tlogverify,
        "-url",
        url,
        "-log-vkey",
        signer.verifier_key(),
        "-witness",
        stranger,
        "-quorum",
        "1",
    )
    assert done.returncode == 1 and "0 cosignatures, quorum 1" in done.stdout
    wrong_root = base64.b64encode(bytes(32)).decode()
    done = run(tlogverify, *common, "-old-size", "300", "-old-root", wrong_root)
    assert done.returncode == 1 and "CheckTree" in done.stdout
