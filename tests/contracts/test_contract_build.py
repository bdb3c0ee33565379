"""The committed artifacts rebuild byte for byte, and the build tooling fails clearly."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

import traceability.chain.contracts as contracts
import traceability.entrypoints.cli.contracts as cli_contracts
from traceability.chain.contracts import (
    BUILD_DIR,
    COMPILER_SETTINGS,
    CONTRACTS_DIR,
    SOLC_VERSION,
    build_contracts,
    load_artifact,
    log_id_for,
    solc_binary,
)
from traceability.errors import Invalid, SunledgerError


def test_rebuild_matches_committed_artifact(tmp_path: Path) -> None:
    written = build_contracts(tmp_path)
    assert written == [tmp_path / "CheckpointAnchor.json"]  # nothing for OpenZeppelin's
    rebuilt = json.loads(written[0].read_text())
    committed = json.loads((BUILD_DIR / "CheckpointAnchor.json").read_text())
    assert rebuilt["bytecode"] == committed["bytecode"]
    assert rebuilt["deployedBytecode"] == committed["deployedBytecode"]
    assert rebuilt["abi"] == committed["abi"]
    # The metadata hashes every source: a stale artifact shows up here even when only
    # comments changed (the bytecode carries no metadata hash).
    assert rebuilt["metadata"] == committed["metadata"]
    assert written[0].read_bytes() == (BUILD_DIR / "CheckpointAnchor.json").read_bytes()


def test_committed_artifact_is_complete() -> None:
    artifact = load_artifact()
    assert artifact.name == "CheckpointAnchor"
    assert artifact.compiler_version.startswith(SOLC_VERSION + "+commit.")
    assert artifact.settings == COMPILER_SETTINGS
    assert artifact.bytecode.startswith("0x6080") and artifact.deployed_bytecode.startswith("0x")
    metadata = json.loads(artifact.metadata)
    assert metadata["settings"]["compilationTarget"] == {
        "contracts/CheckpointAnchor.sol": "CheckpointAnchor"
    }
    assert metadata["settings"]["optimizer"] == {"enabled": True, "runs": 200}
    assert metadata["settings"]["evmVersion"] == "cancun"
    source = (CONTRACTS_DIR / "CheckpointAnchor.sol").read_bytes()
    assert metadata["sources"]["contracts/CheckpointAnchor.sol"]["keccak256"] == (
        "0x" + _keccak(source).hex()
    )
    functions = {e["name"] for e in artifact.abi if e["type"] == "function"}
    assert {"anchor", "rootAt", "latest", "verifyInclusion", "verifyLeaf", "ANCHORER_ROLE"} <= (
        functions
    )
    errors = {e["name"] for e in artifact.abi if e["type"] == "error"}
    assert all(e.startswith(("CheckpointAnchor", "AccessControl")) for e in errors)


def _keccak(data: bytes) -> bytes:
    from eth_utils.crypto import keccak

    return keccak(data)


def test_load_artifact_missing(tmp_path: Path) -> None:
    with pytest.raises(Invalid, match="no build artifact for contract 'Nope'.*contracts build"):
        load_artifact("Nope", build_dir=tmp_path)
    (tmp_path / "Broken.json").write_text('{"abi": []}\n')
    with pytest.raises(Invalid, match="not a contract build artifact"):
        load_artifact("Broken", build_dir=tmp_path)


def test_solc_binary_without_node_modules_names_npm_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(contracts.shutil, "which", lambda name: None if name == "solc" else "x")
    monkeypatch.setattr(contracts, "HARDHAT_DIR", tmp_path)
    with pytest.raises(Invalid, match=r"cd hardhat_local && npm ci"):
        solc_binary()


def test_wrapper_answers_version_from_any_directory(tmp_path: Path) -> None:
    wrapper = contracts.SOLC_WRAPPER
    result = subprocess.run(
        [str(wrapper), "--version"], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert lines[0] == "solc, the solidity compiler commandline interface"
    assert lines[1].startswith(f"Version: {SOLC_VERSION}+commit.")
    assert len(lines) == 2


def test_wrapper_reports_missing_import(tmp_path: Path) -> None:
    source = 'pragma solidity ^0.8.24; import "@openzeppelin/contracts/Nope.sol"; contract A {}'
    request = {"language": "Solidity", "sources": {"contracts/A.sol": {"content": source}}}
    result = subprocess.run(
        [str(contracts.SOLC_WRAPPER), "--standard-json"],
        cwd=tmp_path,
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    output = json.loads(result.stdout)  # nothing but JSON on stdout
    messages = [e["message"] for e in output["errors"]]
    assert any("@openzeppelin/contracts/Nope.sol" in m and "not found" in m for m in messages)


def test_log_id_is_sha256_of_origin() -> None:
    origin = "sunledger.example/log"
    assert log_id_for(origin) == hashlib.sha256(origin.encode()).digest()
    assert len(log_id_for("")) == 32


def test_cli_build_prints_artifacts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Path] = []

    def fake_build(out_dir: Path) -> list[Path]:
        seen.append(out_dir)
        return [out_dir / "CheckpointAnchor.json"]

    monkeypatch.setattr(cli_contracts, "build_contracts", fake_build)
    result = CliRunner().invoke(cli_contracts.contracts_app, ["build", "--out-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert seen == [tmp_path]
    assert str(tmp_path / "CheckpointAnchor.json") in result.output


def test_cli_build_failure_is_an_error_message(monkeypatch: pytest.MonkeyPatch) -> None:
    def failing_build(out_dir: Path) -> list[Path]:
        raise SunledgerError("no solc 0.8.37: run `cd hardhat_local && npm ci`")

    monkeypatch.setattr(cli_contracts, "build_contracts", failing_build)
    result = CliRunner().invoke(cli_contracts.contracts_app, ["build"])
    assert result.exit_code == 2
    assert "npm ci" in result.output
