"""The platform's published trust roots (minimal): the log's key, the chain and contract its
checkpoints are anchored on. Pages pin the chain id and contract from here, never from a
proof bundle. (A fuller trust file, with witnesses, is being built alongside; this one
keeps its shape: ``{"format", "log", "chain": {"chain_id", "contract", "log_id"},
"witnesses"}``.)"""

from __future__ import annotations

import hashlib
import threading
from typing import Any

from fastapi import APIRouter

from api.deps import PlatformDep
from traceability.chain.factory import open_chain
from traceability.errors import ChainUnavailable

router = APIRouter(tags=["public"])

TRUST_FORMAT = "sunledger-trust/1"
_LOCK = threading.Lock()
_CHAINS: dict[str, Any] = {}


def _chain(platform: Any) -> Any:
    if platform.settings.chain == "embedded":
        return platform.embedded_chain
    key = platform.settings.model_dump_json()
    with _LOCK:
        if key not in _CHAINS:
            _CHAINS[key] = open_chain(platform.settings, platform.sessions)
        return _CHAINS[key]


@router.get("/v1/trust")
def trust(platform: PlatformDep) -> dict[str, Any]:
    """The trust roots to pin: the log (origin, id, verifier key), the anchor chain's id
    and contract. 503 while no contract is deployed: there is nothing to pin yet."""
    origin = platform.log.origin
    log_id = hashlib.sha256(origin.encode()).hexdigest()
    chain = _chain(platform)
    contract = chain.contract_address
    if contract is None:
        raise ChainUnavailable("the anchor contract is not deployed yet: nothing to pin")
    return {
        "format": TRUST_FORMAT,
        "log": {"origin": origin, "log_id": log_id, "public_key": platform.signer.verifier_key()},
        "chain": {"chain_id": int(chain.chain_id), "contract": str(contract), "log_id": log_id},
        "witnesses": {},
    }
