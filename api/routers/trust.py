"""The platform's published trust configuration (public): what verifiers pin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from api.deps import PlatformDep
from traceability.public_record.published_trust import published_trust

router = APIRouter(prefix="/v1", tags=["auditor"])


@router.get("/trust")
async def trust(platform: PlatformDep) -> dict[str, Any]:
    """The ``sunledger-trust/1`` file of this platform: the log's origin and verifier key,
    the chain id and anchor contract its checkpoints are anchored in, and the witness
    policy. Pin it out of band; ``sunledger verify --trust FILE`` and the consumer page
    read the root from the contract it names, never from a proof bundle."""

    def build() -> dict[str, Any]:
        chain = platform.embedded_chain if platform.settings.chain == "embedded" else None
        config = published_trust(
            platform.settings, platform.sessions, platform.log, platform.signer, chain
        )
        return config.to_json()

    return await run_in_threadpool(build)
