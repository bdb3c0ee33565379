"""What the verifier reads from the pinned chain, behind one small interface.

The verifier does no I/O: it asks an :class:`AnchorReader` for the few facts it
checks (the chain id, the root the anchor contract holds for a size, an anchor
transaction with its receipt, the contract's ``CheckpointAnchored`` logs) and
decides everything else itself. The JSON-RPC implementation lives with the
chain code (``traceability.chain.json_rpc.RpcAnchorReader``); tests may give an
in-process one that behaves the same. Every type here is a Protocol, so an
implementation returns values of its own with these shapes and needs nothing from
this package: the verifier and the chain code do not import each other.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from traceability.errors import RpcError

__all__ = ["AnchorReader", "AnchorTransaction", "ChainLog", "RpcError"]


class ChainLog(Protocol):
    """One event log entry as the chain reports it."""

    @property
    def address(self) -> str:
        """The emitting contract, as the chain spells it (compare case-insensitively)."""
        ...

    @property
    def topics(self) -> tuple[bytes, ...]: ...

    @property
    def data(self) -> bytes: ...


class AnchorTransaction(Protocol):
    """A mined transaction and what its receipt says."""

    @property
    def to(self) -> str | None:
        """The called address (None for a contract creation)."""
        ...

    @property
    def input(self) -> str:
        """The calldata, ``0x`` + hex, as the chain spells it."""
        ...

    @property
    def status(self) -> int:
        """The receipt's status: 1 succeeded, 0 reverted."""
        ...

    @property
    def block_number(self) -> int | None: ...

    @property
    def logs(self) -> tuple[ChainLog, ...]: ...


class AnchorReader(Protocol):
    """Reads the anchor contract's state and transactions on one chain.

    Every implementation MUST:

    - raise :class:`RpcError` when the chain cannot be asked or answers with an
      error (the verifier then says the chain is unreachable);
    - raise ``ValueError`` or ``TypeError`` when an answer does not have the
      shape a chain gives (the verifier fails the ``chain_root`` check with
      "unexpected RPC answer");
    - read the chain's current state (``latest``), never a cached copy that may
      predate a reorg, and never fill in an answer the chain did not give.
    """

    def chain_id(self) -> int:
        """The chain id the endpoint serves (``eth_chainId``)."""
        ...

    def root_at(self, contract: str, log_id: bytes, tree_size: int) -> bytes:
        """The 32-byte root ``contract.rootAt(log_id, tree_size)`` returns (32 zero bytes
        when nothing is anchored at that size)."""
        ...

    def transaction(self, tx_hash: str) -> AnchorTransaction | None:
        """The transaction and its receipt, or None when the chain knows either not."""
        ...

    def anchor_logs(self, contract: str, topics: tuple[bytes, ...]) -> Sequence[ChainLog]:
        """Every log ``contract`` emitted, from block 0 to the latest, whose leading topics
        are ``topics``."""
        ...
