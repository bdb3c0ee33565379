"""Establishments in the shape of the FSA's FHRS API (``/Establishments``): one per
premises with its latest inspection, paged, with the totals a client pages by.

Field names follow the FHRS API. ``FHRSID`` is the premises' id under the chosen
source (the one it was imported with), else its premises id; ``RatingValue`` the
latest inspection's published rating under its scheme (``AwaitingInspection`` for a
premises never inspected, when its scheme has that rating); ``scores`` its sub-scores
(FHRS names). Each establishment also carries its inspection's ``event_id`` and
``proof_link`` (null when it has no inspection yet).
"""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from traceability.exports import consumer_repository as repo
from traceability.rules.schemes import load_scheme
from traceability.storage.models import InspectionRow, PremisesRow
from traceability.transparency.events import rfc3339

SUB_SCORE_NAMES = {
    "hygiene": "Hygiene",
    "structural": "Structural",
    "confidence_in_management": "ConfidenceInManagement",
}
MAX_PAGE_SIZE = 5000
AWAITING = "AwaitingInspection"


def _establishment(
    premises: PremisesRow, inspection: InspectionRow | None, fhrs_id: str, proof_base: str
) -> dict[str, Any]:
    scores = (
        None
        if inspection is None or inspection.sub_scores is None
        else json.loads(inspection.sub_scores)
    )
    rating = None if inspection is None else inspection.rating
    if inspection is None and AWAITING in load_scheme(premises.scheme).ratings:
        rating = AWAITING  # registered, never inspected: what FHRS publishes for it
    return {
        "FHRSID": fhrs_id,
        "LocalAuthorityBusinessID": premises.premises_id,
        "BusinessName": premises.name,
        "BusinessType": premises.business_type,
        "AddressLine1": premises.address or None,
        "AddressLine2": None,
        "AddressLine3": premises.city,
        "AddressLine4": premises.region,
        "PostCode": premises.postal_code,
        "Phone": premises.phone,
        "RatingValue": rating,
        "RatingKey": None
        if rating is None
        else f"{premises.scheme}_{rating}".lower().replace(" ", ""),
        "RatingDate": None
        if inspection is None
        else f"{inspection.inspected_on.isoformat()}T00:00:00",
        "LocalAuthorityName": None if inspection is None else inspection.regulator_org,
        "LocalAuthorityCode": premises.district,
        "scores": {
            name: None if scores is None else scores.get(key)
            for key, name in SUB_SCORE_NAMES.items()
        },
        "SchemeType": premises.scheme,
        "geocode": {
            "longitude": None if premises.longitude is None else str(premises.longitude),
            "latitude": None if premises.latitude is None else str(premises.latitude),
        },
        "NewRatingPending": False,
        "InspectionType": None if inspection is None else inspection.inspection_type,
        "Score": None if inspection is None else inspection.score,
        "event_id": None if inspection is None else inspection.event_id,
        "proof_link": None
        if inspection is None
        else proof_base + quote(inspection.event_id, safe=""),
    }


def establishments(
    session: Session,
    *,
    page_number: int,
    page_size: int,
    district: str | None,
    source: str,
    proof_base: str,
    now: datetime,
) -> dict[str, Any]:
    """One page (``page_number`` from 1) of establishments with FHRS-style ``meta``."""
    total = repo.premises_count(session, district)
    premises = repo.premises_page(session, district, (page_number - 1) * page_size, page_size)
    ids = [p.premises_id for p in premises]
    latest = repo.latest_inspections(session, ids)
    named = repo.external_ids(session, source, ids)
    items = [
        _establishment(
            p, latest.get(p.premises_id), named.get(p.premises_id, p.premises_id), proof_base
        )
        for p in premises
    ]
    return {
        "establishments": items,
        "meta": {
            "dataSource": "Sunshine Ledger",
            "extractDate": rfc3339(now),
            "itemCount": len(items),
            "returncode": "OK",
            "totalCount": total,
            "totalPages": max(1, math.ceil(total / page_size)),
            "pageSize": page_size,
            "pageNumber": page_number,
        },
        "links": [],
    }
