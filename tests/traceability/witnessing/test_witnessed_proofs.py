"""Verifiers check cosignatures against the witness keys they pin; tlog-proof files travel
offline and ``sunledger verify`` accepts them."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from tests.traceability.witnessing.test_witness_collection import (  # noqa: F401 - the fixture
    RunningWitness,
    grow,
    with_witnesses,
    witnesses,
)
from traceability.entrypoints.cli.app import app
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.transparency.checkpoints import NoteSigner
from traceability.verify import parse_tlog_proof as parse
from traceability.witnessing.collection import Witnessing
from traceability.witnessing.cosignature import CosignatureSigner


def env_of(settings: Settings) -> dict[str, str]:
    return {
        "SUNLEDGER_DATABASE_URL": settings.resolved_database_url,
        "SUNLEDGER_LOG_ORIGIN": settings.log_origin,
        "SUNLEDGER_SIGNING_KEY_FILE": str(settings.resolved_signing_key_file),
        "SUNLEDGER_WITNESSES": json.dumps([w.model_dump() for w in settings.witnesses]),
        "SUNLEDGER_WITNESS_QUORUM": str(settings.witness_quorum),
    }


def test_tlog_proofs_and_bundles_verify_against_pinned_witnesses(
    settings: Settings,
    witnesses: list[RunningWitness],  # noqa: F811
    signer: NoteSigner,
    tmp_path: Path,
) -> None:
    settings = with_witnesses(settings, witnesses, quorum=2)
    _engine, sessions, log, _signer = open_platform(settings)
    grow(settings, 0, 40)
    Witnessing.from_settings(log, settings).collect(sessions)
    grow(settings, 40, 10)  # a newer checkpoint, not witnessed yet
    vkeys = [w.key.verifier.vkey() for w in witnesses]
    pinned = [arg for vkey in vkeys for arg in ("--witness", vkey)]
    runner = CliRunner()
    env = env_of(settings)

    application = create_app(settings)
    with TestClient(application) as client:
        event_id = client.get("/v1/log/entries/7").json()["event"]["id"]
        served = client.get(f"/v1/proofs/{event_id}.tlog-proof")
        assert served.status_code == 200
        assert served.headers["content-disposition"].endswith(f'{event_id}.tlog-proof"')
        bundle = client.get(f"/v1/proofs/{event_id}").json()
        assert client.get("/v1/proofs/nope.tlog-proof").status_code == 404
        published = client.get("/v1/trust").json()
    application.state.engine.dispose()
    proof = parse(served.text)
    assert proof.index == 7 and proof.checkpoint.startswith("test.sunledger/log\n40\n")

    written = tmp_path / "event.tlog-proof"
    done = runner.invoke(
        app,
        [
            "proof",
            event_id,
            "--format",
            "tlog-proof",
            "--out",
            str(written),
            "--data-dir",
            str(tmp_path),
        ],
        env=env,
    )
    assert done.exit_code == 0, done.output
    assert written.read_text() == served.text

    key = signer.verifier_key()
    done = runner.invoke(app, ["verify", str(written), "--public-key", key, *pinned], env=env)
    assert done.exit_code == 0, done.output
    assert "witnessed by bureau.example/witness and 1 other (quorum 2 of 2)" in done.stdout

    # The platform's published trust file pins the same witnesses (quorum 2 of 2); a
    # verifier may ask for fewer.
    assert published["witnesses"] == {
        "quorum": 2,
        "keys": [
            {"name": w.key.name, "vkey": w.key.verifier.vkey(), "label": w.label} for w in witnesses
        ],
    }
    trust = tmp_path / "trust.json"
    trust.write_text(
        json.dumps({**published, "witnesses": {**published["witnesses"], "quorum": 1}})
    )
    done = runner.invoke(app, ["verify", str(written), "--trust", str(trust)], env=env)
    assert done.exit_code == 0, done.output
    assert "witnessed by City Market Supervision Bureau and 1 other (quorum 1 of 2)" in done.stdout

    # A pinned key the proof was not cosigned with: the quorum is not met, exit 15.
    stranger = CosignatureSigner.generate("bureau.example/witness").verifier.vkey()
    done = runner.invoke(
        app, ["verify", str(written), "--public-key", key, "--witness", stranger], env=env
    )
    assert done.exit_code == 15, done.output
    assert "NOT met" in done.stdout

    # A cosignature line altered under a pinned key's name and ID: rejected, exit 15.
    lines = served.text.split("\n")
    at = next(i for i, line in enumerate(lines) if "bureau.example/witness" in line)
    raw = bytearray(base64.b64decode(lines[at].split(" ")[2]))
    raw[20] ^= 1
    lines[at] = f"— bureau.example/witness {base64.b64encode(bytes(raw)).decode()}"
    forged = tmp_path / "forged.tlog-proof"
    forged.write_text("\n".join(lines))
    done = runner.invoke(app, ["verify", str(forged), "--public-key", key, *pinned], env=env)
    assert done.exit_code == 15, done.output
    assert "invalid cosignature by witness bureau.example/witness" in done.stdout

    # A changed event no longer hashes into the tree: inclusion fails.
    event = json.loads(proof.extra or b"")
    event["subject"] = "device:forged"
    from traceability.transparency.canonical import canonical_bytes

    extra = base64.b64encode(canonical_bytes(event)).decode()
    tampered = tmp_path / "tampered.tlog-proof"
    tampered.write_text(
        "\n".join(
            "extra " + extra if line.startswith("extra ") else line
            for line in served.text.split("\n")
        )
    )
    done = runner.invoke(app, ["verify", str(tampered), "--public-key", key, *pinned], env=env)
    assert done.exit_code == 7, done.output

    # The sunledger-proof/1 bundle of an event not anchored yet is bound to the newest
    # checkpoint (50), which no witness has cosigned yet: shown as such, exit 15.
    assert bundle["witnessed"] is False and bundle["inclusion"]["tree_size"] == 50
    bundle_file = tmp_path / "bundle.json"
    bundle_file.write_text(json.dumps(bundle))
    chain = ["--contract", published["chain"]["contract"]]
    chain += ["--chain-id", str(published["chain"]["chain_id"])]
    done = runner.invoke(
        app, ["verify", str(bundle_file), "--public-key", key, *chain, *pinned], env=env
    )
    assert done.exit_code == 15, done.output
    assert "witnessed by no pinned witness (quorum 2 of 2, NOT met)" in done.stdout
