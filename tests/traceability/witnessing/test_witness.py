"""The witness: cosigns one consistent history per log, refuses everything else with the
status c2sp.org/tlog-witness assigns, and survives kill -9 without forgetting."""

from __future__ import annotations

import base64
import hashlib
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local_ports import free_port
from traceability import merkle
from traceability.errors import VerificationError
from traceability.transparency.checkpoints import Checkpoint, NoteSigner, sign_checkpoint
from traceability.witnessing.cosignature import (
    CosignatureSigner,
    CosignatureVerifier,
    signature_lines,
    write_witness_key_file,
)
from traceability.witnessing.server import make_server, serve_in_thread
from traceability.witnessing.state import WitnessState
from traceability.witnessing.witness import Witness, WitnessRefusal

ORIGIN = "city.example/log"
NOW = 1_780_000_000
LEAVES = [merkle.leaf_hash(f"event {i}".encode()) for i in range(600)]
FORK = [merkle.leaf_hash(f"forged {i}".encode()) for i in range(600)]


@pytest.fixture
def log_key() -> NoteSigner:
    return NoteSigner.generate("city.example/log")


@pytest.fixture
def witness_key() -> CosignatureSigner:
    return CosignatureSigner.generate("bureau.example/witness")


@pytest.fixture
def witness(tmp_path: Path, log_key: NoteSigner, witness_key: CosignatureSigner) -> Witness:
    return Witness(witness_key, {ORIGIN: [log_key.verifier()]}, WitnessState(tmp_path / "w"))


def note(log_key: NoteSigner, size: int, leaves: list[bytes] = LEAVES) -> str:
    return sign_checkpoint(Checkpoint(ORIGIN, size, merkle.root(leaves[:size])), log_key)


def request(old: int, cp_note: str, size: int | None = None, leaves: list[bytes] = LEAVES) -> bytes:
    proof = [] if size is None or old == 0 else merkle.consistency_proof(old, leaves[:size])
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in proof)
    return f"old {old}\n{lines}\n{cp_note}".encode()


def refusal(witness: Witness, body: bytes) -> WitnessRefusal:
    with pytest.raises(WitnessRefusal) as caught:
        witness.add_checkpoint(body, NOW)
    return caught.value


def test_cosigns_a_consistent_history_with_timestamped_cosignatures(
    witness: Witness, log_key: NoteSigner, witness_key: CosignatureSigner
) -> None:
    verifier = CosignatureVerifier.from_vkey(witness_key.verifier.vkey())
    old = 0
    for size in (0, 1, 7, 256, 257, 600):
        cp = note(log_key, size)
        lines = witness.add_checkpoint(request(old, cp, size), NOW + size)
        body, _ = signature_lines(cp)
        cosig = verifier.verify(body, lines.rstrip("\n"))
        assert cosig.timestamp == NOW + size
        old = size
    record = witness.state.read(ORIGIN)
    assert record is not None and record.tree_size == 600
    # Resubmitting the same checkpoint is fine (old == size, same root).
    witness.add_checkpoint(request(600, note(log_key, 600)), NOW)


def test_split_view_two_checkpoints_of_one_size_the_second_is_refused(
    witness: Witness, log_key: NoteSigner
) -> None:
    witness.add_checkpoint(request(0, note(log_key, 100)), NOW)
    witness.add_checkpoint(request(100, note(log_key, 300), 300), NOW)
    forged = note(log_key, 300, FORK)  # signed by the real log key: a split view
    same_size = refusal(witness, request(300, forged))
    assert same_size.status == 422
    stale = refusal(witness, request(100, forged, 300, FORK))
    assert stale.status == 409 and stale.known_size == 300
    # A fork that tries to extend from the real view cannot prove consistency.
    fork_proof = merkle.consistency_proof(300, FORK[:400])
    lines = "".join(base64.b64encode(h).decode() + "\n" for h in fork_proof)
    bad = f"old 300\n{lines}\n{note(log_key, 400, FORK)}".encode()
    assert refusal(witness, bad).status == 422
    assert witness.state.read(ORIGIN).tree_size == 300  # type: ignore[union-attr]


def test_rollback_is_refused(witness: Witness, log_key: NoteSigner) -> None:
    witness.add_checkpoint(request(0, note(log_key, 500)), NOW)
    assert refusal(witness, request(500, note(log_key, 400))).status == 400
    older = refusal(witness, request(0, note(log_key, 400)))
    assert older.status == 409 and older.known_size == 500


def test_unknown_log_bad_signature_and_malformed_requests(
    witness: Witness, log_key: NoteSigner
) -> None:
    stranger = NoteSigner.generate("city.example/log")  # same name, another key
    assert refusal(witness, request(0, note(stranger, 5))).status == 403
    other = sign_checkpoint(Checkpoint("other.example/log", 5, merkle.root(LEAVES[:5])), log_key)
    assert refusal(witness, request(0, other)).status == 404
    genuine = note(log_key, 5)
    body, lines = signature_lines(genuine)
    sig = base64.b64decode(lines[0].split(" ")[2])
    broken = sig[:10] + bytes([sig[10] ^ 1]) + sig[11:]
    tampered = body.decode() + f"\n— city.example/log {base64.b64encode(broken).decode()}\n"
    assert refusal(witness, request(0, tampered)).status == 403
    empty_root = sign_checkpoint(Checkpoint(ORIGIN, 0, merkle.leaf_hash(b"x")), log_key)
    assert refusal(witness, request(0, empty_root)).status == 422
    with_proof = f"old 0\n{base64.b64encode(LEAVES[0]).decode()}\n\n{genuine}".encode()
    assert refusal(witness, with_proof).status == 422
    for bad in (b"old 01\n\n" + genuine.encode(), b"new 0\n\n", b"old 0\nnot base64\n\n"):
        assert refusal(witness, bad).status == 400
    assert witness.state.read(ORIGIN) is None


def test_a_wrong_key_cosignature_is_rejected_by_the_verifier(
    witness: Witness, log_key: NoteSigner, witness_key: CosignatureSigner
) -> None:
    cp = note(log_key, 5)
    line = witness.add_checkpoint(request(0, cp), NOW).rstrip("\n")
    body, _ = signature_lines(cp)
    impostor = CosignatureSigner(
        witness_key.name, CosignatureSigner.generate("x.example/w").private_key
    )
    # The impostor's vkey has another key ID: the genuine line is not its.
    assert not impostor.verifier.matches(line)
    with pytest.raises(VerificationError):
        impostor.verifier.verify(body, line)
    # A line forged with the impostor's key under the genuine key ID fails the signature.
    forged = impostor.cosign(body, NOW)
    raw = base64.b64decode(forged.split(" ")[2])
    relabelled = base64.b64encode(witness_key.verifier.key_id + raw[4:]).decode()
    with pytest.raises(VerificationError, match="invalid cosignature"):
        witness_key.verifier.verify(body, f"— {witness_key.name} {relabelled}")


def test_concurrent_requests_never_roll_back(witness: Witness, log_key: NoteSigner) -> None:
    witness.add_checkpoint(request(0, note(log_key, 10)), NOW)
    outcomes: list[int] = []

    def submit(size: int) -> None:
        try:
            witness.add_checkpoint(request(10, note(log_key, size), size), NOW)
            outcomes.append(size)
        except WitnessRefusal as exc:
            outcomes.append(-exc.status)

    threads = [threading.Thread(target=submit, args=(s,)) for s in (20, 30, 40, 50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    accepted = [o for o in outcomes if o > 0]
    assert len(accepted) == 1 and sorted(o for o in outcomes if o < 0) == [-409] * 3
    assert witness.state.read(ORIGIN).tree_size == accepted[0]  # type: ignore[union-attr]


def _post(url: str, body: bytes) -> tuple[int, str, str]:
    req = urllib.request.Request(url + "/add-checkpoint", data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def test_http_answers_with_the_specs_statuses(witness: Witness, log_key: NoteSigner) -> None:
    server = make_server(witness, "127.0.0.1", 0)
    serve_in_thread(server)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        status, _type, body = _post(url, request(0, note(log_key, 9)))
        assert status == 200 and body.startswith("— bureau.example/witness ")
        status, content_type, body = _post(url, request(0, note(log_key, 12)))
        assert (status, body) == (409, "9\n")
        assert content_type.startswith("text/x.tlog.size")
        origin_hash = hashlib.sha256(ORIGIN.encode()).hexdigest()
        with urllib.request.urlopen(f"{url}/{origin_hash}/checkpoint", timeout=10) as answer:
            cosigned = answer.read().decode()
        assert cosigned.startswith(f"{ORIGIN}\n9\n") and "bureau.example/witness" in cosigned
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def witness_process(
    tmp_path: Path, log_key: NoteSigner, witness_key: CosignatureSigner
) -> Iterator[tuple[list[str], dict[str, str]]]:
    key_file = tmp_path / "witness.key"
    write_witness_key_file(key_file, witness_key)
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from traceability.entrypoints.cli.app import main; main()",
        "witness",
        "serve",
        "--key",
        str(key_file),
        "--log",
        f"{ORIGIN}={log_key.verifier_key()}",
        "--state",
        str(tmp_path / "state"),
        "--port",
        str(port),
    ]
    yield command, {"url": f"http://127.0.0.1:{port}"}


def _start(command: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert process.stdout is not None
    for _ in range(5):
        line = process.stdout.readline()
        if line.startswith("listening on"):
            return process
    process.kill()
    raise AssertionError("the witness did not start")


def test_a_witness_killed_mid_stream_restarts_without_forgetting(
    witness_process: tuple[list[str], dict[str, str]], log_key: NoteSigner
) -> None:
    command, where = witness_process
    url = where["url"]
    process = _start(command)
    try:
        known = 0
        for size in (10, 20, 30):
            assert _post(url, request(known, note(log_key, size), size))[0] == 200
            known = size
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
        process = _start(command)
        # It remembers 30: a stale old size gets 409 with 30, a rollback is refused,
        # a split view of 30 is refused, and the history continues from 30.
        assert _post(url, request(20, note(log_key, 25), 25))[:3:2] == (409, "30\n")
        assert _post(url, request(30, note(log_key, 30, FORK)))[0] == 422
        assert _post(url, request(30, note(log_key, 40), 40))[0] == 200
        known = 40
        for size in (50, 60, 70):
            # Kill right after each answer: every cosigned size must have survived.
            assert _post(url, request(known, note(log_key, size), size))[0] == 200
            known = size
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            process = _start(command)
            assert _post(url, request(0, note(log_key, size)))[:3:2] == (409, f"{size}\n")
    finally:
        process.kill()
        process.wait(timeout=30)
