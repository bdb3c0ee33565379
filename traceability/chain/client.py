"""One client for every EVM chain: embedded eth-tester, a Hardhat node, or any JSON-RPC URL.

Signing and sending are separate steps so the anchoring outbox can store the
signed transaction (and its hash) before anything leaves the process.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import ChecksumAddress
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import BlockNotFound, TransactionNotFound

from traceability.chain.contracts import (
    ContractArtifact,
    decode_custom_error,
    load_artifact,
    revert_data_from_exception,
)
from traceability.errors import ChainUnavailable

GWEI = 10**9
ZERO_ROOT = b"\0" * 32


@dataclass(frozen=True)
class SignedAnchor:
    tx_hash: str
    raw: bytes
    nonce: int


@dataclass(frozen=True)
class TxOutcome:
    """A mined transaction: where, and whether it succeeded."""

    tx_hash: str
    block_number: int
    block_hash: str
    succeeded: bool
    gas_used: int
    error: str | None = None


def _hex(value: bytes | HexBytes | str) -> str:
    if isinstance(value, str):
        return value if value.startswith("0x") else "0x" + value
    return "0x" + bytes(value).hex()


class AnchorChain:
    """The anchor contract on one chain, seen through web3.

    ``contract`` may be None until the contract is deployed.
    """

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        name: str,
        contract: str | None = None,
        artifact: ContractArtifact | None = None,
        gas_limit: int = 150_000,
        fixed_fees: tuple[int, int] | None = None,
    ) -> None:
        self.w3 = w3
        self.account = account
        self.name = name
        self.artifact = artifact or load_artifact()
        self.gas_limit = gas_limit
        self._fixed_fees = fixed_fees
        self._chain_id: int | None = None
        self.contract_address: ChecksumAddress | None = None
        if contract is not None:
            self.use_contract(contract)

    # -- identity --------------------------------------------------------------

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = int(self._call(lambda: self.w3.eth.chain_id))
        return self._chain_id

    def use_contract(self, address: str) -> None:
        self.contract_address = Web3.to_checksum_address(address)

    @property
    def contract(self) -> Any:
        if self.contract_address is None:
            raise ChainUnavailable("the anchor contract is not deployed on this chain yet")
        return self.w3.eth.contract(address=self.contract_address, abi=self.artifact.abi)

    def _call(self, fn: Any) -> Any:
        try:
            return fn()
        except (TransactionNotFound, BlockNotFound):
            raise
        except (ConnectionError, OSError, TimeoutError) as exc:
            raise ChainUnavailable(f"{self.name} chain is not reachable: {exc}") from exc
        except Exception as exc:
            # requests' ConnectionError and friends are not OSError subclasses everywhere
            if "connect" in type(exc).__name__.lower() or "Connection" in str(exc)[:200]:
                raise ChainUnavailable(f"{self.name} chain is not reachable: {exc}") from exc
            raise

    # -- transactions ------------------------------------------------------------

    def _fees(self) -> tuple[int, int]:
        if self._fixed_fees is not None:
            return self._fixed_fees
        latest = self._call(lambda: self.w3.eth.get_block("latest"))
        base = int(latest.get("baseFeePerGas", GWEI))
        try:
            tip = int(self._call(lambda: self.w3.eth.max_priority_fee))
        except Exception:
            tip = GWEI
        return 2 * base + tip, tip

    def pending_nonce(self) -> int:
        return int(
            self._call(lambda: self.w3.eth.get_transaction_count(self.account.address, "pending"))
        )

    def _sign(self, tx: dict[str, Any], nonce: int | None) -> SignedAnchor:
        max_fee, tip = self._fees()
        tx.update(
            {
                "chainId": self.chain_id,
                "nonce": self.pending_nonce() if nonce is None else nonce,
                "maxFeePerGas": max_fee,
                "maxPriorityFeePerGas": tip,
                "type": 2,
            }
        )
        signed = self.account.sign_transaction(tx)
        return SignedAnchor(_hex(signed.hash), bytes(signed.raw_transaction), int(tx["nonce"]))

    def sign_anchor(
        self, log_id: bytes, tree_size: int, root_hash: bytes, *, nonce: int | None = None
    ) -> SignedAnchor:
        """Sign ``anchor(logId, treeSize, rootHash)``; nothing is sent."""
        data = self.contract.encode_abi("anchor", args=[log_id, tree_size, root_hash])
        tx = {"to": self.contract_address, "data": data, "gas": self.gas_limit, "value": 0}
        return self._sign(tx, nonce)

    def sign_deploy(self, admin: str | None = None, *, nonce: int | None = None) -> SignedAnchor:
        """Sign the contract's deployment, with our account as admin and anchorer."""
        factory = self.w3.eth.contract(abi=self.artifact.abi, bytecode=self.artifact.bytecode)
        data = factory.constructor(
            Web3.to_checksum_address(admin or self.account.address), self.account.address
        ).data_in_transaction
        tx = {"data": data, "gas": 3_000_000, "value": 0}
        return self._sign(tx, nonce)

    def send(self, raw: bytes) -> tuple[str, str | None]:
        """Send a signed transaction; return its hash and the node's complaint, if any.

        Sending the same transaction again is harmless. Hardhat and eth-tester
        mine a reverting transaction yet answer with an error; the receipt
        (``outcome``) is what tells success, so a complaint is only reported.
        """
        tx_hash = _hex(Web3.keccak(raw))
        try:
            self._call(lambda: self.w3.eth.send_raw_transaction(raw))
        except ChainUnavailable:
            raise
        except Exception as exc:
            text = str(exc)
            if "already known" in text.lower() or "known transaction" in text.lower():
                return tx_hash, None
            data = revert_data_from_exception(exc)
            named = decode_custom_error(self.artifact.abi, data) if data is not None else None
            return tx_hash, named or text[:500]
        return tx_hash, None

    def confirmed_nonce(self) -> int:
        """How many of our transactions are mined (the next nonce the chain expects)."""
        return int(
            self._call(lambda: self.w3.eth.get_transaction_count(self.account.address, "latest"))
        )

    def outcome(self, tx_hash: str) -> TxOutcome | None:
        """The mined transaction, or None when the chain does not know it (yet, or any more)."""
        try:
            receipt = self._call(lambda: self.w3.eth.get_transaction_receipt(HexBytes(tx_hash)))
        except TransactionNotFound:
            return None
        if receipt is None or receipt.get("blockNumber") is None:
            return None
        succeeded = int(receipt["status"]) == 1
        error = None if succeeded else self._revert_reason(tx_hash, int(receipt["blockNumber"]))
        return TxOutcome(
            tx_hash=tx_hash,
            block_number=int(receipt["blockNumber"]),
            block_hash=_hex(receipt["blockHash"]),
            succeeded=succeeded,
            gas_used=int(receipt["gasUsed"]),
            error=error,
        )

    def _revert_reason(self, tx_hash: str, block_number: int) -> str:
        """Replay the failed call to name its custom error."""
        try:
            tx = self.w3.eth.get_transaction(HexBytes(tx_hash))
            self.w3.eth.call(
                {"from": tx["from"], "to": tx["to"], "data": tx["input"]}, block_number - 1
            )
        except Exception as exc:
            data = revert_data_from_exception(exc)
            if data is not None:
                named = decode_custom_error(self.artifact.abi, data)
                if named:
                    return named
            return f"reverted: {exc}"
        return "reverted (no reason could be recovered)"

    def deployed_address(self, tx_hash: str) -> str | None:
        try:
            receipt = self._call(lambda: self.w3.eth.get_transaction_receipt(HexBytes(tx_hash)))
        except TransactionNotFound:
            return None
        address = receipt.get("contractAddress")
        return None if address is None else str(address)

    # -- reading -----------------------------------------------------------------

    def head(self) -> int:
        return int(self._call(lambda: self.w3.eth.block_number))

    def block_hash(self, number: int) -> str | None:
        try:
            block = self._call(lambda: self.w3.eth.get_block(number))
        except BlockNotFound:
            return None
        return _hex(block["hash"])

    def root_at(self, log_id: bytes, tree_size: int) -> bytes | None:
        """The root the contract stores for (log, size), or None."""
        root = self._call(lambda: self.contract.functions.rootAt(log_id, tree_size).call())
        root = bytes(root)
        return None if root == ZERO_ROOT else root

    def latest(self, log_id: bytes) -> tuple[int, bytes]:
        size, root = self._call(lambda: self.contract.functions.latest(log_id).call())
        return int(size), bytes(root)


def account_from_key(private_key: str) -> LocalAccount:
    account: LocalAccount = Account.from_key(private_key)
    return account
