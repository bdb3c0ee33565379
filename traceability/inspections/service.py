"""Recording official inspections and deciding annual grades; both are logged events.

Services flush; the caller commits (and then asks for anchoring).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from traceability.alerts import repository as alerts_repo
from traceability.alerts.raising import OpenedAlert, open_alert
from traceability.errors import Conflict, Invalid
from traceability.inspections import grades
from traceability.inspections import repository as repo
from traceability.inspections.schemas import InspectionSubmission
from traceability.messages import message
from traceability.orgs import repository as org_repository
from traceability.rules.schemes import load_scheme
from traceability.storage.models import GradeRow, InspectionRow, PremisesRow
from traceability.transparency.events import (
    EventInput,
    EventKind,
    PreparedEvent,
    prepare_event,
    rfc3339,
)
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

KEY_ITEM_RULE = "inspection_key_item"
KEY_ITEM_ALERT_CLASS = 2
MAX_INSPECTIONS_PER_YEAR = 500
CN_SCHEME = "cn"
VIOLATION_RULE = "inspection_violation"


@dataclass(frozen=True)
class Logged:
    event_id: str
    leaf_index: int
    leaf_hash: str


@dataclass(frozen=True)
class RecordedInspection:
    row: InspectionRow
    logged: Logged
    alert_id: str | None
    """The class 2 alert opened because a key item failed, if one did."""


@dataclass(frozen=True)
class DecidedGrade:
    row: GradeRow
    logged: Logged
    inspections: list[str]
    replaced: str | None
    """The grade event this decision replaces (recomputing a year), if any."""


def local_today(premises: PremisesRow, now: datetime) -> date:
    return now.astimezone(ZoneInfo(premises.timezone)).date()


def local_midnight(premises: PremisesRow, day: date) -> datetime:
    """The start of ``day`` at the premises, in UTC."""
    return datetime.combine(day, time(0), ZoneInfo(premises.timezone)).astimezone(UTC)


def inspection_summary(
    submission: InspectionSubmission, key_failed: Sequence[str]
) -> dict[str, Any]:
    """What the public may see of an inspection: items, findings, counts (no persons)."""
    items = [item.model_dump(mode="json") for item in submission.items]
    return {
        "items": items,
        "findings": submission.findings,
        "counts": {
            "items": len(items),
            "failed": sum(1 for i in submission.items if not i.passed),
            "key_items": sum(1 for i in submission.items if i.key),
            "key_items_failed": len(key_failed),
        },
    }


def inspection_alert_detail(
    inspected_on: date,
    inspector_org: str,
    event_id: str,
    key_failed: Sequence[str],
    risky: Sequence[str],
) -> str:
    """The logged text of the alert an inspection raises. The pages word their sentence from
    it (mobile_web/static/js/messages.js, ``INSPECTION``): change both together."""
    failed = (["key item(s) failed: " + "; ".join(key_failed)] if key_failed else []) + (
        ["violation(s): " + "; ".join(risky)] if risky else []
    )
    return (
        f"official inspection on {inspected_on.isoformat()} by {inspector_org} "
        f"(event {event_id}): " + "; ".join(failed)
    )[:2000]


def _check_inspected_on(
    premises: PremisesRow, submission: InspectionSubmission, now: datetime
) -> None:
    today = local_today(premises, now)
    if submission.inspected_on > today:
        raise Invalid(
            message(
                "inspection.after_today",
                inspected_on=submission.inspected_on.isoformat(),
                today=today.isoformat(),
            )
        )
    if submission.inspected_on.year < 2000:
        raise Invalid(
            message("inspection.before_2000", inspected_on=submission.inspected_on.isoformat())
        )


@dataclass(frozen=True)
class _PreparedInspection:
    """An inspection checked against the premises' scheme: what ``record`` logs and what
    the console's preview shows (one computation for both)."""

    scheme: str
    violations: list[dict[str, Any]]
    key_failed: list[str]
    result: str | None
    rating: str | None
    risky: list[str]
    alert_classes: list[int]
    payload: dict[str, Any]


def _prepare_inspection(
    premises: PremisesRow, inspector_org: str, submission: InspectionSubmission, now: datetime
) -> _PreparedInspection:
    _check_inspected_on(premises, submission, now)
    scheme = load_scheme(premises.scheme)
    if scheme.name == CN_SCHEME and not submission.items:
        raise Invalid(message("inspection.cn_needs_items"))
    scheme.check_type(submission.inspection_type)
    if submission.score is not None:
        scheme.check_score(submission.score)
    violations = [
        {**v.model_dump(mode="json"), "risk_category": scheme.risk_of(v.code, v.risk_category)}
        for v in submission.violations
    ]
    key_failed = [i.item for i in submission.items if i.key and not i.passed]
    result = (
        None
        if submission.score is None or scheme.name != CN_SCHEME
        else grades.inspection_result(submission.score, bool(key_failed))
    )
    rating = scheme.rating(
        score=submission.score,
        key_item_failed=bool(key_failed),
        risk_categories=[v["risk_category"] for v in violations],
        authority_rating=submission.rating,
    )
    risky = [
        str(v["code"] or v["description"] or "?")[:200]
        for v in violations
        if scheme.alert_class_of(v["risk_category"]) is not None
    ]
    classes = [KEY_ITEM_ALERT_CLASS] if key_failed else []
    classes += [
        c for v in violations if (c := scheme.alert_class_of(v["risk_category"])) is not None
    ]
    payload = {
        "inspector_org": inspector_org,
        "items": [item.model_dump(mode="json") for item in submission.items],
        "score": submission.score,
        "result": result,
        "inspected_on": submission.inspected_on.isoformat(),
        "findings": submission.findings,
        "scheme": scheme.name,
        "inspection_type": submission.inspection_type,
        "rating": rating,
        "authority_rating": submission.rating,
        "violations": violations,
    }
    return _PreparedInspection(
        scheme.name, violations, key_failed, result, rating, risky, classes, payload
    )


def _inspection_event(
    premises: PremisesRow,
    submission: InspectionSubmission,
    prepared: _PreparedInspection,
    now: datetime,
) -> PreparedEvent:
    """The inspection's event, dated at local midnight of the inspection day."""
    return prepare_event(
        EventInput(
            kind=EventKind.INSPECTION,
            subject=f"premises:{premises.premises_id}",
            occurred_at=local_midnight(premises, submission.inspected_on),
            payload=prepared.payload,
        ),
        now,
        event_id=str(uuid.uuid4()),
    )


class Inspections:
    """Official inspections and annual grades of premises, logged as events."""

    def __init__(self, log: TransparencyLog) -> None:
        self._log = log
        self._ingest = Ingest(log)

    def _append(self, session: Session, events: Sequence[PreparedEvent]) -> list[Logged]:
        appended = self._ingest.append(session, events)
        return [
            Logged(event.event_id, index, leaf.hex())
            for event, (index, leaf) in zip(events, appended, strict=True)
        ]

    def record(
        self,
        session: Session,
        premises: PremisesRow,
        inspector_org: str,
        submission: InspectionSubmission,
        now: datetime,
    ) -> RecordedInspection:
        """Log an inspection by ``inspector_org`` under the premises' scheme; a failed key
        item opens a class 2 alert, and so does a violation whose risk category the scheme
        alerts on (the lower class when both)."""
        prepared = _prepare_inspection(premises, inspector_org, submission, now)
        self._log.lock(session)
        key_failed, violations = prepared.key_failed, prepared.violations
        event = _inspection_event(premises, submission, prepared, now)
        events = [event]
        alert_id: str | None = None
        if prepared.alert_classes:
            opened = self._open_inspection_alert(
                session, premises, inspector_org, submission, prepared, event, now
            )
            alert_id = opened.alert.alert_id
            events.append(opened.event)
        row = InspectionRow(
            event_id=event.event_id,
            premises_id=premises.premises_id,
            regulator_org=inspector_org,
            inspected_on=submission.inspected_on,
            score=submission.score,
            result=prepared.result,
            summary=json.dumps(inspection_summary(submission, key_failed), ensure_ascii=False),
            recorded_at=now,
            scheme=prepared.scheme,
            inspection_type=submission.inspection_type,
            rating=prepared.rating,
            authority_rating=submission.rating,
            violations=json.dumps(violations, ensure_ascii=False),
            historical=False,
        )
        repo.add_inspection(session, row)
        logged = self._append(session, events)
        return RecordedInspection(row, logged[0], alert_id)

    def project_logged(
        self, session: Session, event: PreparedEvent, now: datetime, alert_window_days: int
    ) -> list[PreparedEvent]:
        """Write the inspections row of an ``inspection`` event logged as given (``sunledger
        log append``), checked as ``record`` checks a regulator's submission; return the
        alert events to log after it (the caller holds the log lock).

        The payload's derived fields (result, rating, risk categories) must be what the
        premises' scheme gives, so the row, the public record and the audit agree. An
        inspection marked ``historical`` must be older than the alert window and opens no
        alert; any other opens the alert ``record`` would open.
        """
        p = event.public["payload"]
        if not event.subject.startswith("premises:"):
            raise Invalid(f"an inspection's subject is premises:<id>, not {event.subject!r}")
        premises_id = event.subject.removeprefix("premises:")
        premises = org_repository.premises(session, premises_id)
        if premises is None:
            raise Invalid(f"no premises {premises_id} (register it first: orgs add-premises)")
        if p.get("inspected_on") is None:
            raise Invalid("payload.inspected_on: required for an inspection of a premises")
        named = p.get("scheme")
        if (named or CN_SCHEME) != premises.scheme:
            raise Invalid(
                f"payload.scheme: {named or CN_SCHEME!r}, but premises {premises_id} follows "
                f"scheme {premises.scheme!r}"
            )
        try:
            submission = InspectionSubmission(
                inspected_on=p["inspected_on"],
                items=p.get("items") or [],
                findings=p.get("findings"),
                score=p.get("score"),
                inspection_type=p.get("inspection_type"),
                violations=p.get("violations") or [],
                rating=p.get("authority_rating"),
            )
        except ValidationError as exc:
            problem = exc.errors()[0]
            where = ".".join(str(part) for part in problem["loc"])
            raise Invalid(f"payload.{where}: {problem['msg']}") from None
        prepared = _prepare_inspection(premises, str(p["inspector_org"]), submission, now)
        if p.get("sub_scores"):
            load_scheme(prepared.scheme).check_sub_scores(p["sub_scores"])
        derived = ("result", "rating", "violations") if named else ("result",)
        for name in derived:
            given = p.get(name) if name != "violations" else list(p.get(name) or [])
            if given != prepared.payload[name]:
                raise Invalid(
                    f"payload.{name}: {given!r}, but under scheme {prepared.scheme!r} this "
                    f"inspection gives {prepared.payload[name]!r}"
                )
        historical = bool(p.get("historical"))
        window_from = local_today(premises, now) - timedelta(days=alert_window_days)
        if historical and submission.inspected_on >= window_from:
            raise Invalid(
                f"payload.historical: an inspection on {submission.inspected_on.isoformat()} is "
                f"within the alert window ({alert_window_days} days): it is not history"
            )
        events: list[PreparedEvent] = []
        if prepared.alert_classes and not historical:
            opened = self._open_inspection_alert(
                session, premises, str(p["inspector_org"]), submission, prepared, event, now
            )
            events.append(opened.event)
        repo.add_inspection(
            session,
            InspectionRow(
                event_id=event.event_id,
                premises_id=premises_id,
                regulator_org=p["inspector_org"],
                inspected_on=submission.inspected_on,
                score=submission.score,
                result=prepared.result,
                summary=json.dumps(
                    inspection_summary(submission, prepared.key_failed), ensure_ascii=False
                ),
                recorded_at=event.recorded_at,
                scheme=prepared.scheme,
                inspection_type=submission.inspection_type,
                rating=prepared.rating if named else prepared.result,
                authority_rating=submission.rating,
                sub_scores=None if p.get("sub_scores") is None else json.dumps(p["sub_scores"]),
                violations=json.dumps(prepared.violations, ensure_ascii=False),
                historical=historical,
            ),
        )
        return events

    def _open_inspection_alert(
        self,
        session: Session,
        premises: PremisesRow,
        inspector_org: str,
        submission: InspectionSubmission,
        prepared: _PreparedInspection,
        event: PreparedEvent,
        now: datetime,
    ) -> OpenedAlert:
        """Open the alert an inspection raises (a failed key item, or a violation whose risk
        category the scheme alerts on; the lower class when both)."""
        return open_alert(
            session,
            premises_id=premises.premises_id,
            subject=f"premises:{premises.premises_id}",
            source="inspection",
            rule=KEY_ITEM_RULE if prepared.key_failed else VIOLATION_RULE,
            alert_class=min(prepared.alert_classes),
            detail=inspection_alert_detail(
                submission.inspected_on,
                inspector_org,
                event.event_id,
                prepared.key_failed,
                prepared.risky,
            ),
            started_at=event.occurred_at,
            now=now,
        )

    def decide_grade(
        self,
        session: Session,
        premises: PremisesRow,
        year: int,
        decided_by: str,
        now: datetime,
    ) -> DecidedGrade:
        """Grade ``year`` from its inspections, or record no grade in a no-grade period.

        Deciding a year again replaces its row; both decisions stay in the log.
        """
        self._log.lock(session)  # decide on the inspections and alerts as of this lock
        decision, inspections = self._decision(session, premises, year, now)
        based_on = [i.event_id for i in inspections]
        event = prepare_event(
            EventInput(
                kind=EventKind.GRADE,
                subject=f"premises:{premises.premises_id}",
                occurred_at=now,
                payload={
                    "year": year,
                    "grade": decision.grade,
                    "reason": decision.reason,
                    "decided_by": decided_by,
                    "inspections": based_on,
                },
            ),
            now,
            event_id=str(uuid.uuid4()),
        )
        row = repo.grade(session, premises.premises_id, year)
        replaced = None if row is None else row.event_id
        if row is None:
            row = GradeRow(premises_id=premises.premises_id, year=year)
            session.add(row)
        row.grade = decision.grade
        row.reason = decision.reason
        row.decided_at = now
        row.decided_by = decided_by
        row.event_id = event.event_id
        session.flush()
        [logged] = self._append(session, [event])
        return DecidedGrade(row, logged, based_on, replaced)

    def _decision(
        self, session: Session, premises: PremisesRow, year: int, now: datetime
    ) -> tuple[grades.AnnualGrade, list[InspectionRow]]:
        """The grade ``year`` would get now, and the inspections it rests on (no writes)."""
        today = local_today(premises, now)
        if not 2000 <= year <= today.year:
            raise Invalid(message("grade.year_out_of_range", year=year, this_year=today.year))
        inspections = repo.inspections_between(
            session,
            premises.premises_id,
            date(year, 1, 1),
            date(year, 12, 31),
            limit=MAX_INSPECTIONS_PER_YEAR + 1,
        )
        if len(inspections) > MAX_INSPECTIONS_PER_YEAR:
            raise Conflict(
                message(
                    "grade.too_many_inspections",
                    premises_id=premises.premises_id,
                    max=MAX_INSPECTIONS_PER_YEAR,
                    year=year,
                )
            )
        since = local_midnight(premises, grades.add_months(today, -grades.AFTER_INCIDENT_MONTHS))
        incident = alerts_repo.latest_alert_of_class(
            session, premises.premises_id, grades.INCIDENT_ALERT_CLASS, since, now
        )
        incident_on = (
            None
            if incident is None
            else incident.opened_at.astimezone(ZoneInfo(premises.timezone)).date()
        )
        blocked = grades.no_grade_reason(today, premises.licence_issued_on, incident_on)
        # The annual grade is a cn one: it counts the inspections that have a cn result.
        graded = [i for i in inspections if i.result is not None]
        if blocked is not None:
            decision = grades.AnnualGrade(None, f"no grade: {blocked}")
        else:
            decision = grades.annual_grade(year, [i.result for i in graded if i.result is not None])
        return decision, graded

    def preview_grade(
        self, session: Session, premises: PremisesRow, year: int, decided_by: str, now: datetime
    ) -> dict[str, Any]:
        """What deciding ``year`` now would log, without logging it (the console's preview).
        The decision itself is taken again under the log lock, so a later inspection or
        incident can change it."""
        decision, inspections = self._decision(session, premises, year, now)
        current = repo.grade(session, premises.premises_id, year)
        return {
            "premises_id": premises.premises_id,
            "year": year,
            "grade": decision.grade,
            "reason": decision.reason,
            "payload": {
                "year": year,
                "grade": decision.grade,
                "reason": decision.reason,
                "decided_by": decided_by,
                "inspections": [i.event_id for i in inspections],
            },
            "inspections": [
                {
                    "event_id": i.event_id,
                    "inspected_on": i.inspected_on.isoformat(),
                    "score": i.score,
                    "result": i.result,
                }
                for i in inspections
            ],
            "replaces": None if current is None else grade_view(current),
        }

    def preview_inspection(
        self,
        premises: PremisesRow,
        inspector_org: str,
        submission: InspectionSubmission,
        now: datetime,
    ) -> dict[str, Any]:
        """What ``record`` would log for ``submission``, without logging it; the same checks
        (a date in the future is refused here too)."""
        prepared = _prepare_inspection(premises, inspector_org, submission, now)
        # The payload as the log would hold it (the event schema fills its defaults).
        event = _inspection_event(premises, submission, prepared, now)
        label = grades.RESULT_LABELS.get(prepared.result or "", {})
        return {
            "premises_id": premises.premises_id,
            "result": prepared.result,
            "result_zh": label.get("zh"),
            "face": label.get("face"),
            "rating": prepared.rating,
            "payload": event.public["payload"],
            "summary": inspection_summary(submission, prepared.key_failed),
            "alert": None
            if not prepared.alert_classes
            else {
                "class": min(prepared.alert_classes),
                "rule": KEY_ITEM_RULE if prepared.key_failed else VIOLATION_RULE,
                "key_items_failed": prepared.key_failed,
                "violations": prepared.risky,
            },
        }


def inspection_view(row: InspectionRow) -> dict[str, Any]:
    """An inspection as the regulator API shows it."""
    label = grades.RESULT_LABELS.get(row.result or "", {})
    return {
        "event_id": row.event_id,
        "premises_id": row.premises_id,
        "inspector_org": row.regulator_org,
        "inspected_on": row.inspected_on.isoformat(),
        "score": row.score,
        "result": row.result,
        "result_zh": label.get("zh"),
        "face": label.get("face"),
        "scheme": row.scheme,
        "inspection_type": row.inspection_type,
        "rating": row.rating,
        "authority_rating": row.authority_rating,
        "sub_scores": None if row.sub_scores is None else json.loads(row.sub_scores),
        "violations": json.loads(row.violations),
        "historical": row.historical,
        "summary": json.loads(row.summary),
        "recorded_at": rfc3339(row.recorded_at),
        "proof": f"/v1/proofs/{row.event_id}",
    }


def grade_view(row: GradeRow) -> dict[str, Any]:
    """A grade decision as the regulator API shows it."""
    return {
        "premises_id": row.premises_id,
        "year": row.year,
        "grade": row.grade,
        "reason": row.reason,
        "decided_at": rfc3339(row.decided_at),
        "decided_by": row.decided_by,
        "event_id": row.event_id,
        "proof": f"/v1/proofs/{row.event_id}",
    }
