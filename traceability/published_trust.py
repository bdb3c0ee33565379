"""The platform's own trust configuration, as it publishes it (``GET /v1/trust``)."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from traceability.chain.factory import open_chain
from traceability.checkpoints import NoteSigner
from traceability.errors import ChainUnavailable
from traceability.log import TransparencyLog
from traceability.settings import Settings
from traceability.trust import ChainPin, TrustConfig


def published_trust(
    settings: Settings, sessions: sessionmaker[Session], log: TransparencyLog, signer: NoteSigner
) -> TrustConfig:
    """The log's origin and key and the chain and contract it anchors on.

    Raises ``ChainUnavailable`` when the chain does not answer or has no contract yet.
    """
    chain = open_chain(settings, sessions)
    if chain.contract_address is None:
        raise ChainUnavailable(
            f"the anchor contract is not deployed on the {settings.chain} chain "
            "(sunledger chain deploy): there is no trust configuration to publish yet"
        )
    pin = ChainPin.of(chain.chain_id, chain.contract_address)
    return TrustConfig(log.origin, signer.verifier_key(), pin)
