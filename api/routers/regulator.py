"""Regulators record official inspections and decide annual grades (issue 5).

Writing is for the regulator of the premises' district only; reading is for
whoever may read the premises (its regulator, auditors, admins, the owner).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path

from api.auth import PrincipalDep, RegulatorDep, directory
from api.deps import PlatformDep, SessionDep, follow_up_after_commit
from api.pagination import PageDep, paged
from traceability.inspections import repository as repo
from traceability.inspections.schemas import InspectionSubmission
from traceability.inspections.service import Inspections, grade_view, inspection_view

router = APIRouter(prefix="/v1/regulator", tags=["regulator"])

Year = Annotated[int, Path(ge=2000, le=2200)]


@router.post("/premises/{premises_id}/inspections", status_code=201)
def record_inspection(
    premises_id: str,
    submission: InspectionSubmission,
    principal: RegulatorDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Record an official inspection; its result (excellent/good/fair) follows from the
    score and the key items. A failed key item also opens a class 2 alert."""
    premises = directory.supervised_premises(session, principal, premises_id)
    recorded = Inspections(platform.log).record(
        session, premises, principal.org_id, submission, datetime.now(UTC)
    )
    answer = {
        **inspection_view(recorded.row),
        "leaf_index": recorded.logged.leaf_index,
        "leaf_hash": recorded.logged.leaf_hash,
        "alert_id": recorded.alert_id,
    }
    follow_up_after_commit(platform, session, alerts=recorded.alert_id is not None)
    return answer


@router.post("/premises/{premises_id}/inspections/preview")
def preview_inspection(
    premises_id: str,
    submission: InspectionSubmission,
    principal: RegulatorDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """What recording this inspection would log (payload, result, the alert a failed key
    item opens), with the same checks; nothing is stored."""
    premises = directory.supervised_premises(session, principal, premises_id)
    return Inspections(platform.log).preview_inspection(
        premises, principal.org_id, submission, datetime.now(UTC)
    )


@router.get("/premises/{premises_id}/inspections")
def list_inspections(
    premises_id: str, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> dict[str, Any]:
    """The premises' inspections, newest first."""
    directory.readable_premises(session, principal, premises_id)
    rows = repo.inspections_of(session, premises_id, offset=page.offset, limit=page.fetch)
    return paged([inspection_view(row) for row in rows], page)


@router.post("/premises/{premises_id}/grades/{year}", status_code=201)
def decide_grade(
    premises_id: str,
    year: Year,
    principal: RegulatorDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Decide (or decide again) the year's A/B/C grade from its inspections; in a no-grade
    period the grade is null with the reason. Every decision is logged."""
    premises = directory.supervised_premises(session, principal, premises_id)
    decided = Inspections(platform.log).decide_grade(
        session, premises, year, principal.org_id, datetime.now(UTC)
    )
    answer = {
        **grade_view(decided.row),
        "inspections": decided.inspections,
        "replaced_event_id": decided.replaced,
        "leaf_index": decided.logged.leaf_index,
        "leaf_hash": decided.logged.leaf_hash,
    }
    follow_up_after_commit(platform, session)
    return answer


@router.get("/premises/{premises_id}/grades/{year}/preview")
def preview_grade(
    premises_id: str,
    year: Year,
    principal: RegulatorDep,
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """The grade deciding ``year`` now would log, and the inspections it rests on; nothing
    is stored (the decision is taken again when it is made)."""
    premises = directory.supervised_premises(session, principal, premises_id)
    return Inspections(platform.log).preview_grade(
        session, premises, year, principal.org_id, datetime.now(UTC)
    )


@router.get("/premises/{premises_id}/grades")
def list_grades(
    premises_id: str, principal: PrincipalDep, session: SessionDep, page: PageDep
) -> dict[str, Any]:
    """The premises' grades, latest year first (a recomputed year shows its last decision;
    earlier ones stay in the log)."""
    directory.readable_premises(session, principal, premises_id)
    rows = repo.grades_of(session, premises_id, offset=page.offset, limit=page.fetch)
    return paged([grade_view(row) for row in rows], page)
