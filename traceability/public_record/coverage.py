"""Whether a published item's event is anchored on chain yet, and where its proof is."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from traceability.public_record import repository as repo

PROOF_PATH = "/v1/proofs/{event_id}"


@dataclass(frozen=True)
class AnchorCoverage:
    """How far the log is anchored, and the leaf index of each event a page shows.

    Status of an event: ``anchored`` when a final anchor covers its leaf,
    ``confirmed`` when only a mined but not yet final one does, ``pending``
    while no anchor on chain covers it (it is logged, and will be).
    """

    final_size: int
    on_chain_size: int
    leaves: dict[str, int]

    @classmethod
    def of(cls, session: Session, event_ids: Iterable[str]) -> AnchorCoverage:
        final, on_chain = repo.anchored_sizes(session)
        return cls(final, on_chain, repo.leaf_indexes(session, event_ids))

    def status(self, event_id: str) -> str:
        index = self.leaves.get(event_id)
        if index is None:
            return "unknown"
        if index < self.final_size:
            return "anchored"
        if index < self.on_chain_size:
            return "confirmed"
        return "pending"

    def proof(self, event_id: str | None) -> dict[str, Any] | None:
        """The item's ``{"event_id", "leaf_index", "anchoring", "proof"}``."""
        if event_id is None:
            return None
        return {
            "event_id": event_id,
            "leaf_index": self.leaves.get(event_id),
            "anchoring": self.status(event_id),
            "proof": PROOF_PATH.format(event_id=event_id),
        }
