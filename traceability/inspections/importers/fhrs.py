"""FHRS establishments (FSA ratings API, ``{"establishments": [...], "meta": {...}}``, or the
open-data file's ``FHRSEstablishment.EstablishmentCollection.EstablishmentDetail``).

Each establishment is a business and, when it has a ``RatingDate``, one inspection:
its ``RatingValue`` (0-5, Exempt, AwaitingInspection, ...) as the authority gave it
and its three sub-scores. An establishment without a rating date (awaiting its
first inspection) is read as a business and skipped as an inspection. The address
is AddressLine1-4 joined; the town is taken to be the last of lines 2-4.
"""

from __future__ import annotations

import json
from typing import Any

from traceability.errors import Invalid
from traceability.inspections.importers.parsed import (
    Business,
    InspectionIn,
    ParsedFile,
    Refusal,
    number_or_none,
    parse_day,
    text_or_none,
)

SUB_SCORES = {
    "Hygiene": "hygiene",
    "Structural": "structural",
    "ConfidenceInManagement": "confidence_in_management",
}
INSPECTION_TYPE = "FHRS inspection"


def _establishments(document: Any, name: str) -> list[Any]:
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        if isinstance(document.get("establishments"), list):
            return list(document["establishments"])
        collection = (document.get("FHRSEstablishment") or {}).get("EstablishmentCollection")
        if isinstance(collection, dict):
            detail = collection.get("EstablishmentDetail")
            return detail if isinstance(detail, list) else [detail]
    raise Invalid(f"{name} has no establishments list (expected {{'establishments': [...]}})")


def _text(value: Any, limit: int) -> str | None:
    return None if value is None else text_or_none(str(value), limit)


def parse_fhrs(name: str, text: str) -> ParsedFile:
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise Invalid(f"{name} is not JSON: {exc}") from None
    parsed = ParsedFile("fhrs")
    for number, item in enumerate(_establishments(document, name), start=1):
        where = f"{name} establishment {number}"
        raw = json.dumps(item, ensure_ascii=False)[:500]
        try:
            if not isinstance(item, dict):
                raise ValueError("an establishment must be an object")
            business = _business(where, item)
            if parsed.authority is None:
                parsed.authority = _text(item.get("LocalAuthorityName"), 64)
            rating = _text(item.get("RatingValue"), 40)
            if not item.get("RatingDate"):
                parsed.businesses.setdefault(business.external_id, business)
                parsed.skipped.append(
                    Refusal(where, f"no inspection yet (RatingValue {rating}, no RatingDate)", raw)
                )
                continue
            day = parse_day(str(item["RatingDate"])[:10], "RatingDate", ["%Y-%m-%d", "%d/%m/%Y"])
            scores = item.get("scores") or item.get("Scores") or {}
            sub_scores = {}
            if isinstance(scores, dict):
                for field, key in SUB_SCORES.items():
                    value = number_or_none(
                        None if scores.get(field) is None else str(scores[field]), field
                    )
                    if value is not None:
                        sub_scores[key] = value
            inspection = InspectionIn(
                where=where,
                business_id=business.external_id,
                inspected_on=day,
                inspection_type=INSPECTION_TYPE,
                authority_rating=rating,
                sub_scores=sub_scores or None,
                row=raw,
            )
        except ValueError as exc:
            parsed.refused.append(Refusal(where, str(exc), raw))
            continue
        parsed.businesses.setdefault(business.external_id, business)
        parsed.inspections.append(inspection)
    return parsed


def _business(where: str, item: dict[str, Any]) -> Business:
    fhrs_id = _text(item.get("FHRSID"), 100)
    if fhrs_id is None:
        raise ValueError("FHRSID is missing")
    name = _text(item.get("BusinessName"), 200)
    if name is None:
        raise ValueError("BusinessName is missing")
    lines = [_text(item.get(f"AddressLine{i}"), 200) for i in range(1, 5)]
    present = [line for line in lines if line]
    town = next((line for line in reversed(lines[1:]) if line), None)
    geocode = item.get("geocode") or item.get("Geocode") or {}
    latitude = longitude = None
    if isinstance(geocode, dict):
        latitude = number_or_none(
            _text(geocode.get("latitude") or geocode.get("Latitude"), 40), "latitude"
        )
        longitude = number_or_none(
            _text(geocode.get("longitude") or geocode.get("Longitude"), 40), "longitude"
        )
    return Business(
        external_id=fhrs_id,
        name=name,
        address=", ".join(present)[:300] or None,
        city=town,
        postal_code=_text(item.get("PostCode"), 20),
        latitude=latitude,
        longitude=longitude,
        phone=_text(item.get("Phone"), 40),
        business_type=_text(item.get("BusinessType"), 100),
        where=where,
    )
