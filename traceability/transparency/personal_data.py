"""Personal data behind commitments: reveal it to those entitled, or erase it for good.

Erasing deletes the salt and the clear value. The logged leaf keeps only the
commitment, so every proof still verifies, and without the salt nobody can
test a guessed name against it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability.errors import NotFound, VerificationError
from traceability.transparency import log_repository as repo
from traceability.transparency.events import commitment


def erase(session: Session, event_id: str, now: datetime | None = None) -> int:
    """Crypto-shred the personal values of an event; return how many were erased."""
    if repo.event_by_id(session, event_id) is None:
        raise NotFound(f"no event {event_id}")
    return repo.erase_personal_values(session, event_id, now or datetime.now(UTC))


def reveal(session: Session, event_id: str) -> dict[str, Any]:
    """The clear personal values of an event by path, each checked against its commitment.

    Erased values come back as ``None``.
    """
    row = repo.event_by_id(session, event_id)
    if row is None:
        raise NotFound(f"no event {event_id}")
    public = json.loads(row.body)
    out: dict[str, Any] = {}
    for value_row in repo.personal_values_of(session, event_id):
        if value_row.salt is None or value_row.value is None:
            out[value_row.path] = None
            continue
        value = json.loads(value_row.value)
        logged = _at_path(public, value_row.path)
        computed = commitment(bytes(value_row.salt), value)
        if logged != {"commitment": computed}:
            raise VerificationError(
                f"personal value {value_row.path} of event {event_id} "
                "does not match its commitment",
                expected=logged,
                computed=computed,
            )
        out[value_row.path] = value
    return out


def _at_path(document: Any, path: str) -> Any:
    node = document
    for part in path.strip("/").split("/"):
        node = node[int(part)] if isinstance(node, list) else node.get(part)
    return node
