"""The chains checkpoints are anchored on, each behind the one ``AnchorChain`` interface."""

import sys

import py_ecc  # noqa: F401  (imported first on purpose, see below)

# py_ecc raises the interpreter's recursion limit to 100,000 when imported, deep
# enough for a hostile, deeply nested JSON body to overflow the C stack inside
# json.loads and kill the process. py-evm asks for 12,288 (1,024 EVM call
# frames); that is what we allow.
EVM_RECURSION_LIMIT = 1024 * 12
sys.setrecursionlimit(EVM_RECURSION_LIMIT)

from traceability.chain.client import AnchorChain, SignedAnchor, TxOutcome  # noqa: E402
from traceability.errors import ChainUnavailable  # noqa: E402

__all__ = ["AnchorChain", "ChainUnavailable", "SignedAnchor", "TxOutcome"]
