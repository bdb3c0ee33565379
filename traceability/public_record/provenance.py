"""A received lot's provenance, found by its GS1 Digital Link path ``/01/{gtin}/10/{lot}``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from traceability.errors import Invalid, NotFound
from traceability.public_record import repository as repo
from traceability.public_record.coverage import AnchorCoverage
from traceability.public_record.record import lot_json
from traceability.records.gs1 import digital_link_path, gtin_spellings, normalise_gtin

MAX_RECEIPTS = 200


def lot_provenance(session: Session, gtin: str, lot_code: str) -> dict[str, Any]:
    """Every receipt of the lot, each with its premises and proof; ``NotFound`` if none."""
    gtin14 = normalise_gtin(gtin)
    if not lot_code or len(lot_code) > 80:
        raise Invalid("the lot code must be 1-80 characters")
    rows = repo.lots_by_code(session, gtin_spellings(gtin14), lot_code, limit=MAX_RECEIPTS)
    if not rows:
        raise NotFound(f"no lot {lot_code!r} of GTIN {gtin14} has been received")
    premises = repo.premises_by_id(session, (row.premises_id for row in rows))
    coverage = AnchorCoverage.of(session, (row.event_id for row in rows))
    receipts = []
    for row in rows:
        place = premises.get(row.premises_id)
        receipts.append(
            {
                "premises": {
                    "premises_id": row.premises_id,
                    "name": None if place is None else place.name,
                    "page": f"/v1/public/restaurants/{row.premises_id}",
                },
                **lot_json(row, coverage),
            }
        )
    return {
        "gtin": gtin14,
        "lot_code": lot_code,
        "path": digital_link_path(gtin14, lot_code),
        "receipts": receipts,
    }
