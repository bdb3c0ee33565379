"""The log collects cosignatures from real witnesses (HTTP servers on 127.0.0.1), serves the
cosigned checkpoint, records which checkpoints met the policy, and never waits for a witness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.api.test_auditor_api import reading
from tests.local_ports import free_port
from traceability.platform import Platform, open_platform
from traceability.settings import Settings, WitnessEndpoint
from traceability.storage.db import transaction
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.ingest import Ingest, parse_batch
from traceability.witnessing.collection import Witnessing
from traceability.witnessing.cosignature import CosignatureSigner
from traceability.witnessing.policy import WitnessPolicy, check_cosignatures
from traceability.witnessing.server import make_server, serve_in_thread
from traceability.witnessing.state import WitnessState
from traceability.witnessing.witness import Witness


@dataclass
class RunningWitness:
    key: CosignatureSigner
    label: str
    port: int
    state: Path
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, origin: str, log_key: NoteSigner) -> None:
        witness = Witness(self.key, {origin: [log_key.verifier()]}, WitnessState(self.state))
        self.server = make_server(witness, "127.0.0.1", self.port)
        serve_in_thread(self.server)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def witnesses(tmp_path: Path, signer: NoteSigner) -> Iterator[list[RunningWitness]]:
    running = [
        RunningWitness(
            CosignatureSigner.generate("bureau.example/witness"),
            "City Market Supervision Bureau",
            free_port(),
            tmp_path / "bureau",
        ),
        RunningWitness(
            CosignatureSigner.generate("consumers.example/witness"),
            "Consumer Association",
            free_port(),
            tmp_path / "consumers",
        ),
    ]
    for witness in running:
        witness.start("test.sunledger/log", signer)
    yield running
    for witness in running:
        witness.stop()


def with_witnesses(settings: Settings, running: list[RunningWitness], quorum: int) -> Settings:
    return settings.model_copy(
        update={
            "witnesses": [
                WitnessEndpoint(url=w.url, vkey=w.key.verifier.vkey(), label=w.label)
                for w in running
            ],
            "witness_quorum": quorum,
        }
    )


def grow(settings: Settings, first: int, count: int) -> int:
    _engine, sessions, log, signer = open_platform(settings)
    with transaction(sessions) as session:
        Ingest(log).ingest(session, parse_batch([reading(i) for i in range(first, first + count)]))
        return log.checkpoint(session, signer).tree_size


def test_cosignatures_are_collected_served_and_the_policy_recorded(
    settings: Settings, witnesses: list[RunningWitness]
) -> None:
    settings = with_witnesses(settings, witnesses, quorum=2)
    _engine, sessions, log, _signer = open_platform(settings)
    witnessing = Witnessing.from_settings(log, settings)
    grow(settings, 0, 5)
    grow(settings, 5, 300)
    report = witnessing.collect(sessions)
    assert report.errors == []
    assert report.witnessed == [5, 305]
    pinned = WitnessPolicy.of_vkeys(
        [w.key.verifier.vkey() for w in witnesses],
        quorum=2,
        labels=[w.label for w in witnesses],
    )
    app = create_app(settings)
    with TestClient(app) as client:
        for path in ("/checkpoint", "/v1/log/checkpoint"):
            note = client.get(path).text
            assert note.startswith("test.sunledger/log\n305\n")
            verdict = check_cosignatures(note, pinned)
            assert verdict.met
            assert verdict.summary() == (
                "witnessed by City Market Supervision Bureau and 1 other (quorum 2 of 2)"
            )
        policy = client.get("/v1/log/witnesses").json()
        assert policy["quorum"] == 2 and policy["newest_witnessed_size"] == 305
    app.state.engine.dispose()


def test_a_witness_down_delays_witnessed_never_ingest_and_it_catches_up(
    settings: Settings, witnesses: list[RunningWitness], signer: NoteSigner
) -> None:
    settings = with_witnesses(settings, witnesses, quorum=2)
    _engine, sessions, log, _signer = open_platform(settings)
    witnessing = Witnessing.from_settings(log, settings)
    grow(settings, 0, 10)
    assert witnessing.collect(sessions).witnessed == [10]
    bureau = witnesses[0]
    bureau.stop()
    assert grow(settings, 10, 10) == 20  # ingest goes on
    assert grow(settings, 20, 10) == 30
    report = witnessing.collect(sessions)
    assert report.witnessed == []
    assert len(report.errors) == 1 and "unreachable" in report.errors[0]
    assert report.cosigned["Consumer Association"] == [20, 30]
    with sessions() as session:
        # The served checkpoint is the newest that met the policy: 10, not 30.
        assert witnessing.served_checkpoint(session).startswith("test.sunledger/log\n10\n")
    bureau.start("test.sunledger/log", signer)  # same state directory: it remembers 10
    report = witnessing.collect(sessions)
    assert report.errors == [] and report.witnessed == [20, 30]
    with sessions() as session:
        assert witnessing.served_checkpoint(session).startswith("test.sunledger/log\n30\n")


def test_a_cosignature_by_another_key_is_not_stored(
    settings: Settings, witnesses: list[RunningWitness], tmp_path: Path, signer: NoteSigner
) -> None:
    impostor = witnesses[0]
    impostor.stop()
    # The configured key is the bureau's; the server at its URL signs with another key.
    configured = with_witnesses(settings, witnesses, quorum=1)
    impostor.key = CosignatureSigner.generate("bureau.example/witness")
    impostor.start("test.sunledger/log", signer)
    _engine, sessions, log, _signer = open_platform(configured)
    bureau_only = Witnessing.from_settings(log, configured).endpoints[:1]
    witnessing = Witnessing(log, bureau_only, quorum=1)
    grow(settings, 0, 3)
    report = witnessing.collect(sessions)
    assert report.witnessed == []
    assert "no cosignature by its configured key" in report.errors[0]


def test_the_eager_path_collects_on_a_thread(
    settings: Settings, witnesses: list[RunningWitness]
) -> None:
    from traceability.entrypoints.worker import request_witness_tick, wait_for_eager_witnessing

    settings = with_witnesses(settings, witnesses, quorum=1)
    platform = Platform.open(settings)
    sessions, log = platform.sessions, platform.log
    grow(settings, 0, 4)
    request_witness_tick(platform)
    assert wait_for_eager_witnessing(platform)
    with sessions() as session:
        note = Witnessing.from_settings(log, settings).served_checkpoint(session)
    assert note.count("\n\u2014 ") == 3 and note.count("/witness ") == 2
