"""Proof bundles (``sunledger-proof/1``): one JSON file that proves one event.

A bundle holds the event as logged, its leaf index and hash, an inclusion
proof to an anchored tree size, that size's signed checkpoint and the anchor
(chain, contract, log id, transaction, block). With the platform's public key
and any chain RPC, ``sunledger verify`` checks it without asking us anything.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from traceability.chain import anchor_repository
from traceability.errors import NotFound
from traceability.transparency import log_repository
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import TransparencyLog
from traceability.witnessing.collection import Witnessing

BUNDLE_FORMAT = "sunledger-proof/1"


def anchor_json(row: Any) -> dict[str, Any]:
    """An anchor as the auditor API shows it."""
    return {
        "tree_size": row.tree_size,
        "root_hash": bytes(row.root_hash).hex(),
        "chain_id": row.chain_id,
        "contract": row.contract,
        "log_id": bytes(row.log_id).hex(),
        "tx_hash": row.tx_hash,
        "block_number": row.block_number,
        "status": row.status,
    }


def build_bundle(
    session: Session,
    log: TransparencyLog,
    signer: NoteSigner,
    event_id: str,
    witnessing: Witnessing | None = None,
) -> dict[str, Any]:
    """The proof bundle of one event, bound to the earliest anchor that covers it.

    An event not yet anchored gets a bundle against the newest checkpoint with
    ``"anchor": null`` (status "logged"); its chain check will fail until it is.
    """
    row = log_repository.event_by_id(session, event_id)
    if row is None:
        raise NotFound(f"no event {event_id}")
    anchor = anchor_repository.covering_anchor(session, row.leaf_index)
    if anchor is not None:
        tree_size = anchor.tree_size
        checkpoint = log_repository.checkpoint_at(session, tree_size)
        if checkpoint is None:
            raise NotFound(f"the checkpoint of anchored size {tree_size} is missing")
        note, status = checkpoint.note, ("anchored" if anchor.status == "final" else "confirmed")
    else:
        # Sign a checkpoint for the current size if none covers the event yet.
        latest = log.checkpoint(session, signer)
        tree_size, note, status = latest.tree_size, latest.note, "logged"
    proof = log.inclusion_proof(session, row.leaf_index, tree_size)
    witnessed = False
    if witnessing is not None:
        checkpoint_row = log_repository.checkpoint_at(session, tree_size)
        if checkpoint_row is not None:
            note = witnessing.cosigned(session, checkpoint_row)
            witnessed = witnessing.is_witnessed(session, tree_size)
    return {
        "format": BUNDLE_FORMAT,
        "status": status,
        "event": json.loads(row.body),
        "leaf_index": row.leaf_index,
        "leaf_hash": bytes(row.leaf_hash).hex(),
        "inclusion": {
            "tree_size": proof.tree_size,
            "root_hash": proof.root_hash.hex(),
            "hashes": [h.hex() for h in proof.hashes],
        },
        "checkpoint": note,
        "witnessed": witnessed,
        "anchor": None if anchor is None else anchor_json(anchor),
        "log": {"origin": log.origin, "public_key": signer.verifier_key()},
    }


def build_tlog_proof(
    session: Session,
    log: TransparencyLog,
    signer: NoteSigner,
    event_id: str,
    witnessing: Witnessing,
) -> str:
    """The ``c2sp.org/tlog-proof@v1`` file of one event (docs/trust.md).

    Bound to the smallest checkpoint that covers the event and met the witness
    policy; before one has, to the newest checkpoint with whatever cosignatures
    it has (a verifier then reports the policy as not met).
    """
    from traceability.verify.tlog_proof import TlogProof, encode
    from traceability.witnessing import repository as witness_repository

    row = log_repository.event_by_id(session, event_id)
    if row is None:
        raise NotFound(f"no event {event_id}")
    checkpoint = witness_repository.smallest_witnessed_covering(session, row.leaf_index)
    if checkpoint is None:
        latest = log.checkpoint(session, signer)
        checkpoint = log_repository.checkpoint_at(session, latest.tree_size)
        if checkpoint is None:
            raise NotFound(f"the checkpoint of size {latest.tree_size} is missing")
    proof = log.inclusion_proof(session, row.leaf_index, checkpoint.tree_size)
    return encode(
        TlogProof(
            bytes(row.body),
            row.leaf_index,
            proof.hashes,
            witnessing.cosigned(session, checkpoint),
        )
    )
