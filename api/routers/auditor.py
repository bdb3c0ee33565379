"""Auditor API: the log's checkpoint, key, entries and proofs (public, read-only)."""

from __future__ import annotations

import gzip
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse, Response

from api.deps import PlatformDep, SessionDep
from traceability.chain import anchor_repository
from traceability.errors import NotFound
from traceability.proofs.batch import MAX_EVENTS, build_bundles
from traceability.proofs.bundles import anchor_json, build_bundle, build_tlog_proof
from traceability.transparency import log_repository
from traceability.witnessing.policy import policy_json

router = APIRouter(prefix="/v1/log", tags=["auditor"])

NonNegative = Annotated[int, Query(ge=0, le=2**62)]


@router.get("/checkpoint", response_class=PlainTextResponse)
def checkpoint(platform: PlatformDep, session: SessionDep) -> str:
    """The newest signed checkpoint (the newest that met the witness policy, when witnesses
    are configured), as a C2SP signed note with the witnesses' cosignature lines."""
    return platform.served_checkpoint(session)


@router.get("/witnesses")
def witnesses(platform: PlatformDep, session: SessionDep) -> dict[str, Any]:
    """The witness policy (the ``witnesses`` section of a trust file) and which
    checkpoint was last witnessed."""
    from traceability.witnessing import repository as witness_repository

    newest = witness_repository.newest_witnessed(session)
    return {
        **policy_json(platform.witnessing.policy),
        "newest_witnessed_size": None if newest is None else newest.tree_size,
    }


@router.get("/public-key", response_class=PlainTextResponse)
def public_key(platform: PlatformDep) -> str:
    """The note verifier key: ``<name>+<key id hex>+<base64 key>``."""
    return platform.signer.verifier_key() + "\n"


@router.get("/entries/{index}")
def entry(index: int, platform: PlatformDep, session: SessionDep) -> dict[str, Any]:
    """The event at a leaf index, as logged (personal fields are commitments)."""
    size = platform.log.size(session)
    if not 0 <= index < size:
        raise NotFound(f"no entry at index {index}; the log has {size} entries")
    row = log_repository.event_at(session, index)
    if row is None:
        raise NotFound(f"entry {index} is in the tree but its event is missing")
    return {"index": index, "leaf_hash": bytes(row.leaf_hash).hex(), "event": json.loads(row.body)}


@router.get("/proof/inclusion")
def inclusion(
    platform: PlatformDep,
    session: SessionDep,
    index: NonNegative,
    tree_size: Annotated[int | None, Query(ge=1, le=2**62)] = None,
) -> dict[str, Any]:
    """Inclusion proof of one leaf; ``tree_size`` defaults to the newest checkpoint."""
    size = tree_size if tree_size is not None else platform.log.latest_checkpoint(session).tree_size
    proof = platform.log.inclusion_proof(session, index, size)
    return {
        "index": proof.index,
        "tree_size": proof.tree_size,
        "leaf_hash": proof.leaf_hash.hex(),
        "root_hash": proof.root_hash.hex(),
        "hashes": [h.hex() for h in proof.hashes],
    }


@router.get("/proof/consistency")
def consistency(
    platform: PlatformDep, session: SessionDep, first: NonNegative, second: NonNegative
) -> dict[str, Any]:
    """Consistency proof between two tree sizes."""
    proof = platform.log.consistency_proof(session, first, second)
    return {
        "first": proof.first,
        "second": proof.second,
        "first_root": proof.first_root.hex(),
        "second_root": proof.second_root.hex(),
        "hashes": [h.hex() for h in proof.hashes],
    }


@router.get("/anchors")
def anchors(
    session: SessionDep,
    status: Annotated[
        Literal["pending", "submitted", "confirmed", "final", "failed"] | None, Query()
    ] = None,
    after: Annotated[int, Query(ge=0, description="Only anchors above this tree size")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Checkpoints anchored (or on their way) on chain, by tree size."""
    rows = anchor_repository.list_anchors(session, status=status, after=after, limit=limit)
    return [anchor_json(row) for row in rows]


proofs_router = APIRouter(prefix="/v1/proofs", tags=["auditor"])


@proofs_router.get(
    "",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def proof_bundles(
    request: Request,
    platform: PlatformDep,
    session: SessionDep,
    event_id: Annotated[
        list[str],
        Query(min_length=1, max_length=MAX_EVENTS, description="Repeat for each event."),
    ],
) -> Response:
    """The bundles of several events (at most 50) in one answer: ``{"bundles": {event_id:
    bundle}, "missing": {event_id: why}}``, each bundle as ``/v1/proofs/{event_id}`` gives
    (gzip-compressed for a client that accepts it)."""
    found = build_bundles(session, platform.log, platform.signer, event_id, platform.witnessing)
    data = json.dumps(found, separators=(",", ":")).encode()
    headers = {"Vary": "Accept-Encoding"}
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        data = gzip.compress(data, compresslevel=6, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type="application/json", headers=headers)


@proofs_router.get(
    "/{event_id}.tlog-proof",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def tlog_proof(event_id: str, platform: PlatformDep, session: SessionDep) -> Response:
    """The event's offline proof in the C2SP ``c2sp.org/tlog-proof@v1`` format: the event,
    its inclusion proof and the checkpoint with the witnesses' cosignatures."""
    text = build_tlog_proof(session, platform.log, platform.signer, event_id, platform.witnessing)
    return Response(
        text,
        media_type="text/plain; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{event_id}.tlog-proof"'},
    )


@proofs_router.get("/{event_id}")
def proof_bundle(event_id: str, platform: PlatformDep, session: SessionDep) -> dict[str, Any]:
    """The ``sunledger-proof/1`` bundle of one event: verify it with ``sunledger verify``."""
    return build_bundle(session, platform.log, platform.signer, event_id, platform.witnessing)
