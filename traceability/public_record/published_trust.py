"""The platform's own trust configuration, as it publishes it (``GET /v1/trust``)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from traceability.chain.client import AnchorChain
from traceability.chain.factory import open_chain
from traceability.errors import ChainUnavailable
from traceability.settings import Settings
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import TransparencyLog
from traceability.verify import ChainPin, TrustConfig
from traceability.witnessing.collection import Witnessing
from traceability.witnessing.policy import policy_json


def published_trust(
    settings: Settings,
    sessions: sessionmaker[Session],
    log: TransparencyLog,
    signer: NoteSigner,
    chain: AnchorChain | None = None,
) -> TrustConfig:
    """The log's origin and key, the chain and contract it anchors on, and the witnesses
    whose cosignatures it collects (``SUNLEDGER_WITNESSES``, ``SUNLEDGER_WITNESS_QUORUM``).

    Raises ``ChainUnavailable`` when the chain does not answer or has no contract yet.
    """
    chain = chain or open_chain(settings, sessions)
    if chain.contract_address is None:
        raise ChainUnavailable(
            f"the anchor contract is not deployed on the {settings.chain} chain "
            "(sunledger chain deploy): there is no trust configuration to publish yet"
        )
    pin = ChainPin.of(chain.chain_id, chain.contract_address)
    witnesses = policy_json(Witnessing.from_settings(log, settings).policy)
    return TrustConfig(log.origin, signer.verifier_key(), pin, witnesses)
