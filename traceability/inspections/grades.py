"""How an inspection's result and a premises' annual grade are decided (pure, no I/O).

FOOD_SAFETY_RULES.md ("Grades") names the scales (per inspection 优秀 / 良好 /
一般, shown as big smile / smile / flat face; annual A / B / C; no grade for
3 months after a new licence or 6 months after an incident) but gives no
thresholds. Ours are below, all in this module:

Per inspection (``inspection_result``):
  - excellent (优秀): score ≥ 90 and no key item failed;
  - good (良好): score ≥ 75 and no key item failed;
  - fair (一般): otherwise. A failed key item (关键项) caps the result at fair,
    whatever the score.

Annual grade (``annual_grade``), from the results of that calendar year's inspections:
  - A: every result good or better, and at least half of them excellent;
  - B: at least half of the results good or better;
  - C: otherwise (more than half fair);
  - none: no inspection that year.

No-grade periods (``no_grade_reason``), judged on the day the grade is decided:
  - within 3 calendar months of the licence's issue date (a new licence);
  - within 6 calendar months after an incident, which we take to be a class 1
    alert (rodents, cold-chain failure, core temperature not reached) opened
    at the premises.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

Result = Literal["excellent", "good", "fair"]
Letter = Literal["A", "B", "C"]

EXCELLENT_MIN_SCORE = 90.0
GOOD_MIN_SCORE = 75.0
NEW_LICENCE_MONTHS = 3
AFTER_INCIDENT_MONTHS = 6
INCIDENT_ALERT_CLASS = 1

RESULT_LABELS: dict[str, dict[str, str]] = {
    "excellent": {"zh": "优秀", "face": "big_smile"},
    "good": {"zh": "良好", "face": "smile"},
    "fair": {"zh": "一般", "face": "flat"},
}
_RANK = {"fair": 0, "good": 1, "excellent": 2}


def inspection_result(score: float, key_item_failed: bool) -> Result:
    """The result of one inspection from its score (0-100) and its key items."""
    if key_item_failed:
        return "fair"
    if score >= EXCELLENT_MIN_SCORE:
        return "excellent"
    if score >= GOOD_MIN_SCORE:
        return "good"
    return "fair"


@dataclass(frozen=True)
class AnnualGrade:
    grade: Letter | None
    reason: str


def annual_grade(year: int, results: Sequence[str]) -> AnnualGrade:
    """The A/B/C grade of a year from its inspections' results (see the module's rules)."""
    if not results:
        return AnnualGrade(None, f"no inspection in {year}: nothing to grade")
    total = len(results)
    excellent = sum(1 for r in results if r == "excellent")
    good_or_better = sum(1 for r in results if _RANK[r] >= _RANK["good"])
    counts = f"{total} inspection(s) in {year}: {excellent} excellent, " + (
        f"{good_or_better - excellent} good, {total - good_or_better} fair"
    )
    if good_or_better == total and 2 * excellent >= total:
        return AnnualGrade("A", f"{counts}; every result good or better, at least half excellent")
    if 2 * good_or_better >= total:
        return AnnualGrade("B", f"{counts}; at least half good or better")
    return AnnualGrade("C", f"{counts}; more than half fair")


def add_months(day: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day if it is shorter)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def no_grade_reason(
    decided_on: date, licence_issued_on: date | None, last_incident_on: date | None
) -> str | None:
    """Why no grade may be given on ``decided_on``, or None when a grade may be given.

    A premises known only from a registry without licences (imported history) has no
    issue date: no new-licence period applies to it."""
    reasons = []
    licence_ends = (
        None if licence_issued_on is None else add_months(licence_issued_on, NEW_LICENCE_MONTHS)
    )
    if (
        licence_issued_on is not None
        and licence_ends is not None
        and licence_issued_on <= decided_on < licence_ends
    ):
        reasons.append(
            f"new licence issued on {licence_issued_on.isoformat()}: no grade until "
            f"{licence_ends.isoformat()} ({NEW_LICENCE_MONTHS} months)"
        )
    if last_incident_on is not None:
        incident_ends = add_months(last_incident_on, AFTER_INCIDENT_MONTHS)
        if last_incident_on <= decided_on < incident_ends:
            reasons.append(
                f"incident (class {INCIDENT_ALERT_CLASS} alert) on "
                f"{last_incident_on.isoformat()}: no grade until {incident_ends.isoformat()} "
                f"({AFTER_INCIDENT_MONTHS} months)"
            )
    return "; ".join(reasons) or None
