"""The built-in projection auditors: how each projected table follows from logged events.

Each class below re-derives one table (docs/derivations.md says the same in
prose). ``AUDITORS`` is the registry ``sunledger audit`` runs; to audit a new
projection, write a ``ProjectionAuditor`` and append its class there.

Only events shaped as the platform's services write them make rows: an
inspection without a result and a date makes no inspection row, and the audit
does not ask for one (``sunledger log append`` projects or refuses every event
that would make one: ``traceability.projections.appended``). Probe readings
count for the device table only when signed (by the device or its gateway), as
the intake accepts them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from traceability.alerts.raising import RECTIFY_WITHIN
from traceability.alerts.status import CLOSED, OPEN, SYSTEM_ACTOR
from traceability.errors import SunledgerError
from traceability.projections import repository as repo
from traceability.projections.auditor import LoggedEvent, ProjectionAuditor, Row, instant
from traceability.public_record.summaries import CLOSED as CLOSED_DAY
from traceability.public_record.summaries import LoggedReading, SummaryWindow, recompute
from traceability.records.checks import DISINFECTION_MINIMUMS
from traceability.transparency.events import EventKind

__all__ = ["AUDITORS", "default_auditors", "record_summary"]


def _maybe_instant(value: Any) -> datetime | None:
    return None if value is None else instant(value)


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value))


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text  # compared as text: it differs from anything the log gives


# --------------------------------------------------------------------------- grades


class GradeAuditor(ProjectionAuditor):
    """``grades``: per (premises, year), the newest ``grade`` event of that year."""

    table = "grades"
    kinds: ClassVar[frozenset[str]] = frozenset({EventKind.GRADE.value})

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def fold(self, event: LoggedEvent) -> None:
        p = event.payload
        if not isinstance(p.get("year"), int) or "reason" not in p:
            return
        self.rows[f"{event.premises_id}/{p['year']}"] = {
            "grade": p.get("grade"),
            "reason": p["reason"],
            "decided_at": event.occurred_at,
            "decided_by": p.get("decided_by"),
            "event_id": event.event_id,
        }

    def derived(self) -> dict[str, Row]:
        return self.rows

    def stored(self, session: Session) -> dict[str, Row]:
        return {
            f"{r.premises_id}/{r.year}": {
                "grade": r.grade,
                "reason": r.reason,
                "decided_at": r.decided_at,
                "decided_by": r.decided_by,
                "event_id": r.event_id,
            }
            for r in repo.grades(session)
        }


# --------------------------------------------------------------------------- inspections


def inspection_summary(payload: dict[str, Any]) -> dict[str, Any]:
    """The published summary of an inspection: its items, findings and counts."""
    items = list(payload.get("items") or [])
    return {
        "items": items,
        "findings": payload.get("findings"),
        "counts": {
            "items": len(items),
            "failed": sum(1 for i in items if not i.get("passed")),
            "key_items": sum(1 for i in items if i.get("key")),
            "key_items_failed": sum(1 for i in items if i.get("key") and not i.get("passed")),
        },
    }


def inspection_scheme_fields(payload: dict[str, Any]) -> Row:
    """The scheme fields of an inspection row, from its event: an event without a scheme
    (logged before schemes) is a cn one whose rating is its result."""
    scheme = payload.get("scheme")
    return {
        "scheme": scheme or "cn",
        "inspection_type": payload.get("inspection_type"),
        "rating": payload.get("rating") if scheme else payload.get("result"),
        "authority_rating": payload.get("authority_rating"),
        "sub_scores": payload.get("sub_scores"),
        "violations": list(payload.get("violations") or []),
        "historical": bool(payload.get("historical")),
    }


class InspectionAuditor(ProjectionAuditor):
    """``inspections``: one row per ``inspection`` event that carries a date and a result
    (or names its scheme: imported inspections may have no result)."""

    table = "inspections"
    kinds: ClassVar[frozenset[str]] = frozenset({EventKind.INSPECTION.value})

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def fold(self, event: LoggedEvent) -> None:
        p = event.payload
        if p.get("inspected_on") is None or (p.get("result") is None and not p.get("scheme")):
            return
        self.rows[event.event_id] = {
            "premises_id": event.premises_id,
            "regulator_org": p.get("inspector_org"),
            "inspected_on": _day(p["inspected_on"]),
            "score": p.get("score"),
            "result": p.get("result"),
            "summary": inspection_summary(p),
            "recorded_at": event.recorded_at,
            **inspection_scheme_fields(p),
        }

    def derived(self) -> dict[str, Row]:
        return self.rows

    def stored(self, session: Session) -> dict[str, Row]:
        return {
            r.event_id: {
                "premises_id": r.premises_id,
                "regulator_org": r.regulator_org,
                "inspected_on": r.inspected_on,
                "score": r.score,
                "result": r.result,
                "summary": _json(r.summary),
                "recorded_at": r.recorded_at,
                "scheme": r.scheme,
                "inspection_type": r.inspection_type,
                "rating": r.rating,
                "authority_rating": r.authority_rating,
                "sub_scores": None if r.sub_scores is None else _json(r.sub_scores),
                "violations": _json(r.violations),
                "historical": r.historical,
            }
            for r in repo.inspections(session)
        }


# --------------------------------------------------------------------------- records


def _meets_disinfection_minimum(fields: dict[str, Any]) -> bool | None:
    minimum = DISINFECTION_MINIMUMS.get(str(fields.get("method")))
    if minimum is None:
        return None
    min_temp, min_conc, min_minutes = minimum
    duration = fields.get("duration_min")
    if not isinstance(duration, (int, float)) or duration < min_minutes:
        return False
    temperature = fields.get("temperature_c")
    if min_temp is not None and (temperature is None or temperature < min_temp):
        return False
    concentration = fields.get("concentration_mg_l")
    return min_conc is None or (concentration is not None and concentration >= min_conc)


def record_summary(payload: dict[str, Any]) -> dict[str, Any]:
    """What the public may see of a record (counts and facts, never a person), from its event.

    The same facts ``records.service.summary_of`` computes from the submitted
    record: the public fields, plus per type the derived facts.
    """
    fields: dict[str, Any] = dict(payload.get("fields") or {})
    facts = dict(fields)
    kind = payload.get("record_type")
    day = str(fields.get("date"))
    if kind == "morning_check":
        staff = [s for s in payload.get("staff") or [] if isinstance(s, dict)]
        excluded = sum(1 for s in staff if s.get("excluded_reason") is not None)
        facts.update(
            on_shift=len(staff) - excluded,
            excluded=excluded,
            without_valid_certificate=sum(
                1
                for s in staff
                if s.get("excluded_reason") is None
                and (
                    s.get("health_certificate_expiry") is None
                    or str(s["health_certificate_expiry"]) < day
                )
            ),
        )
    elif kind == "purchase_inspection":
        produced, shelf_life = fields.get("production_date"), fields.get("shelf_life_days")
        within = True
        if produced is not None and shelf_life is not None:
            ended = date.fromisoformat(str(produced)) + timedelta(days=int(shelf_life))
            within = not ended < date.fromisoformat(day)
        facts.update(
            supplier_certificate_valid=str(fields.get("supplier_certificate_expiry")) >= day,
            within_shelf_life=within,
        )
    elif kind == "disinfection":
        facts["meets_minimum"] = _meets_disinfection_minimum(fields)
    elif kind == "additive_use":
        max_g, amount = fields.get("max_g"), fields.get("amount_g")
        facts["over_maximum"] = max_g is not None and amount is not None and amount > max_g
    elif kind == "self_inspection":
        items = [i for i in fields.get("items") or [] if isinstance(i, dict)]
        facts["items"] = len(items)
        facts["items_failed"] = [i.get("item") for i in items if not i.get("ok")]
    facts["attachments"] = len(payload.get("attachments_sha256") or [])
    return facts


class RecordAuditor(ProjectionAuditor):
    """``records``: one row per ``restaurant_record`` event with a record date.

    ``uploaded_by`` (the API key's organisation) is not in the event: not audited.
    """

    table = "records"
    kinds: ClassVar[frozenset[str]] = frozenset({EventKind.RESTAURANT_RECORD.value})

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def fold(self, event: LoggedEvent) -> None:
        p = event.payload
        fields = p.get("fields")
        if not isinstance(fields, dict) or fields.get("date") is None:
            return
        self.rows[event.event_id] = {
            "premises_id": event.premises_id,
            "record_type": p.get("record_type"),
            "record_date": _day(fields["date"]),
            "occurred_at": event.occurred_at,
            "recorded_at": event.recorded_at,
            "summary": record_summary(p),
        }

    def derived(self) -> dict[str, Row]:
        return self.rows

    def stored(self, session: Session) -> dict[str, Row]:
        return {
            r.event_id: {
                "premises_id": r.premises_id,
                "record_type": r.record_type,
                "record_date": r.record_date,
                "occurred_at": r.occurred_at,
                "recorded_at": r.recorded_at,
                "summary": _json(r.summary),
            }
            for r in repo.records(session)
        }


# --------------------------------------------------------------------------- lots


class LotAuditor(ProjectionAuditor):
    """``lots``: one row per ``ingredient_receipt`` event (keyed by that event's id), completed
    by the ``purchase_inspection`` record it came with (same premises, lot code and day)."""

    table = "lots"
    kinds: ClassVar[frozenset[str]] = frozenset(
        {EventKind.INGREDIENT_RECEIPT.value, EventKind.RESTAURANT_RECORD.value}
    )

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.purchases: dict[tuple[str, str, str], dict[str, Any]] = {}

    def fold(self, event: LoggedEvent) -> None:
        p = event.payload
        if event.kind == EventKind.RESTAURANT_RECORD.value:
            fields = p.get("fields")
            if p.get("record_type") == "purchase_inspection" and isinstance(fields, dict):
                key = (event.premises_id, str(fields.get("lot_code")), str(fields.get("date")))
                self.purchases[key] = fields
            return
        record = self.purchases.get(
            (event.premises_id, str(p.get("lot_code")), str(p.get("received_on")))
        )
        self.rows[event.event_id] = {
            "premises_id": event.premises_id,
            "gtin": p.get("gtin"),
            "lot_code": p.get("lot_code"),
            "product": p.get("product"),
            "supplier": p.get("previous_source"),
            "quantity": p.get("quantity"),
            "unit": p.get("unit"),
            "received_on": _day(p.get("received_on")),
            "supplier_licence": None if record is None else record.get("supplier_licence"),
            "supplier_certificate_expires": None
            if record is None
            else _day(record.get("supplier_certificate_expiry")),
            "production_date": None if record is None else _day(record.get("production_date")),
            "shelf_life_days": None if record is None else record.get("shelf_life_days"),
        }

    def derived(self) -> dict[str, Row]:
        return self.rows

    def stored(self, session: Session) -> dict[str, Row]:
        rows: dict[str, Row] = {}
        for r in repo.lots(session):
            key = r.event_id if r.event_id not in rows else f"{r.event_id} (lot row {r.id})"
            rows[key] = {
                "premises_id": r.premises_id,
                "gtin": r.gtin,
                "lot_code": r.lot_code,
                "product": r.product,
                "supplier": r.supplier,
                "quantity": r.quantity,
                "unit": r.unit,
                "received_on": r.received_on,
                "supplier_licence": r.supplier_licence,
                "supplier_certificate_expires": r.supplier_certificate_expires,
                "production_date": r.production_date,
                "shelf_life_days": r.shelf_life_days,
            }
        return rows


# --------------------------------------------------------------------------- alerts


class AlertAuditor(ProjectionAuditor):
    """``alerts``: opened by a ``violation`` breach naming its alert id, recovered by the first
    recovery naming it, moved by each ``alert_transition``."""

    table = "alerts"
    kinds: ClassVar[frozenset[str]] = frozenset(
        {
            EventKind.VIOLATION.value,
            EventKind.ALERT_TRANSITION.value,
            EventKind.VISION_OBSERVATION.value,
        }
    )

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}
        self.camera_of_evidence: dict[str, str] = {}
        self.vision_evidence: dict[str, list[str]] = {}

    def fold(self, event: LoggedEvent) -> None:
        p = event.payload
        if event.kind == EventKind.VISION_OBSERVATION.value:
            if p.get("evidence_sha256") and p.get("camera_id"):
                self.camera_of_evidence[str(p["evidence_sha256"])] = str(p["camera_id"])
            return
        alert_id = p.get("alert_id")
        if not isinstance(alert_id, str):
            return
        if event.kind == EventKind.VIOLATION.value:
            if p.get("phase", "breach") == "breach":
                self._open(event, alert_id)
            else:
                row = self.rows.get(alert_id)
                if row is not None and row["recovered_at"] is None:
                    row["recovered_at"] = event.occurred_at
                    row["recovery_event_id"] = event.event_id
            return
        row = self.rows.get(alert_id)
        if row is None:
            return  # a step of an alert the log never opened: nothing to project
        row["status"] = p.get("to_status")
        row["updated_at"] = event.occurred_at
        if p.get("due_at") is not None:
            row["due_at"] = instant(p["due_at"])
        if p.get("escalation") is not None:
            row["escalation"] = p["escalation"]
            row["escalated_at"] = event.occurred_at
        row["closed_at"] = event.occurred_at if p.get("to_status") == CLOSED else None

    def _open(self, event: LoggedEvent, alert_id: str) -> None:
        p = event.payload
        source, alert_class = p.get("source"), p.get("alert_class")
        if source == "probe":
            subject: str | None = f"device:{p.get('device_id')}"
        elif source == "vision":
            subject = None  # the camera, named by the evidence's observation (resolved below)
            self.vision_evidence[alert_id] = [str(h) for h in p.get("evidence_sha256") or []]
        else:
            subject = event.subject
        within = RECTIFY_WITHIN.get(alert_class) if isinstance(alert_class, int) else None
        self.rows[alert_id] = {
            "premises_id": event.premises_id,
            "subject": subject,
            "source": source,
            "rule": p.get("rule"),
            "alert_class": alert_class,
            "detail": p.get("description"),
            "started_at": _maybe_instant(p.get("started_at")),
            "opened_at": event.occurred_at,
            "breach_event_id": event.event_id,
            "status": OPEN,
            "due_at": None if within is None else event.occurred_at + within,
            "escalation": "none",
            "escalated_at": None,
            "updated_at": event.occurred_at,
            "closed_at": None,
            "recovered_at": None,
            "recovery_event_id": None,
        }

    def derived(self) -> dict[str, Row]:
        rows = {}
        for alert_id, row in self.rows.items():
            if alert_id in self.vision_evidence:
                cameras = {
                    self.camera_of_evidence[h]
                    for h in self.vision_evidence[alert_id]
                    if h in self.camera_of_evidence
                }
                row = dict(row)
                if len(cameras) == 1:
                    row["subject"] = f"camera:{cameras.pop()}"
                else:
                    del row["subject"]  # no observation names the camera: not derivable
            rows[alert_id] = row
        return rows

    def stored(self, session: Session) -> dict[str, Row]:
        return {
            r.alert_id: {
                "premises_id": r.premises_id,
                "subject": r.subject,
                "source": r.source,
                "rule": r.rule,
                "alert_class": r.alert_class,
                "detail": r.detail,
                "started_at": r.started_at,
                "opened_at": r.opened_at,
                "breach_event_id": r.breach_event_id,
                "status": r.status,
                "due_at": r.due_at,
                "escalation": r.escalation,
                "escalated_at": r.escalated_at,
                "updated_at": r.updated_at,
                "closed_at": r.closed_at,
                "recovered_at": r.recovered_at,
                "recovery_event_id": r.recovery_event_id,
            }
            for r in repo.alerts(session)
        }


class AlertTransitionAuditor(ProjectionAuditor):
    """``alert_transitions``: the opening step of each breach (by ``system``) and one row per
    ``alert_transition`` event; keyed by the event id."""

    table = "alert_transitions"
    kinds: ClassVar[frozenset[str]] = frozenset(
        {EventKind.VIOLATION.value, EventKind.ALERT_TRANSITION.value}
    )

    def __init__(self) -> None:
        self.rows: dict[str, Row] = {}

    def fold(self, event: LoggedEvent) -> None:
        p = event.payload
        alert_id = p.get("alert_id")
        if not isinstance(alert_id, str):
            return
        if event.kind == EventKind.VIOLATION.value:
            if p.get("phase", "breach") != "breach":
                return
            step: Row = {
                "alert_id": alert_id,
                "from_status": None,
                "to_status": OPEN,
                "actor": SYSTEM_ACTOR,
                "note": None,
                "evidence": [],
            }
        else:
            step = {
                "alert_id": alert_id,
                "from_status": p.get("from_status"),
                "to_status": p.get("to_status"),
                "actor": p.get("actor"),
                "note": p.get("note"),
                "evidence": list(p.get("evidence_sha256") or []),
            }
        step["at"] = event.occurred_at
        self.rows[event.event_id] = step

    def derived(self) -> dict[str, Row]:
        return self.rows

    def stored(self, session: Session) -> dict[str, Row]:
        rows: dict[str, Row] = {}
        for r in repo.alert_transitions(session):
            key = r.event_id if r.event_id not in rows else f"{r.event_id} (transition {r.id})"
            rows[key] = {
                "alert_id": r.alert_id,
                "from_status": r.from_status,
                "to_status": r.to_status,
                "actor": r.actor,
                "note": r.note,
                "evidence": _json(r.evidence),
                "at": r.at,
            }
        return rows


# --------------------------------------------------------------------------- devices


class DeviceAuditor(ProjectionAuditor):
    """``devices``: each probe's last accepted sequence number and last reading time, from its
    signed ``probe_reading`` events. Where the probe is and what it is are the registry's."""

    table = "devices"
    kinds: ClassVar[frozenset[str]] = frozenset({EventKind.PROBE_READING.value})

    def __init__(self) -> None:
        # device -> (last seq, recorded_at of its last batch, newest measured_at in that batch)
        self.last: dict[str, tuple[int, datetime, datetime]] = {}

    def fold(self, event: LoggedEvent) -> None:
        p = event.payload
        if p.get("signature") is None and p.get("gateway") is None:
            return  # not a reading the intake accepted: no device state follows from it
        device, seq, measured = p.get("device_id"), p.get("seq"), p.get("measured_at")
        if not isinstance(device, str) or not isinstance(seq, int) or measured is None:
            return
        at = instant(measured)
        previous = self.last.get(device)
        if previous is not None and previous[1] == event.recorded_at:
            at = max(at, previous[2])  # the same intake batch: its newest reading counts
        self.last[device] = (seq, event.recorded_at, at)

    def derived(self) -> dict[str, Row]:
        return {
            device: {"last_seq": seq, "last_reading_at": at}
            for device, (seq, _batch, at) in self.last.items()
        }

    def default_row(self, key: str) -> Row | None:
        return {"last_seq": -1, "last_reading_at": None}  # registered, never heard from

    def stored(self, session: Session) -> dict[str, Row]:
        return {
            r.device_id: {"last_seq": r.last_seq, "last_reading_at": r.last_reading_at}
            for r in repo.devices(session)
        }


# --------------------------------------------------------------------------- day summaries


SUMMARY_FIELDS = (
    "status",
    "count",
    "min",
    "mean",
    "max",
    "minutes_out_of_range",
    "first_leaf_index",
    "last_leaf_index",
    "readings_sha256",
)


class ProbeDaySummaryAuditor(ProjectionAuditor):
    """``probe_day_summaries``: per (probe, local day), the newest ``probe_day_summary``
    event, its figures **recomputed from the readings it names** (``recompute`` of
    ``public_record.summaries``): a summary event that misstates its readings is named
    as surely as an edited table row. Which premises the probe belongs to is the
    registry's."""

    table = "probe_day_summaries"
    kinds: ClassVar[frozenset[str]] = frozenset(
        {EventKind.PROBE_READING.value, EventKind.PROBE_DAY_SUMMARY.value}
    )

    def __init__(self) -> None:
        # device -> its readings not yet covered by a closed day: (occurred_at, reading)
        self.readings: dict[str, list[tuple[datetime, LoggedReading]]] = {}
        self.rows: dict[str, Row] = {}

    def fold(self, event: LoggedEvent) -> None:
        device = event.subject.removeprefix("device:")
        if event.kind == EventKind.PROBE_READING.value:
            reading = LoggedReading(event.leaf_index, event.body)
            self.readings.setdefault(device, []).append((event.occurred_at, reading))
            return
        p = event.payload
        try:
            window = SummaryWindow.of(p)
            recomputed = recompute(p, [r for _at, r in self.readings.get(device, [])])
        except (SunledgerError, KeyError, TypeError, ValueError):
            return  # not a summary the platform writes: the log audit has the bytes
        row: Row = {name: recomputed.get(name) for name in SUMMARY_FIELDS}
        row["through"] = instant(recomputed["through"])
        row["event_id"] = event.event_id
        self.rows[f"{window.device_id}/{window.day.isoformat()}"] = row
        if window.status == CLOSED_DAY and p.get("last_leaf_index") is not None:
            # A closed day's readings are never named again: keep the later ones only.
            end, last = window.through, int(p["last_leaf_index"])
            self.readings[device] = [
                (at, r)
                for at, r in self.readings.get(device, [])
                if not (r.leaf_index <= last and at < end)
            ]

    def derived(self) -> dict[str, Row]:
        return self.rows

    def stored(self, session: Session) -> dict[str, Row]:
        rows: dict[str, Row] = {}
        for r in repo.probe_day_summaries(session):
            row: Row = {name: getattr(r, name) for name in SUMMARY_FIELDS}
            row["through"] = r.through
            row["event_id"] = r.event_id
            rows[f"{r.device_id}/{r.day.isoformat()}"] = row
        return rows


AUDITORS: list[Callable[[], ProjectionAuditor]] = [
    GradeAuditor,
    InspectionAuditor,
    RecordAuditor,
    LotAuditor,
    AlertAuditor,
    AlertTransitionAuditor,
    DeviceAuditor,
    ProbeDaySummaryAuditor,
]
"""The registry: one factory per audited projection table. Append new auditors here."""


def default_auditors() -> list[ProjectionAuditor]:
    """A fresh auditor of every registered projection."""
    return [make() for make in AUDITORS]
