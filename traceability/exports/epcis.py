"""EPCIS 2.0 JSON-LD: a premises' receipts, probe readings and inspections as ObjectEvents.

Identifiers (EPCIS needs URIs; we mint our own where GS1 keys are unknown):

- a lot with a known GTIN: the GS1 Digital Link ``https://id.gs1.org/01/{gtin-14}/10/{lot}``;
  without one, ``urn:sunledger:lot:{supplier}:{lot}`` (both parts percent-encoded), since a
  lot code alone is unique only per supplier;
- premises (read point, business location, receiving location):
  ``urn:sunledger:premises:{premises_id}``; a supplier (previous source):
  ``urn:sunledger:supplier:{name}``; a probe: ``urn:sunledger:device:{device_id}``;
- a reference document: ``urn:sunledger:doc:{type}:{number}``;
- our event id: ``eventID`` is ``urn:uuid:{id}``, and each event repeats it, with its leaf
  index and proof bundle URL, as extension fields in the ``sunledger`` namespace
  (``urn:sunledger:epcis:``) declared in ``@context``.

Receipts are OBSERVE events with bizStep ``receiving``; probe readings OBSERVE events with
bizStep ``sensor_reporting`` and a ``sensorElementList``; inspections OBSERVE events with
bizStep ``inspecting`` whose object is the inspected premises, disposition ``non_conformant``
when a key item failed (or the result is "fail"), else ``conformant``. A unit that is not a
UN/ECE Rec 20 code we know is left out of ``uom``
(EPCIS reads a quantity without uom as a count) and kept in ``sunledger:unit``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.exports import repository as repo
from traceability.exports.open_data import failed_counts
from traceability.exports.period import Period
from traceability.storage.models import EventRow, InspectionRow, LotRow, PremisesRow
from traceability.transparency.events import as_utc, rfc3339

EPCIS_CONTEXT = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
NAMESPACE = "urn:sunledger:epcis:"
PREFIX = "sunledger"
MAX_DAYS = 31
MAX_EVENTS = 10_000

# UN/ECE Recommendation 20 codes for the units restaurants write by hand.
_REC20 = {
    "kg": "KGM",
    "g": "GRM",
    "mg": "MGM",
    "t": "TNE",
    "l": "LTR",
    "ml": "MLT",
    "lb": "LBR",
    "oz": "ONZ",
    "pc": "H87",
    "pcs": "H87",
    "piece": "H87",
    "pieces": "H87",
    "ea": "EA",
    "each": "EA",
    "box": "BX",
    "case": "CS",
    "bag": "BG",
    "bottle": "BO",
    "can": "CA",
    "carton": "CT",
    "dozen": "DZN",
    "公斤": "KGM",
    "千克": "KGM",
    "克": "GRM",
    "升": "LTR",
    "毫升": "MLT",
    "个": "H87",
    "件": "H87",
    "箱": "BX",
    "袋": "BG",
    "瓶": "BO",
    # No entry for 斤 (jin, half a kilogram): it has no Rec 20 code, so it stays sunledger:unit.
}

# CBV 2.0 business transaction types for the reference documents receipts name.
_BIZ_TRANSACTION_TYPES = {
    "bol": "bol",
    "bill of lading": "bol",
    "po": "po",
    "purchase order": "po",
    "inv": "inv",
    "invoice": "inv",
    "desadv": "desadv",
    "despatch advice": "desadv",
    "dispatch advice": "desadv",
    "delivery note": "desadv",
    "recadv": "recadv",
    "receiving advice": "recadv",
    "cert": "cert",
    "certificate": "cert",
}

# GS1 Web Vocabulary measurement types our probes report (DESIGN.md, device wire format).
_MEASUREMENT_TYPES = {
    "Temperature",
    "AbsoluteHumidity",
    "RelativeHumidity",
    "Concentration",
    "Time",
    "Mass",
    "Volume",
    "Pressure",
    "Dimensionless",
}


@cache
def epcis_schema() -> dict[str, Any]:
    """The JSON Schema of an EPCIS 2.0 ``EPCISDocument`` shipped with the package."""
    text = (
        resources.files("traceability.exports")
        .joinpath("schemas/epcis-2.0-document.schema.json")
        .read_text(encoding="utf-8")
    )
    schema: dict[str, Any] = json.loads(text)
    return schema


def _part(text: str) -> str:
    return quote(text, safe="")


def premises_urn(premises_id: str) -> str:
    return f"urn:sunledger:premises:{_part(premises_id)}"


def lot_class(gtin: str | None, lot_code: str, supplier: str) -> str:
    """The EPC class of a lot: GS1 Digital Link when the GTIN is known, else our URN."""
    if gtin:
        return f"https://id.gs1.org/01/{gtin.zfill(14)}/10/{_part(lot_code)}"
    return f"urn:sunledger:lot:{_part(supplier)}:{_part(lot_code)}"


def event_uri(event_id: str) -> str:
    try:
        return uuid.UUID(event_id).urn
    except ValueError:
        return f"urn:sunledger:event:{_part(event_id)}"


def _offset(moment: datetime, timezone: str) -> str:
    delta = as_utc(moment).astimezone(ZoneInfo(timezone)).utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _envelope(event: EventRow, premises: PremisesRow, proof_base: str) -> dict[str, Any]:
    location = {"id": premises_urn(premises.premises_id)}
    return {
        "type": "ObjectEvent",
        "eventTime": rfc3339(event.occurred_at),
        "eventTimeZoneOffset": _offset(event.occurred_at, premises.timezone),
        "recordTime": rfc3339(event.recorded_at),
        "eventID": event_uri(event.event_id),
        "action": "OBSERVE",
        "readPoint": location,
        "bizLocation": dict(location),
        f"{PREFIX}:eventId": event.event_id,
        f"{PREFIX}:leafIndex": int(event.leaf_index),
        f"{PREFIX}:proof": proof_base + _part(event.event_id),
    }


def _payload(event: EventRow) -> dict[str, Any]:
    try:
        body = json.loads(bytes(event.body))
    except ValueError:
        return {}
    payload = body.get("payload") if isinstance(body, dict) else None
    return payload if isinstance(payload, dict) else {}


def receipt_event(
    lot: LotRow, event: EventRow, premises: PremisesRow, proof_base: str
) -> dict[str, Any]:
    """A receipt: the logged key data elements where the event has them, else the lot row."""
    payload = _payload(event) if event.kind == "ingredient_receipt" else {}
    quantity = payload.get("quantity", lot.quantity)
    unit = str(payload.get("unit", lot.unit))
    supplier = str(payload.get("previous_source", lot.supplier))
    element: dict[str, Any] = {
        "epcClass": lot_class(payload.get("gtin", lot.gtin), lot.lot_code, supplier),
        "quantity": float(quantity),
    }
    out = _envelope(event, premises, proof_base)
    out["bizStep"] = "receiving"
    out["quantityList"] = [element]
    code = _REC20.get(unit.strip().lower()) or _REC20.get(unit.strip())
    if code is None and unit.isupper() and unit.isalnum() and 2 <= len(unit) <= 3:
        code = unit
    if code is not None:
        element["uom"] = code
    else:
        out[f"{PREFIX}:unit"] = unit
    out["sourceList"] = [
        {"type": "location", "source": f"urn:sunledger:supplier:{_part(supplier)}"}
    ]
    out["destinationList"] = [
        {"type": "location", "destination": premises_urn(premises.premises_id)}
    ]
    doc_type = payload.get("reference_document_type")
    doc_number = payload.get("reference_document_number")
    if doc_type and doc_number:
        transaction: dict[str, Any] = {
            "bizTransaction": f"urn:sunledger:doc:{_part(str(doc_type))}:{_part(str(doc_number))}"
        }
        cbv = _BIZ_TRANSACTION_TYPES.get(str(doc_type).strip().lower())
        if cbv is not None:
            transaction["type"] = cbv
        out["bizTransactionList"] = [transaction]
    out[f"{PREFIX}:lotCode"] = lot.lot_code
    out[f"{PREFIX}:product"] = str(payload.get("product", lot.product))
    out[f"{PREFIX}:receivedOn"] = str(payload.get("received_on", lot.received_on.isoformat()))
    if "receiving_location" in payload:
        out[f"{PREFIX}:receivingLocation"] = str(payload["receiving_location"])
    return out


def _measurement_type(kind: str) -> str:
    if kind in _MEASUREMENT_TYPES:
        return f"gs1:{kind}"
    return f"{PREFIX}:{_part(kind)}"


def reading_event(event: EventRow, premises: PremisesRow, proof_base: str) -> dict[str, Any]:
    """A probe reading: one sensor element, one report per value, with its device."""
    payload = _payload(event)
    device = str(payload.get("device_id") or event.subject.removeprefix("device:"))
    reports = []
    for value in payload.get("values") or []:
        if not isinstance(value, dict) or not isinstance(value.get("value"), int | float):
            continue
        report: dict[str, Any] = {
            "type": _measurement_type(str(value.get("type", ""))),
            "value": float(value["value"]),
        }
        uom = str(value.get("uom", ""))
        if uom.isalnum() and uom.isupper() and 2 <= len(uom) <= 3:
            report["uom"] = uom
        reports.append(report)
    out = _envelope(event, premises, proof_base)
    out["bizStep"] = "sensor_reporting"
    metadata = {
        "time": rfc3339(event.occurred_at),
        "deviceID": f"urn:sunledger:device:{_part(device)}",
    }
    out["sensorElementList"] = [{"sensorMetadata": metadata, "sensorReport": reports}]
    if "seq" in payload:
        out[f"{PREFIX}:seq"] = payload["seq"]
    return out


def inspection_event(
    inspection: InspectionRow, event: EventRow, premises: PremisesRow, proof_base: str
) -> dict[str, Any]:
    """An official inspection: the premises is the object inspected."""
    out = _envelope(event, premises, proof_base)
    out["bizStep"] = "inspecting"
    out["epcList"] = [premises_urn(premises.premises_id)]
    failed, key_failed = failed_counts(inspection)
    # A failed key item is what makes an inspection non-conforming (it opens an alert);
    # "fair" (一般) is still a pass.
    bad = inspection.result == "fail" or bool(key_failed)
    out["disposition"] = "non_conformant" if bad else "conformant"
    if failed is not None:
        out[f"{PREFIX}:itemsFailed"] = failed
    if key_failed is not None:
        out[f"{PREFIX}:keyItemsFailed"] = key_failed
    out[f"{PREFIX}:inspector"] = inspection.regulator_org
    out[f"{PREFIX}:inspectedOn"] = inspection.inspected_on.isoformat()
    out[f"{PREFIX}:result"] = inspection.result
    if inspection.score is not None:
        out[f"{PREFIX}:score"] = inspection.score
    return out


def document(events: Iterable[dict[str, Any]], *, now: datetime) -> dict[str, Any]:
    """An ``EPCISDocument`` around the given events."""
    return {
        "@context": [EPCIS_CONTEXT, {PREFIX: NAMESPACE}],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": rfc3339(now),
        "epcisBody": {"eventList": list(events)},
    }


def export_premises(
    session: Session,
    premises: PremisesRow,
    days: Period,
    *,
    proof_base: str,
    now: datetime,
    max_events: int | None = None,
) -> dict[str, Any]:
    """The EPCIS document of one premises' receipts, readings and inspections over ``days``
    (its local days), in event-time order. ``proof_base`` + event id is a proof bundle URL.

    Raises ``Invalid`` when the range holds more than ``max_events`` (default
    ``MAX_EVENTS``) events."""
    max_events = MAX_EVENTS if max_events is None else max_events
    start, end = days.instants(premises.timezone)
    subjects = repo.device_subjects(session, premises.premises_id)
    count = repo.count_epcis_events(session, premises.premises_id, subjects, start, end)
    if count > max_events:
        raise Invalid(
            f"{days.first.isoformat()}..{days.last.isoformat()} holds {count} events for "
            f"premises {premises.premises_id}; at most {max_events} per document: "
            "ask for a shorter range"
        )
    ordered: list[tuple[datetime, int, dict[str, Any]]] = []

    def add(event: EventRow, item: dict[str, Any]) -> None:
        ordered.append((as_utc(event.occurred_at), event.leaf_index, item))

    for lot, event in repo.receipts_in(session, premises.premises_id, start, end):
        add(event, receipt_event(lot, event, premises, proof_base))
    for event in repo.readings_in(session, subjects, start, end):
        add(event, reading_event(event, premises, proof_base))
    for inspection, event in repo.inspections_in(session, premises.premises_id, start, end):
        add(event, inspection_event(inspection, event, premises, proof_base))
    ordered.sort(key=lambda item: (item[0], item[1]))
    return document((item[2] for item in ordered), now=now)
