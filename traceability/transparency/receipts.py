"""Signed ingest receipts: the platform's promise that an event is in the log."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature

from traceability.errors import VerificationError
from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.checkpoints import NoteSigner, NoteVerifier

RECEIPT_FORMAT = "sunledger-receipt/1"
BATCH_RECEIPT_FORMAT = "sunledger-batch-receipt/1"


@dataclass(frozen=True)
class Receipt:
    """Leaf index and leaf hash of an accepted event, signed by the log key."""

    origin: str
    event_id: str
    leaf_index: int
    leaf_hash: bytes
    recorded_at: str

    def statement(self) -> dict[str, Any]:
        return {
            "format": RECEIPT_FORMAT,
            "origin": self.origin,
            "event_id": self.event_id,
            "leaf_index": self.leaf_index,
            "leaf_hash": self.leaf_hash.hex(),
            "recorded_at": self.recorded_at,
        }

    def signed(self, signer: NoteSigner) -> dict[str, Any]:
        """The statement plus key id and an Ed25519 signature over its JCS bytes."""
        statement = self.statement()
        signature = signer.private_key.sign(canonical_bytes(statement))
        return {
            **statement,
            "key_id": signer.key_id.hex(),
            "signature": base64.b64encode(signature).decode(),
        }


def verify_receipt(receipt: dict[str, Any], verifier: NoteVerifier) -> Receipt:
    """Check a receipt's signature against the log's verifier key; raise ``VerificationError``."""
    try:
        statement = {k: receipt[k] for k in Receipt.__dataclass_fields__} | {
            "format": receipt["format"]
        }
        key_id, signature = receipt["key_id"], base64.b64decode(receipt["signature"], validate=True)
        parsed = Receipt(
            origin=str(statement["origin"]),
            event_id=str(statement["event_id"]),
            leaf_index=int(statement["leaf_index"]),
            leaf_hash=bytes.fromhex(str(statement["leaf_hash"])),
            recorded_at=str(statement["recorded_at"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"malformed receipt: {exc}") from None
    _check_signature(
        parsed.statement(), statement["format"], RECEIPT_FORMAT, key_id, signature, verifier
    )
    return parsed


def _check_signature(
    statement: dict[str, Any],
    found_format: object,
    expected_format: str,
    key_id: object,
    signature: bytes,
    verifier: NoteVerifier,
) -> None:
    """The format is ours, the key is the log's, and the signature covers the statement."""
    if found_format != expected_format:
        raise VerificationError(
            "unknown receipt format", expected=expected_format, computed=found_format
        )
    if key_id != verifier.key_id.hex():
        raise VerificationError(
            "receipt signed by another key", expected=verifier.key_id.hex(), computed=key_id
        )
    try:
        verifier.public_key.verify(signature, canonical_bytes(statement))
    except InvalidSignature:
        kind = "batch receipt" if expected_format == BATCH_RECEIPT_FORMAT else "receipt"
        raise VerificationError(f"{kind} signature does not verify") from None


def sign_batch_receipt(
    signer: NoteSigner, origin: str, recorded_at: str, events: list[dict[str, Any]]
) -> dict[str, Any]:
    """One signature for a whole batch: every event's id, leaf index and leaf hash."""
    statement = {
        "format": BATCH_RECEIPT_FORMAT,
        "origin": origin,
        "recorded_at": recorded_at,
        "events": events,
    }
    signature = signer.private_key.sign(canonical_bytes(statement))
    return {
        **statement,
        "key_id": signer.key_id.hex(),
        "signature": base64.b64encode(signature).decode(),
    }


def verify_batch_receipt(receipt: dict[str, Any], verifier: NoteVerifier) -> list[dict[str, Any]]:
    """Check a batch receipt's signature; return its events. Raises ``VerificationError``."""
    try:
        statement = {k: receipt[k] for k in ("format", "origin", "recorded_at", "events")}
        signature = base64.b64decode(receipt["signature"], validate=True)
        key_id = receipt["key_id"]
    except (KeyError, TypeError, ValueError) as exc:
        raise VerificationError(f"malformed batch receipt: {exc}") from None
    _check_signature(
        statement, statement["format"], BATCH_RECEIPT_FORMAT, key_id, signature, verifier
    )
    events: list[dict[str, Any]] = statement["events"]
    return events
