"""Events appended as given (``sunledger log append``): logged, and projected like the API's.

An event the audit folds into a table must find its row there, or the audit raises a
false alarm and the public record misses the event. So an appended event goes through
the same service code as the API, in the appender's transaction (a refused event
leaves no trace):

- ``inspection``: the inspections row (and the alert the inspection raises), checked
  as the regulator API checks a submission (``Inspections.project_logged``).
- Events whose row the platform decides, not the file: a ``grade`` (decided from the
  year's inspections), a ``violation`` or ``alert_transition`` naming an alert (the
  alert lifecycle), a ``probe_day_summary`` (computed from the readings), a signed
  ``probe_reading`` (the intake checks its signature and sequence), a
  ``restaurant_record`` with a record date and an ``ingredient_receipt`` (the kitchen
  API checks them against the record schemas): refused, naming the way in.
- The rest (unsigned probe readings, vision observations, violations without an
  alert, records without a date) make no row; the audit asks for none.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from traceability.errors import Invalid
from traceability.inspections.service import Inspections
from traceability.transparency.events import EventInput, EventKind, PreparedEvent
from traceability.transparency.ingest import Ingest, IngestResult
from traceability.transparency.log import TransparencyLog

__all__ = ["AppendedEvents", "refusal"]

_RECORDS_API = "the kitchen API (POST /v1/premises/{premises}/records) or CSV upload"


def refusal(event: PreparedEvent) -> str | None:
    """Why ``log append`` refuses ``event`` (its row is the platform's to decide), or None."""
    p = event.public["payload"]
    kind = event.kind
    if kind is EventKind.GRADE:
        return (
            "a grade is decided from the year's inspections: use the regulator API "
            "(POST /v1/regulator/premises/{premises}/grades/{year})"
        )
    if kind in (EventKind.VIOLATION, EventKind.ALERT_TRANSITION) and p.get("alert_id"):
        return (
            f"a {kind.value} naming an alert is a step of the alert lifecycle, which the "
            "platform runs (the alerts API, /v1/alerts/{alert}/...)"
        )
    if kind is EventKind.PROBE_DAY_SUMMARY:
        return "a probe_day_summary is computed from the logged readings by the platform"
    if kind is EventKind.PROBE_READING and (p.get("signature") or p.get("gateway")):
        return (
            "a signed probe reading goes through the intake (POST /v1/probes/readings or "
            "MQTT), which checks its signature and sequence"
        )
    if kind is EventKind.RESTAURANT_RECORD and (p.get("fields") or {}).get("date") is not None:
        return f"a dated restaurant record goes through {_RECORDS_API}"
    if kind is EventKind.INGREDIENT_RECEIPT:
        return f"an ingredient receipt goes through {_RECORDS_API}"
    return None


class AppendedEvents:
    """Logs a batch of events as given and writes the rows the API would write for them."""

    def __init__(self, log: TransparencyLog, inspection_alert_window_days: int) -> None:
        self._ingest = Ingest(log)
        self._inspections = Inspections(log)
        self._window = inspection_alert_window_days

    def ingest(
        self, session: Session, events: Sequence[EventInput], now: datetime | None = None
    ) -> tuple[IngestResult, int]:
        """Log ``events`` (idempotent on id, as ``Ingest.ingest``) and project the new ones;
        return the result and how many alerts the inspections opened. A refused event raises
        ``Invalid`` naming its position (``event N: ...``); the caller rolls back."""
        now = now or datetime.now(UTC)
        result = self._ingest.ingest(session, events, now)
        follow_ups: list[PreparedEvent] = []
        for position, event in result.new:
            reason = refusal(event)
            if reason is not None:
                raise Invalid(f"event {position}: {event.kind.value}: {reason}")
            if event.kind is EventKind.INSPECTION:
                try:
                    follow_ups += self._inspections.project_logged(
                        session, event, now, self._window
                    )
                except Invalid as exc:
                    raise Invalid(f"event {position}: inspection: {exc.detail}") from None
        if follow_ups:
            self._ingest.append(session, follow_ups)
        return result, len(follow_ups)
