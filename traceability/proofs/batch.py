"""Several events' proof bundles in one answer, for a page that shows many logged items.

Each bundle is exactly the one ``GET /v1/proofs/{event_id}`` gives: the page verifies
every one of them the same way; only the round trips are saved.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from traceability.errors import NotFound
from traceability.proofs.bundles import build_bundle
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.log import TransparencyLog
from traceability.witnessing.collection import Witnessing

MAX_EVENTS = 50


def build_bundles(
    session: Session,
    log: TransparencyLog,
    signer: NoteSigner,
    event_ids: Sequence[str],
    witnessing: Witnessing | None = None,
) -> dict[str, Any]:
    """``{"bundles": {event_id: bundle}, "missing": {event_id: why}}`` for up to
    ``MAX_EVENTS`` distinct event ids, in the order asked."""
    bundles: dict[str, Any] = {}
    missing: dict[str, str] = {}
    for event_id in dict.fromkeys(event_ids):
        try:
            bundles[event_id] = build_bundle(session, log, signer, event_id, witnessing)
        except NotFound as exc:
            missing[event_id] = exc.detail
    return {"bundles": bundles, "missing": missing}
