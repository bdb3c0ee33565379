"""An in-process chain (eth-tester + py-evm) with a freshly deployed CheckpointAnchor.

Accounts: ``accounts[0]`` is the admin, ``accounts[1]`` the anchorer and
``accounts[2]`` holds no role.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from eth_tester import EthereumTester, PyEVMBackend
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract

from traceability.chain.contracts import (
    ContractArtifact,
    decode_custom_error,
    load_artifact,
    revert_data_from_exception,
)


@dataclass
class AnchorChain:
    w3: Web3
    tester: EthereumTester
    contract: Contract
    admin: str
    anchorer: str
    stranger: str

    def anchor(self, log_id: bytes, tree_size: int, root_hash: bytes) -> Any:
        """Anchor as the anchorer and return the mined receipt."""
        tx = self.contract.functions.anchor(log_id, tree_size, root_hash).transact(
            {"from": self.anchorer}
        )
        return self.w3.eth.wait_for_transaction_receipt(tx)


@pytest.fixture(scope="session")
def artifact() -> ContractArtifact:
    return load_artifact("CheckpointAnchor")


def deploy(artifact: ContractArtifact) -> AnchorChain:
    tester = EthereumTester(PyEVMBackend())
    w3 = Web3(EthereumTesterProvider(tester))
    admin, anchorer, stranger = w3.eth.accounts[:3]
    factory = w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    tx = factory.constructor(admin, anchorer).transact({"from": admin})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1
    contract = w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)
    return AnchorChain(w3, tester, contract, admin, anchorer, stranger)


@pytest.fixture
def chain(artifact: ContractArtifact) -> AnchorChain:
    """A new chain and contract for each test (about 20 ms)."""
    return deploy(artifact)


@pytest.fixture
def reverted(artifact: ContractArtifact) -> Callable[[Callable[[], object]], str]:
    """Run ``action``, demand that it reverts, and return the decoded custom error."""

    def check(action: Callable[[], object]) -> str:
        with pytest.raises(Exception) as excinfo:  # each backend raises its own type
            action()
        data = revert_data_from_exception(excinfo.value)
        assert data is not None, f"no revert data in {excinfo.value!r}"
        decoded = decode_custom_error(artifact.abi, data)
        assert decoded is not None, f"revert data 0x{data.hex()} matches no error of the ABI"
        return decoded

    return check
