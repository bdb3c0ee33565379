"""Official inspections in the demo: last year's (and the grades decided on them), and
this week's, one of which fails a key item and asks for rectification."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from traceability.demo.alerts import AlertStory
from traceability.demo.scenario import Premises
from traceability.demo.seeding import Seeding
from traceability.demo.timeline import Action
from traceability.demo.variation import stable
from traceability.inspections.schemas import InspectionSubmission
from traceability.inspections.service import Inspections
from traceability.storage.db import transaction
from traceability.transparency.events import InspectionItem


class InspectionStory:
    """Records inspections through the inspections service as the regulator."""

    def __init__(self, seeding: Seeding, alerts: AlertStory) -> None:
        self.seeding = seeding
        self.alerts = alerts
        self.inspections = Inspections(seeding.log)

    def last_year(self) -> None:
        s = self.seeding
        setup = s.timeline.start - timedelta(hours=12)
        year = setup.astimezone(s.timeline.zone).year - 1
        with transaction(s.sessions) as session:
            for p in s.scenario.premises:
                row = s.directory.premises(session, p.id)
                regulator = s.scenario.regulator_of(p.district).org_id
                for i, score in enumerate(p.last_year_scores):
                    inspected = date(year, 3 + 4 * i % 10, 10 + stable(p.id, i) % 15)
                    self.inspections.record(
                        session,
                        row,
                        regulator,
                        _submission(inspected, score, key_failed=False, premises=p),
                        setup,
                    )
                    s.summary.inspections += 1
                self.inspections.decide_grade(session, row, year, regulator, setup)
                s.summary.grades += 1

    def plan(self) -> None:
        s = self.seeding
        story = s.scenario.story.failed_key_item
        for i, p in enumerate(s.scenario.premises):
            if p.id == story.premises:
                day, key_failed, score = story.day, True, 78.0
            elif i % 3 == 0:
                day, key_failed, score = -1 - i % 5, False, 85.0 + stable(p.id, "week") % 14
            else:
                continue
            when = s.timeline.at(day, "15:30")
            s.timeline.schedule(
                when, f"inspection of {p.id}", self._inspector(p, day, score, key_failed)
            )

    def _inspector(self, p: Premises, day: int, score: float, key_failed: bool) -> Action:
        s = self.seeding
        regulator = s.scenario.regulator_of(p.district).org_id
        inspected = s.timeline.today + timedelta(days=day)

        def inspect(now: datetime) -> None:
            with transaction(s.sessions) as session:
                row = s.directory.premises(session, p.id)
                recorded = self.inspections.record(
                    session,
                    row,
                    regulator,
                    _submission(inspected, score, key_failed=key_failed, premises=p),
                    now,
                )
            s.summary.inspections += 1
            if recorded.alert_id is not None:
                self.alerts.answer(recorded.alert_id, p, now, request_after=timedelta(minutes=10))

        return inspect


def _submission(
    inspected: date, score: float, *, key_failed: bool, premises: Premises
) -> InspectionSubmission:
    items = [
        InspectionItem(item="Licence displayed and valid", passed=True, key=True),
        InspectionItem(item="Cold storage at 0-8 C, logged", passed=True, key=True),
        InspectionItem(
            item="Raw and cooked food separated",
            passed=not key_failed,
            key=True,
            finding="Raw seafood stored above ready-to-eat sauces" if key_failed else None,
        ),
        InspectionItem(item="Staff health certificates on file", passed=True),
        InspectionItem(item="Floor drains clean and covered", passed=score >= 80 or key_failed),
    ]
    return InspectionSubmission(
        inspected_on=inspected,
        items=items,
        score=score,
        findings=f"Routine inspection of {premises.name}."
        + (" Key item failed: rectification required." if key_failed else ""),
    )
