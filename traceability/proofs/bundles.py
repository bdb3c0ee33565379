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
from traceability.storage.models import CheckpointRow
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import LoggedEvent, SignedCheckpoint, TransparencyLog
from traceability.transparency.log_reader import LogReader
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


class NotCheckpointed(NotFound):
    """The event is logged, but no signed checkpoint covers it yet.

    A reader can only prove an event against a published checkpoint. Ask again
    after the next one is signed (anchoring signs one whenever it schedules an
    anchor), or publish one through the log's write side (``TransparencyLog.checkpoint``).
    """


def read_bundle(
    session: Session,
    log: LogReader,
    verifier_key: str,
    event_id: str,
    witnessing: Witnessing | None = None,
) -> dict[str, Any]:
    """The proof bundle of one event, read from the log alone (nothing is written).

    Bound to the earliest anchor that covers the event; an event not yet anchored
    gets a bundle against the newest checkpoint with ``"anchor": null`` (status
    "logged"); its chain check will fail until it is. Raises :class:`NotCheckpointed`
    when no signed checkpoint covers the event yet, ``NotFound`` for an unknown event.
    """
    event = log.event(session, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    anchor = anchor_repository.covering_anchor(session, event.leaf_index)
    if anchor is not None:
        checkpoint = log.checkpoint_at(session, anchor.tree_size)
        if checkpoint is None:
            raise NotFound(f"the checkpoint of anchored size {anchor.tree_size} is missing")
        status = "anchored" if anchor.status == "final" else "confirmed"
    else:
        checkpoint = _covering(session, log, event)
        status = "logged"
    tree_size, note = checkpoint.tree_size, checkpoint.note
    proof = log.inclusion_proof(session, event.leaf_index, tree_size)
    witnessed = False
    if witnessing is not None:
        note = witnessing.cosigned(session, checkpoint)
        witnessed = witnessing.is_witnessed(session, tree_size)
    return {
        "format": BUNDLE_FORMAT,
        "status": status,
        "event": json.loads(event.body),
        "leaf_index": event.leaf_index,
        "leaf_hash": event.leaf_hash.hex(),
        "inclusion": {
            "tree_size": proof.tree_size,
            "root_hash": proof.root_hash.hex(),
            "hashes": [h.hex() for h in proof.hashes],
        },
        "checkpoint": note,
        "witnessed": witnessed,
        "anchor": None if anchor is None else anchor_json(anchor),
        "log": {"origin": log.origin, "public_key": verifier_key},
    }


def _covering(session: Session, log: LogReader, event: LoggedEvent) -> SignedCheckpoint:
    """The newest signed checkpoint, when it covers ``event``."""
    try:
        latest = log.latest_checkpoint(session)
    except NotFound:
        latest = None
    if latest is None or latest.tree_size <= event.leaf_index:
        newest = (
            "none is signed yet"
            if latest is None
            else f"the newest covers {latest.tree_size} leaves"
        )
        raise NotCheckpointed(
            f"event {event.event_id} (leaf {event.leaf_index}) is not covered by a signed "
            f"checkpoint yet ({newest})"
        )
    return latest


def build_bundle(
    session: Session,
    log: TransparencyLog,
    signer: NoteSigner,
    event_id: str,
    witnessing: Witnessing | None = None,
) -> dict[str, Any]:
    """The proof bundle of one event (:func:`read_bundle`), for an event of any age.

    When no signed checkpoint covers the event yet, one is first published through the
    log's write side (``log.checkpoint``: a checkpoint for the current size, stored in
    the caller's transaction) so a just-logged event gets its bundle at once, as the
    API always answered. That publication is the only write; the bundle is then read
    like any other.
    """
    try:
        return read_bundle(session, log, signer.verifier_key(), event_id, witnessing)
    except NotCheckpointed:
        log.checkpoint(session, signer)
    return read_bundle(session, log, signer.verifier_key(), event_id, witnessing)


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

    event = log.event(session, event_id)
    if event is None:
        raise NotFound(f"no event {event_id}")
    checkpoint: CheckpointRow | SignedCheckpoint | None
    checkpoint = witness_repository.smallest_witnessed_covering(session, event.leaf_index)
    if checkpoint is None:
        try:
            checkpoint = _covering(session, log, event)
        except NotCheckpointed:
            log.checkpoint(session, signer)  # as build_bundle: publish one, then read it
            checkpoint = _covering(session, log, event)
    proof = log.inclusion_proof(session, event.leaf_index, checkpoint.tree_size)
    return encode(
        TlogProof(
            event.body,
            event.leaf_index,
            proof.hashes,
            witnessing.cosigned(session, checkpoint),
        )
    )
