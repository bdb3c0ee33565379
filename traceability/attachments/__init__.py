"""Uploaded files (certificate and rectification photos, PDFs), stored by their SHA-256."""

from traceability.attachments.service import (
    MAX_ATTACHMENT_BYTES,
    MEDIA_TYPES,
    AttachmentStore,
    StoredAttachment,
)

__all__ = ["MAX_ATTACHMENT_BYTES", "MEDIA_TYPES", "AttachmentStore", "StoredAttachment"]
