"""Content-addressed attachments: real images (JPEG, PNG, WebP) and PDFs only.

The bytes are stored once per SHA-256; every premises that uploads them becomes
a holder and may cite the hash in its records (a supplier sends the same
certificate PDF to many restaurants). An image counts as real when OpenCV
decodes it, so a text file named ``.png`` is refused; its header's width and height
are checked first (``image_header``), so a decompression bomb never reaches a decoder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from traceability.attachments import repository as repo
from traceability.attachments.image_header import check_image_size
from traceability.errors import Invalid, NotFound
from traceability.messages import message
from traceability.storage.models import AttachmentHolderRow, AttachmentRow

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp", "application/pdf")
# Declared types that say nothing about the content; the bytes decide then.
_UNSPECIFIC = ("", "application/octet-stream")
_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


@dataclass(frozen=True)
class StoredAttachment:
    sha256: str
    media_type: str
    size: int
    created: bool
    """False when these bytes were already stored (by this or another premises)."""


def sniff(data: bytes) -> str | None:
    """The media type the bytes' signature announces, among those we accept."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_content(data: bytes, declared: str | None) -> str:
    """The media type of acceptable bytes; ``Invalid`` naming the problem otherwise."""
    if not data:
        raise Invalid(message("attachment.empty"))
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise Invalid(message("attachment.too_large", size=len(data), max=MAX_ATTACHMENT_BYTES))
    kind = sniff(data)
    if kind is None:
        raise Invalid(message("attachment.unknown_type", head=data[:8].hex()))
    claimed = (declared or "").split(";")[0].strip().lower()
    claimed = _ALIASES.get(claimed, claimed)
    if claimed not in _UNSPECIFIC and claimed != kind:
        raise Invalid(message("attachment.type_mismatch", claimed=claimed[:80], kind=kind))
    if kind.startswith("image/"):
        # A small file can claim a huge canvas: measured from the header, before decoding.
        try:
            check_image_size(data, kind)
        except Invalid as exc:
            if exc.message is not None:
                raise
            # The header's own faults (truncated, corrupt) are technical: one code for them.
            format_name = kind.removeprefix("image/").upper()
            said = message(
                "attachment.image_malformed", text=exc.detail, reason=exc.detail, format=format_name
            )
            raise Invalid(said) from None
        image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
        if image is None or image.size == 0:
            raise Invalid(message("attachment.not_an_image", kind=kind))
    elif b"%%EOF" not in data[-1024:]:
        raise Invalid(message("attachment.pdf_truncated"))
    return kind


def parse_digest(sha256_hex: str) -> bytes:
    if len(sha256_hex) != 64:
        raise Invalid(message("attachment.not_sha256", value=sha256_hex[:80]))
    try:
        digest = bytes.fromhex(sha256_hex)
    except ValueError:
        raise Invalid(message("attachment.not_sha256", value=sha256_hex[:80])) from None
    if digest.hex() != sha256_hex:
        raise Invalid(message("attachment.not_sha256", value=sha256_hex[:80]))
    return digest


class AttachmentStore:
    """Stores and finds attachments. Services flush; callers commit."""

    def store(
        self,
        session: Session,
        *,
        premises_id: str,
        data: bytes,
        declared_type: str | None,
        uploaded_by: str,
        now: datetime,
    ) -> StoredAttachment:
        media_type = check_content(data, declared_type)
        digest = hashlib.sha256(data).digest()
        created = False
        if repo.attachment(session, digest) is None:
            try:
                with session.begin_nested():
                    repo.add(
                        session,
                        AttachmentRow(
                            sha256=digest,
                            media_type=media_type,
                            size=len(data),
                            data=data,
                            premises_id=premises_id,
                            uploaded_by=uploaded_by,
                            uploaded_at=now,
                        ),
                    )
                created = True
            except IntegrityError:
                pass  # the same bytes arrived at the same moment: one copy is enough
        if repo.holding(session, digest, premises_id) is None:
            try:
                with session.begin_nested():
                    repo.add(
                        session,
                        AttachmentHolderRow(
                            sha256=digest,
                            premises_id=premises_id,
                            uploaded_by=uploaded_by,
                            uploaded_at=now,
                        ),
                    )
            except IntegrityError:
                pass
        return StoredAttachment(digest.hex(), media_type, len(data), created)

    def get(self, session: Session, sha256_hex: str) -> AttachmentRow:
        row = repo.attachment(session, parse_digest(sha256_hex))
        if row is None:
            raise NotFound(message("attachment.not_found", sha256=sha256_hex))
        return row

    def holders(self, session: Session, sha256_hex: str) -> list[str]:
        """The premises that uploaded these bytes (who may cite them)."""
        return repo.holders(session, parse_digest(sha256_hex))

    def missing_for(self, session: Session, premises_id: str, hashes: Iterable[str]) -> list[str]:
        """Of ``hashes`` (lowercase hex), those the premises never uploaded."""
        wanted = list(dict.fromkeys(hashes))
        held = repo.held_by(session, premises_id, (bytes.fromhex(h) for h in wanted))
        return [h for h in wanted if bytes.fromhex(h) not in held]
