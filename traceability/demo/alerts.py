"""The story's answers to an alert: the restaurant acknowledging and submitting evidence
(a photo of a document), the regulator requesting rectification and closing, each a
step scheduled after the alert was opened and run through the alert desk."""

from __future__ import annotations

from datetime import datetime, timedelta

from traceability.alerts.lifecycle import AlertDesk
from traceability.attachments import AttachmentStore
from traceability.demo import clips
from traceability.demo.scenario import Premises
from traceability.demo.seeding import Seeding
from traceability.storage.db import transaction


class AlertStory:
    """Schedules the restaurant's and the regulator's steps on alerts as they open."""

    def __init__(self, seeding: Seeding) -> None:
        self.seeding = seeding
        self.desk = AlertDesk(seeding.log)
        self.attachments = AttachmentStore()

    def answer(
        self,
        alert_id: str,
        premises: Premises,
        opened_at: datetime,
        *,
        acknowledge_after: timedelta | None = None,
        evidence: tuple[str, list[str]] | None = None,
        submit_after: timedelta | None = None,
        close_after: timedelta | None = None,
        request_after: timedelta | None = None,
    ) -> None:
        """Schedule the restaurant's and the regulator's steps on one alert."""
        s = self.seeding
        restaurant = premises.org
        regulator = s.scenario.regulator_of(premises.district).org_id

        def acknowledge(now: datetime) -> None:
            with transaction(s.sessions) as session:
                self.desk.acknowledge(
                    session,
                    s.principal(session, restaurant, now),
                    alert_id,
                    now=now,
                    note="Seen; the manager is on it.",
                )

        def request(now: datetime) -> None:
            with transaction(s.sessions) as session:
                self.desk.request_rectification(
                    session,
                    s.principal(session, regulator, now),
                    alert_id,
                    now=now,
                    note="Rectify the failed key item and send photos of the result.",
                )

        def submit(now: datetime) -> None:
            assert evidence is not None
            title, lines = evidence
            with transaction(s.sessions) as session:
                who = s.principal(session, restaurant, now)
                stored = self.attachments.store(
                    session,
                    premises_id=premises.id,
                    data=clips.photo(title, [*lines, f"Date: {now:%Y-%m-%d}"], seed=len(title)),
                    declared_type="image/png",
                    uploaded_by=who.actor,
                    now=now,
                )
                self.desk.submit_rectification(
                    session,
                    who,
                    alert_id,
                    now=now,
                    note=f"{title}: attached.",
                    evidence_sha256=[stored.sha256],
                )

        def close(now: datetime) -> None:
            with transaction(s.sessions) as session:
                self.desk.close(
                    session,
                    s.principal(session, regulator, now),
                    alert_id,
                    now=now,
                    note="Evidence checked on a follow-up visit; closed.",
                )

        schedule = s.timeline.schedule
        if acknowledge_after is not None:
            schedule(opened_at + acknowledge_after, f"acknowledge {alert_id}", acknowledge)
        if request_after is not None:
            schedule(opened_at + request_after, f"request rectification {alert_id}", request)
        if submit_after is not None:
            schedule(opened_at + submit_after, f"rectify {alert_id}", submit)
        if close_after is not None:
            schedule(opened_at + close_after, f"close {alert_id}", close)
