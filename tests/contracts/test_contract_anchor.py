"""CheckpointAnchor.anchor on an in-process chain: roles, rules, reads, events and gas."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from eth_utils.crypto import keccak
from web3 import Web3

from traceability.chain.contracts import log_id_for

ANCHORER_ROLE = keccak(text="ANCHORER_ROLE")
LOG = log_id_for("kitchen.example/log")
OTHER_LOG = log_id_for("market.example/log")
UINT64_MAX = 2**64 - 1

Reverted = Callable[[Callable[[], object]], str]


def root_for(size: int, salt: str = "") -> bytes:
    """A root with no zero bytes (worst case for calldata gas), distinct per size."""
    digest = hashlib.sha256(f"{salt}root-{size}".encode()).digest()
    return bytes(b or 1 for b in digest)


def test_roles_after_deployment(chain) -> None:
    c = chain.contract.functions
    assert c.ANCHORER_ROLE().call() == ANCHORER_ROLE
    assert c.hasRole(b"\x00" * 32, chain.admin).call()
    assert c.hasRole(ANCHORER_ROLE, chain.anchorer).call()
    assert not c.hasRole(ANCHORER_ROLE, chain.admin).call()
    assert not c.hasRole(b"\x00" * 32, chain.anchorer).call()
    assert c.supportsInterface(bytes.fromhex("7965db0b")).call()  # IAccessControl


def test_constructor_rejects_zero_accounts(chain, artifact, reverted: Reverted) -> None:
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    zero = "0x" + "00" * 20
    error = reverted(
        lambda: factory.constructor(zero, chain.anchorer).transact({"from": chain.admin})
    )
    assert error == f"CheckpointAnchorZeroAccount(role=0x{'00' * 32})"
    error = reverted(lambda: factory.constructor(chain.admin, zero).transact({"from": chain.admin}))
    assert error == f"CheckpointAnchorZeroAccount(role=0x{ANCHORER_ROLE.hex()})"


@pytest.mark.parametrize("who", ["admin", "stranger"])
def test_anchor_by_non_anchorer_reverts(chain, reverted: Reverted, who: str) -> None:
    account = getattr(chain, who)
    anchor = chain.contract.functions.anchor(LOG, 1, root_for(1))
    error = reverted(lambda: anchor.transact({"from": account}))
    assert error == (
        f"AccessControlUnauthorizedAccount(account={Web3.to_checksum_address(account)}, "
        f"neededRole=0x{ANCHORER_ROLE.hex()})"
    )
    assert chain.contract.functions.latest(LOG).call() == [0, b"\x00" * 32]


def test_granted_anchorer_can_anchor_and_revoked_cannot(chain, reverted: Reverted) -> None:
    c = chain.contract.functions
    chain.w3.eth.wait_for_transaction_receipt(
        c.grantRole(ANCHORER_ROLE, chain.stranger).transact({"from": chain.admin})
    )
    tx = c.anchor(LOG, 3, root_for(3)).transact({"from": chain.stranger})
    assert chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    chain.w3.eth.wait_for_transaction_receipt(
        c.revokeRole(ANCHORER_ROLE, chain.stranger).transact({"from": chain.admin})
    )
    error = reverted(lambda: c.anchor(LOG, 4, root_for(4)).transact({"from": chain.stranger}))
    assert error.startswith("AccessControlUnauthorizedAccount(")
    # Only the admin administers the role.
    error = reverted(
        lambda: c.grantRole(ANCHORER_ROLE, chain.stranger).transact({"from": chain.anchorer})
    )
    assert error.startswith("AccessControlUnauthorizedAccount(")


def test_tree_size_must_increase(chain, reverted: Reverted) -> None:
    anchor = chain.contract.functions.anchor
    error = reverted(lambda: anchor(LOG, 0, root_for(0)).transact({"from": chain.anchorer}))
    assert error == (
        f"CheckpointAnchorTreeSizeNotIncreasing(logId=0x{LOG.hex()}, latestTreeSize=0, treeSize=0)"
    )
    chain.anchor(LOG, 5, root_for(5))
    for size in (5, 4, 1, 0):
        error = reverted(
            lambda size=size: anchor(LOG, size, root_for(size)).transact({"from": chain.anchorer})
        )
        assert error == (
            f"CheckpointAnchorTreeSizeNotIncreasing(logId=0x{LOG.hex()}, "
            f"latestTreeSize=5, treeSize={size})"
        )
    # The same data through eth_call surfaces the same way.
    error = reverted(lambda: anchor(LOG, 5, root_for(5)).call({"from": chain.anchorer}))
    assert "latestTreeSize=5, treeSize=5" in error
    chain.anchor(LOG, 6, root_for(6))
    chain.anchor(LOG, UINT64_MAX, root_for(UINT64_MAX))
    error = reverted(
        lambda: anchor(LOG, UINT64_MAX, root_for(1)).transact({"from": chain.anchorer})
    )
    assert f"latestTreeSize={UINT64_MAX}, treeSize={UINT64_MAX}" in error


def test_zero_root_reverts(chain, reverted: Reverted) -> None:
    anchor = chain.contract.functions.anchor
    error = reverted(lambda: anchor(LOG, 1, b"\x00" * 32).transact({"from": chain.anchorer}))
    assert error == f"CheckpointAnchorEmptyRoot(logId=0x{LOG.hex()})"
    assert chain.contract.functions.latest(LOG).call() == [0, b"\x00" * 32]


def test_failed_transaction_changes_nothing(chain) -> None:
    chain.anchor(LOG, 2, root_for(2))
    # With an explicit gas limit the node skips estimation: the revert is mined.
    tx = chain.contract.functions.anchor(LOG, 2, root_for(9)).transact(
        {"from": chain.anchorer, "gas": 200_000}
    )
    receipt = chain.w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 0
    assert receipt["logs"] == []
    assert chain.contract.functions.latest(LOG).call() == [2, root_for(2)]


def test_root_at_and_latest(chain) -> None:
    c = chain.contract.functions
    assert c.latest(LOG).call() == [0, b"\x00" * 32]
    assert c.rootAt(LOG, 0).call() == b"\x00" * 32
    sizes = [1, 2, 7, 1000, 2**40]
    for size in sizes:
        chain.anchor(LOG, size, root_for(size))
        assert c.latest(LOG).call() == [size, root_for(size)]
    for size in sizes:
        assert c.rootAt(LOG, size).call() == root_for(size)
    for size in (0, 3, 6, 999, 2**40 - 1, 2**40 + 1, UINT64_MAX):
        assert c.rootAt(LOG, size).call() == b"\x00" * 32


def test_event_fields(chain) -> None:
    receipt = chain.anchor(LOG, 42, root_for(42))
    (event,) = chain.contract.events.CheckpointAnchored().process_receipt(receipt)
    assert event["args"]["logId"] == LOG
    assert event["args"]["treeSize"] == 42
    assert event["args"]["rootHash"] == root_for(42)
    assert event["args"]["anchorer"] == chain.anchorer
    assert event["address"] == chain.contract.address

    # Query by block and topics as an indexer would: a narrow block range, 0x-hex topics.
    topic0 = Web3.to_hex(keccak(text="CheckpointAnchored(bytes32,uint64,bytes32,address)"))
    block = receipt["blockNumber"]
    raw = chain.w3.eth.get_logs(
        {
            "fromBlock": block,
            "toBlock": block,
            "address": chain.contract.address,
            "topics": [topic0, "0x" + LOG.hex()],
        }
    )
    assert len(raw) == 1
    topics = raw[0]["topics"]
    assert bytes(topics[1]) == LOG
    assert int.from_bytes(topics[2], "big") == 42
    assert bytes(topics[3])[12:] == bytes.fromhex(chain.anchorer[2:])
    assert bytes(raw[0]["data"]) == root_for(42)
    events = chain.contract.events.CheckpointAnchored.get_logs(
        from_block=block, to_block=block, argument_filters={"logId": "0x" + LOG.hex()}
    )
    assert [e["args"]["treeSize"] for e in events] == [42]
    other = chain.w3.eth.get_logs(
        {"fromBlock": block, "toBlock": block, "topics": [topic0, "0x" + OTHER_LOG.hex()]}
    )
    assert other == []


def test_logs_are_independent(chain, reverted: Reverted) -> None:
    c = chain.contract.functions
    logs = [log_id_for(f"restaurant-{i}.example/log") for i in range(5)]
    for i, log_id in enumerate(logs):
        chain.anchor(log_id, 10 - i, root_for(10 - i, salt=str(i)))
    # A small size on one log is fine although another log is further ahead.
    chain.anchor(OTHER_LOG, 1, root_for(1))
    for i, log_id in enumerate(logs):
        assert c.latest(log_id).call() == [10 - i, root_for(10 - i, salt=str(i))]
        assert c.rootAt(log_id, 10).call() == (root_for(10, salt="0") if i == 0 else b"\x00" * 32)
    assert c.latest(OTHER_LOG).call() == [1, root_for(1)]
    error = reverted(lambda: c.anchor(logs[4], 6, root_for(6)).transact({"from": chain.anchorer}))
    assert f"logId=0x{logs[4].hex()}, latestTreeSize=6, treeSize=6" in error
    chain.anchor(logs[4], 7, root_for(7))
    assert c.latest(logs[3]).call()[0] == 7
    assert c.latest(logs[4]).call()[0] == 7


@pytest.mark.parametrize("size", [1, 1_000, 1_000_000, 2**40])
def test_gas_of_first_anchor(chain, size: int) -> None:
    receipt = chain.anchor(log_id_for(f"gas-{size}"), size, root_for(size))
    assert receipt["status"] == 1
    assert receipt["gasUsed"] <= 80_000, receipt["gasUsed"]


def test_gas_of_later_anchors(chain) -> None:
    log_id = log_id_for("gas/later")
    chain.anchor(log_id, 1, root_for(1))
    used = {}
    for size in (2, 1_000, 1_000_000, 2**40, 2**40 + 1, UINT64_MAX):
        used[size] = chain.anchor(log_id, size, root_for(size))["gasUsed"]
    assert max(used.values()) <= 60_000, used
    # Independent of the tree size up to its calldata bytes (16 gas per non-zero byte).
    assert max(used.values()) - min(used.values()) <= 16 * 8, used
