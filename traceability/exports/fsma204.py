"""FSMA 204 style sortable spreadsheet: every traceability event of a lot code over a range.

One row per receiving event (the only critical tracking event restaurants log today) with
the key data elements of 21 CFR 1.1345, taken from the logged event where it has them
(that is what the proof attests) and from the lot row otherwise, plus the event id, its
leaf index and its proof link. Rows are sorted by date received, receiving premises, then
log order.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.exports import repository as repo
from traceability.exports.period import Period
from traceability.exports.spreadsheet import csv_text
from traceability.storage.models import EventRow, LotRow
from traceability.transparency.events import rfc3339

MAX_DAYS = 366
MAX_ROWS = 10_000
_GTIN = re.compile(r"^[0-9]{8,14}$")

COLUMNS = (
    "event_type",
    "traceability_lot_code",
    "gtin",
    "product_description",
    "quantity",
    "unit_of_measure",
    "immediate_previous_source",
    "receiving_location",
    "receiving_premises_id",
    "date_received",
    "reference_document_type",
    "reference_document_number",
    "event_id",
    "leaf_index",
    "recorded_at",
    "proof_link",
)


def _payload(event: EventRow | None) -> dict[str, Any]:
    if event is None or event.kind != "ingredient_receipt":
        return {}
    try:
        body = json.loads(bytes(event.body))
    except ValueError:
        return {}
    payload = body.get("payload") if isinstance(body, dict) else None
    return payload if isinstance(payload, dict) else {}


def _number(value: Any) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def receiving_row(lot: LotRow, event: EventRow | None, proof_base: str) -> list[str]:
    kde = _payload(event)
    return [
        "receiving",
        str(kde.get("lot_code", lot.lot_code)),
        str(kde.get("gtin") or lot.gtin or ""),
        str(kde.get("product", lot.product)),
        _number(kde.get("quantity", lot.quantity)),
        str(kde.get("unit", lot.unit)),
        str(kde.get("previous_source", lot.supplier)),
        str(kde.get("receiving_location", lot.premises_id)),
        lot.premises_id,
        str(kde.get("received_on", lot.received_on.isoformat())),
        str(kde.get("reference_document_type", "")),
        str(kde.get("reference_document_number", "")),
        lot.event_id,
        "" if event is None else str(event.leaf_index),
        "" if event is None else rfc3339(event.recorded_at),
        proof_base + quote(lot.event_id, safe=""),
    ]


def lot_spreadsheet(
    session: Session,
    *,
    lot_code: str,
    gtin: str | None,
    days: Period,
    premises_ids: Sequence[str] | None,
    proof_base: str,
    max_rows: int = MAX_ROWS,
) -> str:
    """The CSV (RFC 4180, CRLF) of a lot's events at the given premises (None: all)."""
    if not lot_code.strip() or len(lot_code) > 80:
        raise Invalid("lot_code must be 1-80 characters")
    if gtin is not None and not _GTIN.match(gtin):
        raise Invalid(f"gtin {gtin!r} must be 8-14 digits")
    rows = repo.lot_receipts(
        session,
        lot_code=lot_code,
        gtin=gtin,
        first=days.first,
        last=days.last,
        premises_ids=premises_ids,
        limit=max_rows + 1,
    )
    if len(rows) > max_rows:
        raise Invalid(
            f"lot {lot_code} has more than {max_rows} events in "
            f"{days.first.isoformat()}..{days.last.isoformat()}: ask for a shorter range"
        )
    return csv_text(COLUMNS, (receiving_row(lot, event, proof_base) for lot, event in rows))
