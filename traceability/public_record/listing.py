"""The public list of premises: find a place without its QR code (the landing page).

Each entry is the registry's view and the platform's projection of open alerts and the
current grade, never a verified fact: the entry links to the premises' page, which
checks every item in the browser. The list says so (``not_proven``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.public_record import listing_repository as repo
from traceability.transparency.events import rfc3339

MAX_PER_PAGE = 100
MAX_QUERY = 100


def premises_list(
    session: Session,
    *,
    text: str | None,
    district: str | None,
    page: int,
    per_page: int,
    now: datetime,
) -> dict[str, Any]:
    """One page (from 1) of the premises matching ``text`` (name, address or district,
    any case) within ``district``, with each one's grade and open problems."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise Invalid(f"page must be ≥ 1 and per_page 1..{MAX_PER_PAGE}")
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_QUERY:
        raise Invalid(f"q is {len(text)} characters long; at most {MAX_QUERY}")
    for name, value in (("q", text), ("district", district)):
        # A control character is never in a name or an address (and PostgreSQL refuses NUL).
        if value is not None and any(ord(c) < 32 or ord(c) == 127 for c in value):
            raise Invalid(f"{name} contains a control character")
    total, rows = repo.search(
        session, text=text, district=district, offset=(page - 1) * per_page, limit=per_page
    )
    ids = [row.premises_id for row in rows]
    problems = repo.open_problems(session, ids, now)
    grades = repo.current_grades(session, ids)
    items = []
    for row in rows:
        found = problems.get(row.premises_id, repo.OpenProblems())
        grade = grades.get(row.premises_id)
        items.append(
            {
                "premises_id": row.premises_id,
                "name": row.name,
                "kind": row.kind,
                "district": row.district,
                "address": row.address,
                "licence_status": row.licence_status,
                "grade": None if grade is None else {"year": grade.year, "grade": grade.grade},
                "open_problems": {
                    "total": found.total,
                    "class_1": found.class_1,
                    "overdue": found.overdue,
                    "yellow_cards": found.yellow_cards,
                    "red_cards": found.red_cards,
                },
                "page": f"/r/{quote(row.premises_id, safe='')}",
            }
        )
    return {
        "query": {"q": text, "district": district},
        "total": total,
        "page": page,
        "per_page": per_page,
        "pages": (total + per_page - 1) // per_page,
        "items": items,
        "districts": repo.districts(session),
        "as_of": rfc3339(now),
        "not_proven": "the registry and the platform's alert tables; each premises' page "
        "verifies its items",
    }
