"""The tlog-witness ``add-checkpoint`` logic (c2sp.org/tlog-witness), free of HTTP.

A request is an ``old <size>`` line, up to 63 base64 consistency-proof lines,
an empty line and a signed checkpoint. The witness cosigns only a checkpoint
signed by a key it trusts for that origin and consistent with the last one it
cosigned for that origin; the check and the new record are one transaction.
Refusals carry the status the spec assigns: 400 malformed or old > size, 403
no trusted signature (or a bad one), 404 unknown origin, 409 stale old size
(with the size the witness knows), 422 inconsistent.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from traceability import merkle
from traceability.errors import VerificationError
from traceability.transparency.checkpoints import Checkpoint, NoteVerifier
from traceability.witnessing.cosignature import CosignatureSigner, signature_lines
from traceability.witnessing.state import LogRecord, WitnessState

MAX_PROOF_LINES = 63
EMPTY_ROOT = merkle.root([])


class WitnessRefusal(Exception):
    """The witness will not cosign; ``status`` is the HTTP status the spec assigns."""

    def __init__(self, status: int, detail: str, known_size: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.known_size = known_size


@dataclass(frozen=True)
class AddCheckpoint:
    """A parsed ``add-checkpoint`` request body."""

    old_size: int
    proof: tuple[bytes, ...]
    note: str


def _decimal(text: str) -> int | None:
    if text == "0" or (text[:1] in "123456789" and text.isascii() and text.isdigit()):
        return int(text) if text else None
    return None


def parse_request(body: bytes) -> AddCheckpoint:
    """Parse a request body strictly; :class:`WitnessRefusal` 400 names the fault."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WitnessRefusal(400, "the request is not UTF-8") from None
    head, sep, note = text.partition("\n\n")
    if not sep:
        raise WitnessRefusal(400, "the request has no empty line before the checkpoint")
    lines = head.split("\n")
    first = lines[0]
    old = _decimal(first[4:]) if first.startswith("old ") else None
    if old is None:
        raise WitnessRefusal(400, f"the first line must be 'old <size>', got {first[:40]!r}")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessRefusal(400, f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(lines[1:], start=1):
        try:
            raw = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != merkle.HASH_SIZE:
            raise WitnessRefusal(400, f"consistency proof line {number} is not a base64 hash")
        proof.append(raw)
    return AddCheckpoint(old, tuple(proof), note)


class Witness:
    """Cosigns checkpoints of the logs it knows, never two views of one log."""

    def __init__(
        self,
        signer: CosignatureSigner,
        logs: Mapping[str, Sequence[NoteVerifier]],
        state: WitnessState,
    ) -> None:
        self.signer = signer
        self.logs = {origin: tuple(keys) for origin, keys in logs.items()}
        self.state = state

    def _verified_checkpoint(self, note: str) -> tuple[Checkpoint, bytes]:
        try:
            body, lines = signature_lines(note)
            checkpoint = Checkpoint.parse_body(body)
        except VerificationError as exc:
            raise WitnessRefusal(400, f"malformed checkpoint: {exc.detail}") from None
        keys = self.logs.get(checkpoint.origin)
        if keys is None:
            raise WitnessRefusal(404, f"unknown log origin {checkpoint.origin!r}")
        signed = 0
        for key in keys:
            mine = [line for line in lines if _by(key, line)]
            if not mine:
                continue
            try:
                key.verify_note(body.decode("utf-8") + "\n" + "\n".join(mine) + "\n")
            except VerificationError as exc:
                raise WitnessRefusal(403, f"bad log signature: {exc.detail}") from None
            signed += 1
        if signed == 0:
            raise WitnessRefusal(403, f"no signature by a trusted key of {checkpoint.origin}")
        return checkpoint, body

    def add_checkpoint(self, body: bytes, now: int) -> str:
        """Check a request and return the cosignature line(s), newline-terminated.

        ``now`` is the POSIX time written into the cosignature.
        """
        request = parse_request(body)
        checkpoint, note_text = self._verified_checkpoint(request.note)
        size, root = checkpoint.tree_size, checkpoint.root_hash
        if request.old_size > size:
            raise WitnessRefusal(400, f"old size {request.old_size} is above the size {size}")
        if size == 0 and root != EMPTY_ROOT:
            raise WitnessRefusal(422, "a checkpoint of size 0 must have the empty tree's root")
        with self.state.exclusive() as txn:
            known = txn.get(checkpoint.origin)
            known_size = 0 if known is None else known.tree_size
            if request.old_size != known_size:
                raise WitnessRefusal(
                    409,
                    f"old size {request.old_size} is not the size {known_size} "
                    f"last cosigned for {checkpoint.origin}",
                    known_size=known_size,
                )
            known_root = EMPTY_ROOT if known is None else known.root_hash
            if known_size == 0 and request.proof:
                raise WitnessRefusal(422, "the consistency proof from size 0 must be empty")
            try:
                merkle.verify_consistency(known_size, size, request.proof, known_root, root)
            except VerificationError as exc:
                raise WitnessRefusal(
                    422,
                    f"not consistent with size {known_size} cosigned before: {exc.detail}",
                ) from None
            line = self.signer.cosign(note_text, now)
            cosigned = request.note + line + "\n"
            txn.put(LogRecord(checkpoint.origin, size, root, cosigned, now))
        return line + "\n"


def _by(key: NoteVerifier, line: str) -> bool:
    """True when a signature line names this key and its key ID."""
    parts = line.split(" ")
    if len(parts) != 3 or parts[1] != key.name:
        return False
    try:
        raw = base64.b64decode(parts[2], validate=True)
    except (binascii.Error, ValueError):
        return False
    return raw[:4] == key.key_id
