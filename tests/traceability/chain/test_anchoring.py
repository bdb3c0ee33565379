"""Anchoring through the outbox on the embedded chain and on a real Hardhat node.

Every test runs on SQLite and PostgreSQL, and on both chains.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from eth_account import Account
from eth_tester.backends.pyevm.main import get_default_account_keys
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from traceability.chain import anchor_repository
from traceability.chain.anchoring import Anchoring, AnchorPolicy
from traceability.chain.client import AnchorChain
from traceability.chain.contracts import log_id_for
from traceability.chain.embedded import FIXED_FEES, EmbeddedChain
from traceability.chain.factory import deploy, open_chain
from traceability.entrypoints.cli.audit import register as register_audit
from traceability.errors import ChainUnavailable
from traceability.platform import open_platform
from traceability.proofs.bundles import build_bundle
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import AnchorRow
from traceability.transparency.audit import AuditReport, audit_log
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.ingest import Ingest, parse_batch
from traceability.verify.bundle import CHECKS, JsonRpc, anchored_on_chain, verify_bundle
from traceability.verify.trust import ChainPin

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)


@dataclass
class World:
    settings: Settings
    sessions: sessionmaker[Session]
    anchoring: Anchoring
    chain: AnchorChain
    signer: NoteSigner
    rpc: Callable[[str, list[Any]], Any]

    def ingest(self, count: int, start: int = 0, changed: int | None = None) -> list[str]:
        """Log ``count`` readings of 3.0 °C (30.0 °C at index ``changed``, for a forgery)."""
        events = [
            {
                "id": f"00000000-0000-4000-8000-{start + i:012d}",
                "kind": "probe_reading",
                "subject": "device:fr-7",
                "occurred_at": "2026-11-25T10:00:00Z",
                "payload": {
                    "device_id": "fr-7",
                    "seq": start + i,
                    "measured_at": "2026-11-25T10:00:00Z",
                    "values": [
                        {
                            "type": "Temperature",
                            "value": 30.0 if start + i == changed else 3.0,
                            "uom": "CEL",
                        }
                    ],
                },
            }
            for i in range(count)
        ]
        with transaction(self.sessions) as session:
            Ingest(self.anchoring.log).ingest(session, parse_batch(events))
        return [e["id"] for e in events]

    @property
    def pin(self) -> ChainPin:
        """The verifier's pinned chain and contract: the genuine deployment's."""
        return ChainPin.of(self.chain.chain_id, self.chain.contract_address)

    def rows(self) -> list[AnchorRow]:
        with self.sessions() as session:
            return list(session.execute(select(AnchorRow).order_by(AnchorRow.tree_size)).scalars())

    def bundle(self, event_id: str) -> dict[str, Any]:
        with transaction(self.sessions) as session:
            return build_bundle(session, self.anchoring.log, self.signer, event_id)


@pytest.fixture(params=["embedded", "hardhat"])
def world(request: pytest.FixtureRequest, settings: Settings) -> Iterator[World]:
    if request.param == "hardhat":
        url = request.getfixturevalue("hardhat_url")
        settings = settings.model_copy(update={"chain": "hardhat", "chain_rpc_url": url})
    engine, sessions, log, signer = open_platform(settings)
    chain: AnchorChain
    if settings.chain == "hardhat":
        chain, _address = deploy(settings, sessions)
        rpc: Callable[[str, list[Any]], Any] = JsonRpc(settings.chain_rpc_url)
    else:
        chain = open_chain(settings, sessions)
        assert isinstance(chain, EmbeddedChain)
        rpc = chain.rpc
    policy = AnchorPolicy(every_events=100, interval=timedelta(minutes=10), confirmations=0)
    yield World(settings, sessions, Anchoring(log, signer, chain, policy), chain, signer, rpc)
    engine.dispose()


def test_a_tick_anchors_and_the_bundle_verifies(world: World) -> None:
    ids = world.ingest(150)
    report = world.anchoring.tick(world.sessions)
    assert report.scheduled == 150 and report.submitted == 1 and report.errors == []
    [row] = world.rows()
    assert row.status == "final" and row.block_number is not None
    assert world.chain.root_at(log_id_for(world.anchoring.log.origin), 150) == row.root_hash
    verdict = verify_bundle(
        world.bundle(ids[42]), world.signer.verifier(), world.rpc, pin=world.pin
    )
    assert verdict.ok, verdict.checks
    assert [c.name for c in verdict.checks][-1] == "anchor_transaction"


def test_the_policy_decides_when(world: World) -> None:
    world.ingest(10)
    start = datetime.now(UTC)
    assert world.anchoring.tick(world.sessions, now=start).scheduled == 10  # the first is due
    world.ingest(50, start=10)
    assert world.anchoring.tick(world.sessions, now=start).scheduled is None  # 50 < 100, too soon
    world.ingest(50, start=60)
    assert world.anchoring.tick(world.sessions, now=start).scheduled == 110  # 100 new events
    world.ingest(1, start=110)
    later = start + timedelta(minutes=11)
    assert world.anchoring.tick(world.sessions, now=later).scheduled == 111  # the interval passed
    assert world.anchoring.tick(world.sessions, now=later).scheduled is None  # nothing new
    assert [r.status for r in world.rows()] == ["final", "final", "final"]


class LostSend(AnchorChain):
    """The real chain, but the first send never leaves (a crash or a dropped connection)."""

    def __init__(self, inner: AnchorChain) -> None:
        self.__dict__.update(inner.__dict__)
        self._inner = inner
        self.lost = 0

    def send(self, raw: bytes) -> tuple[str, str | None]:
        if self.lost == 0:
            self.lost += 1
            raise ChainUnavailable("connection dropped while sending")
        return self._inner.send(raw)


def test_a_lost_send_is_resent_as_the_same_transaction(world: World) -> None:
    world.ingest(5)
    flaky = LostSend(world.chain)
    anchoring = Anchoring(world.anchoring.log, world.signer, flaky, world.anchoring.policy)
    with pytest.raises(ChainUnavailable):
        anchoring.tick(world.sessions)
    [row] = world.rows()
    assert row.status == "submitted" and row.raw_tx is not None  # committed before sending
    signed_hash = row.tx_hash
    report = anchoring.tick(world.sessions)
    assert report.scheduled is None  # never queued twice
    [row] = world.rows()
    assert row.status == "final" and row.tx_hash == signed_hash and row.attempts == 1
    size, root = world.chain.latest(log_id_for(world.anchoring.log.origin))
    assert (size, root) == (5, row.root_hash)


def test_ticks_never_anchor_a_size_twice(world: World) -> None:
    world.ingest(3)
    for _ in range(4):
        world.anchoring.tick(world.sessions, force=True)
    rows = world.rows()
    assert [(r.tree_size, r.status) for r in rows] == [(3, "final")]


def test_a_checkpoint_the_chain_has_passed_is_marked_superseded(world: World) -> None:
    world.ingest(20)
    world.anchoring.tick(world.sessions)
    now = datetime.now(UTC)
    with transaction(world.sessions) as session:
        anchor_repository.insert_pending(
            session,
            tree_size=7,
            root_hash=b"\x07" * 32,
            log_id=world.anchoring.log_id,
            chain_id=world.chain.chain_id,
            contract=world.chain.contract_address,
            created_at=now,
            updated_at=now,
        )
    world.anchoring.tick(world.sessions)
    stale = [r for r in world.rows() if r.tree_size == 7][0]
    assert stale.status == "failed" and "superseded" in (stale.last_error or "")


def test_bundles_name_the_failed_check(world: World) -> None:
    [event_id] = world.ingest(1)
    world.ingest(9, start=1)
    world.anchoring.tick(world.sessions)
    good = world.bundle(event_id)
    verifier = world.signer.verifier()

    def failed(
        bundle: dict[str, Any], key: Any = verifier, pin: ChainPin | None = None
    ) -> str | None:
        verdict = verify_bundle(bundle, key, world.rpc, pin=pin or world.pin)
        return None if verdict.ok else (verdict.failed.name if verdict.failed else "chain")

    assert failed(good) is None
    tampered = json.loads(json.dumps(good))
    tampered["event"]["payload"]["values"][0]["value"] = 30.0
    assert failed(tampered) == "leaf_hash"
    assert failed(good, NoteSigner.generate("sunledger-log").verifier()) == "checkpoint_signature"
    tampered = json.loads(json.dumps(good))
    tampered["inclusion"]["hashes"][0] = "00" * 32
    assert failed(tampered) == "inclusion_proof"
    tampered = json.loads(json.dumps(good))
    tampered["inclusion"]["tree_size"] = 9
    assert failed(tampered) == "checkpoint_matches_proof"
    tampered = json.loads(json.dumps(good))
    tampered["anchor"]["log_id"] = "11" * 32
    assert failed(tampered) == "anchor_log_id"
    tampered = json.loads(json.dumps(good))
    tampered["anchor"]["chain_id"] = 1
    assert failed(tampered) == "anchor_pinned"
    tampered = json.loads(json.dumps(good))
    tampered["anchor"]["contract"] = "0x" + "12" * 20
    assert failed(tampered) == "anchor_pinned"
    # The bundle and the pin agree on a chain the RPC does not serve.
    other_chain = ChainPin.of(world.pin.chain_id + 1, world.pin.contract)
    tampered = json.loads(json.dumps(good))
    tampered["anchor"]["chain_id"] = other_chain.chain_id
    assert failed(tampered, pin=other_chain) == "chain_id"
    tampered = json.loads(json.dumps(good))
    tampered["anchor"] = None
    assert failed(tampered) == "anchor_present"
    tampered = json.loads(json.dumps(good))
    tampered["format"] = "other/1"
    assert failed(tampered) == "bundle_format"
    assert set(CHECKS) >= {"chain_root", "anchor_transaction"}


def test_an_unanchored_event_says_so(world: World) -> None:
    [event_id] = world.ingest(1)
    bundle = world.bundle(event_id)
    assert bundle["status"] == "logged" and bundle["anchor"] is None
    verdict = verify_bundle(bundle, world.signer.verifier(), world.rpc, pin=world.pin)
    assert verdict.failed is not None and verdict.failed.name == "anchor_present"


def test_chain_root_mismatch_is_caught(world: World) -> None:
    """A checkpoint signed by the log but never anchored cannot pass as anchored."""
    [event_id] = world.ingest(1)
    world.anchoring.tick(world.sessions)
    world.ingest(4, start=1)
    bundle = world.bundle(event_id)
    with transaction(world.sessions) as session:
        cp = world.anchoring.log.checkpoint(session, world.signer)  # size 5, not anchored
        proof = world.anchoring.log.inclusion_proof(session, 0, 5)
    bundle["checkpoint"] = cp.note
    bundle["inclusion"] = {
        "tree_size": 5,
        "root_hash": proof.root_hash.hex(),
        "hashes": [h.hex() for h in proof.hashes],
    }
    verdict = verify_bundle(bundle, world.signer.verifier(), world.rpc, pin=world.pin)
    assert verdict.failed is not None and verdict.failed.name == "chain_root"


HARDHAT_SECOND_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
"""Hardhat's second development account: the forger's."""


def forger(world: World, tmp_path: Path) -> World:
    """A forger with the log's signing key: its own copy of the log (in its own database)
    and its own CheckpointAnchor, deployed on the same chain from another account."""
    if isinstance(world.chain, EmbeddedChain):
        key, fees = get_default_account_keys()[1].to_hex(), FIXED_FEES
    else:
        key, fees = HARDHAT_SECOND_KEY, None
    chain = AnchorChain(world.chain.w3, Account.from_key(key), name="forger", fixed_fees=fees)
    tx_hash, complaint = chain.send(chain.sign_deploy().raw)
    address = chain.deployed_address(tx_hash)
    assert address is not None, complaint
    chain.use_contract(address)
    assert chain.contract_address != world.chain.contract_address
    settings = Settings(
        data_dir=tmp_path / "forger",
        database_url=f"sqlite:///{tmp_path / 'forged.db'}",
        log_origin=world.settings.log_origin,
        signing_key_file=world.settings.signing_key_file,
    )
    _engine, sessions, log, signer = open_platform(settings)
    assert signer.verifier_key() == world.signer.verifier_key()  # the same signing key
    policy = AnchorPolicy(every_events=100, interval=timedelta(minutes=10), confirmations=0)
    anchoring = Anchoring(log, signer, chain, policy)
    return World(settings, sessions, anchoring, chain, signer, world.rpc)


def test_a_forked_log_anchored_in_another_contract_is_refused(world: World, tmp_path: Path) -> None:
    """Same key, one reading changed, anchored in the forger's contract: refused by the pins."""
    ids = world.ingest(10)
    world.anchoring.tick(world.sessions)
    fork = forger(world, tmp_path)
    assert fork.ingest(10, changed=3) == ids
    fork.anchoring.tick(fork.sessions)
    [forged_anchor] = fork.rows()
    assert forged_anchor.status == "final" and forged_anchor.contract == fork.chain.contract_address
    verifier = world.signer.verifier()

    def verdict(bundle: dict[str, Any], pin: ChainPin) -> tuple[str | None, int]:
        result = verify_bundle(bundle, verifier, world.rpc, pin=pin)
        return (result.failed.name if result.failed else None), result.exit_code

    forged = fork.bundle(ids[3])
    assert forged["event"]["payload"]["values"][0]["value"] == 30.0
    # Without the pin it would pass: everything but the contract is genuine-looking.
    assert verdict(forged, fork.pin) == (None, 0)
    assert verdict(forged, world.pin) == ("anchor_pinned", 14)
    # The forger names the genuine contract instead: the root read there is not the fork's.
    doctored = json.loads(json.dumps(forged))
    doctored["anchor"]["contract"] = world.pin.contract
    assert verdict(doctored, world.pin) == ("chain_root", 11)
    # A genuine bundle whose transaction is swapped for the anchoring on the forger's contract.
    genuine = world.bundle(ids[3])
    assert verdict(genuine, world.pin) == (None, 0)
    swapped = json.loads(json.dumps(genuine))
    swapped["anchor"]["tx_hash"] = forged_anchor.tx_hash
    assert verdict(swapped, world.pin) == ("anchor_transaction", 12)
    # A transaction of the pinned contract, but for another size: refused too.
    world.ingest(5, start=10)
    world.anchoring.tick(world.sessions, now=datetime.now(UTC) + timedelta(minutes=11))
    later = [r for r in world.rows() if r.tree_size == 15][0]
    swapped["anchor"]["tx_hash"] = later.tx_hash
    assert verdict(swapped, world.pin) == ("anchor_transaction", 12)


def test_outbox_rows_match_the_chain(world: World) -> None:
    world.ingest(100)
    world.anchoring.tick(world.sessions)
    world.ingest(100, start=100)
    world.anchoring.tick(world.sessions)
    with world.sessions() as session:
        count = session.execute(select(func.count()).select_from(AnchorRow)).scalar_one()
    assert count == 2
    for row in world.rows():
        assert world.chain.root_at(row.log_id, row.tree_size) == row.root_hash


def test_a_reorg_that_drops_the_anchor_is_anchored_again(
    settings: Settings, hardhat_url: str
) -> None:
    """On Hardhat: snapshot, anchor, revert the chain; the next tick re-anchors."""
    settings = settings.model_copy(update={"chain": "hardhat", "chain_rpc_url": hardhat_url})
    engine, sessions, log, signer = open_platform(settings)
    chain, _address = deploy(settings, sessions)
    rpc = JsonRpc(hardhat_url)
    anchoring = Anchoring(log, signer, chain, AnchorPolicy(every_events=1, confirmations=2))
    world = World(settings, sessions, anchoring, chain, signer, rpc)
    world.ingest(4)
    snapshot = rpc("evm_snapshot", [])
    report = anchoring.tick(sessions)
    assert report.confirmed == 1 and report.finalised == 0  # needs 2 more blocks
    [row] = world.rows()
    first_block = row.block_number
    assert rpc("evm_revert", [snapshot]) is True
    assert chain.root_at(anchoring.log_id, 4) is None  # the reorg removed it
    report = anchoring.tick(sessions)
    assert report.reorged == 1
    [row] = world.rows()
    assert row.status == "pending" and "reorg" in (row.last_error or "")
    report = anchoring.tick(sessions)
    [row] = world.rows()
    assert row.status == "confirmed" and row.block_number is not None
    assert chain.root_at(anchoring.log_id, 4) == row.root_hash
    for _ in range(2):
        rpc("evm_mine", [])
    anchoring.tick(sessions)
    [row] = world.rows()
    assert row.status == "final"
    assert first_block is not None
    engine.dispose()


def test_the_audit_names_a_fork_anchored_on_the_pinned_contract(world: World) -> None:
    """The anchorer's key misused: a forked root on the pinned contract is named by its size,
    by the log audit and by ``sunledger audit``."""
    world.ingest(10)
    world.anchoring.tick(world.sessions)
    world.ingest(10, start=10)  # 20 leaves, 10 of them anchored
    log = world.anchoring.log
    log_id = log_id_for(log.origin)

    def audit() -> AuditReport:
        anchored = anchored_on_chain(world.rpc, world.pin, log_id)
        with world.sessions() as session:
            return audit_log(session, log, world.signer.verifier(), chain_anchors=anchored)

    clean = audit()
    assert clean.ok and clean.anchors_checked == 1, clean.problems
    forged_root = bytes(range(1, 33))
    for size, root in ((15, forged_root), (25, forged_root[::-1])):
        tx_hash, complaint = world.chain.send(world.chain.sign_anchor(log_id, size, root).raw)
        assert complaint is None and world.chain.outcome(tx_hash) is not None
    report = audit()
    assert not report.ok and report.first_divergent_size == 15, report.problems
    text = "\n".join(report.problems)
    assert f"anchors root {forged_root.hex()} at size 15" in text
    assert "anchored sizes 10 → 15: the consistency proof" in text
    assert "anchors size 25" in text and "beyond the log's size 20" in text

    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register_audit(app)
    env = {
        "SUNLEDGER_DATABASE_URL": world.settings.resolved_database_url,
        "SUNLEDGER_LOG_ORIGIN": world.settings.log_origin,
        "SUNLEDGER_SIGNING_KEY_FILE": str(world.settings.resolved_signing_key_file),
        "SUNLEDGER_CHAIN": world.settings.chain,
        "SUNLEDGER_CHAIN_RPC_URL": world.settings.chain_rpc_url,
    }
    done = CliRunner().invoke(app, ["audit", "--data-dir", str(world.settings.data_dir)], env=env)
    assert done.exit_code == 1, done.output
    assert "first tree size with a wrong root 15" in done.stderr
    assert f"pinned contract {world.pin.contract}" in done.stderr
