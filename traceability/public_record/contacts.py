"""Whom a public page sends a diner to: where to report a premises (per district, with the
city's default, e.g. 12315), and whom to tell when the page's own check fails."""

from __future__ import annotations

from typing import Any

from traceability.settings import ReportContact, Settings

CITY_DEFAULT = "*"


def _json(contact: ReportContact | None) -> dict[str, Any] | None:
    return None if contact is None else contact.model_dump()


def public_contacts(settings: Settings, district: str) -> dict[str, Any]:
    """``{"report": contact, "verification": contact}``: the district's report contact or
    the city's, and the verification contact (the report contact when none is set)."""
    contacts = settings.report_contacts
    report = contacts.get(district) or contacts.get(CITY_DEFAULT)
    return {
        "report": _json(report),
        "verification": _json(settings.verification_contact or report),
    }
