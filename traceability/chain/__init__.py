"""The chains checkpoints are anchored on, each behind the one ``AnchorChain`` interface."""

from traceability.chain.client import AnchorChain, SignedAnchor, TxOutcome
from traceability.errors import ChainUnavailable

__all__ = ["AnchorChain", "ChainUnavailable", "SignedAnchor", "TxOutcome"]
