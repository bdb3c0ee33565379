"""The record book: a restaurant's daily records, validated, logged and indexed.

Each record is one ``restaurant_record`` event (subject ``premises:<id>``) in
which staff names, exclusion reasons and the person who kept the record are
salted commitments. A purchase inspection also logs an ``ingredient_receipt``
event with the FSMA 204 key data elements and indexes the lot. Alerts the
record triggers are logged in the same batch. Services flush; callers commit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from sqlalchemy.orm import Session

from traceability.alerts.raising import open_alert
from traceability.attachments import AttachmentStore
from traceability.errors import Invalid
from traceability.messages import Message, field_message, message
from traceability.records import repository as repo
from traceability.records.checks import (
    RecordPolicy,
    lot_expired_on,
    meets_disinfection_minimum,
    record_findings,
    uncertified_handlers,
)
from traceability.records.schemas import (
    RECORD_TYPES,
    AdditiveUse,
    Disinfection,
    MorningCheck,
    PurchaseInspection,
    RecordModel,
    SampleRetention,
    SelfInspection,
    WasteOil,
)
from traceability.storage.models import LotRow, PremisesRow, RecordRow
from traceability.transparency.events import (
    EventInput,
    EventKind,
    PreparedEvent,
    prepare_event,
    rfc3339,
)
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

# Clocks of phones and tills drift; a record a few minutes "ahead" is not a lie.
CLOCK_SKEW = timedelta(minutes=5)
_TIME_FIELDS = {
    "morning_check": "checked_at",
    "sample_retention": "time_in",
    "disinfection": "started_at",
    "additive_use": "used_at",
    "waste_oil": "collected_at",
}


@dataclass(frozen=True)
class FieldProblem:
    """What is wrong, and where: ``field`` is a dotted path such as ``staff.2.name``; ``said``
    is the message (its code and parameters for the pages, its English ``reason``)."""

    field: str
    said: Message

    @property
    def reason(self) -> str:
        return self.said.text


class RecordRejected(Invalid):
    """A record (or a batch of them) that breaks the schema or a rule; nothing was stored."""

    def __init__(self, problems: Sequence[tuple[int, FieldProblem]]) -> None:
        self.problems = list(problems)
        shown = "; ".join(
            f"record {i}: {p.field}: {p.reason}" if len(problems) > 1 else f"{p.field}: {p.reason}"
            for i, p in self.problems[:5]
        )
        super().__init__(
            message("record.rejected", text=shown, count=len(self.problems))
            if shown
            else message("record.invalid")
        )

    def extra(self) -> dict[str, object]:
        return {
            "fields": [
                {"record": i, "field": p.field, "reason": p.reason, **p.said.as_json()}
                for i, p in self.problems
            ]
        }


@dataclass(frozen=True)
class LoggedRecord:
    event_id: str
    leaf_index: int
    leaf_hash: str
    record_type: str
    record_date: date
    alerts_opened: list[str] = field(default_factory=list)
    receipt_event_id: str | None = None
    receipt_leaf_index: int | None = None


def parse_record(record_type: str, raw: Any) -> RecordModel:
    """Validate one record against its type's schema; ``RecordRejected`` names each field."""
    schema = RECORD_TYPES.get(record_type)
    if schema is None:
        raise Invalid(
            message(
                "record.type_unknown",
                record_type=record_type[:40],
                choices=", ".join(sorted(RECORD_TYPES)),
            )
        )
    try:
        model = schema.model_validate(raw)
    except ValidationError as exc:
        raise RecordRejected([(0, p) for p in problems_of(exc)]) from None
    return cast(RecordModel, model)


def problems_of(exc: ValidationError) -> list[FieldProblem]:
    return [
        FieldProblem(".".join(str(part) for part in err["loc"]) or "(record)", field_message(err))
        for err in exc.errors()
    ]


def _localised(record: RecordModel, zone: ZoneInfo) -> RecordModel:
    """Naive times are local times of the premises (spreadsheets rarely carry zones)."""
    update = {
        name: value.replace(tzinfo=zone)
        for name, value in record
        if isinstance(value, datetime) and value.tzinfo is None
    }
    return record.model_copy(update=update) if update else record


def _moment(record: RecordModel, zone: ZoneInfo, now: datetime) -> datetime:
    """When the record happened: its own time field, else the time it reached us within
    its day, else the end of its (past) day."""
    name = _TIME_FIELDS.get(type(record).record_type)
    value = getattr(record, name) if name is not None else None
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    start = datetime.combine(record.date, time(0), tzinfo=zone)
    end = start + timedelta(days=1) - timedelta(microseconds=1)
    return min(max(now, start), end).astimezone(UTC)


def _day(value: date) -> str:
    return value.isoformat()


def _when(value: datetime | None) -> str | None:
    return None if value is None else rfc3339(value)


def public_fields(record: RecordModel) -> dict[str, Any]:
    """The record's non-personal fields, as they enter the event."""
    match record:
        case MorningCheck():
            return {
                "date": _day(record.date),
                "checked_at": _when(record.checked_at),
                "staff_checked": len(record.staff),
            }
        case PurchaseInspection():
            return {
                "date": _day(record.date),
                "supplier": record.supplier,
                "supplier_licence": record.supplier_licence,
                "supplier_certificate_expiry": _day(record.supplier_certificate_expiry),
                "product": record.product,
                "gtin": record.gtin,
                "lot_code": record.lot_code,
                "quantity": record.quantity,
                "unit": record.unit,
                "production_date": None
                if record.production_date is None
                else _day(record.production_date),
                "shelf_life_days": record.shelf_life_days,
                "reference_document_type": record.reference_document_type,
                "reference_document_number": record.reference_document_number,
            }
        case SampleRetention():
            return {
                "date": _day(record.date),
                "dish": record.dish,
                "meal": record.meal,
                "weight_g": record.weight_g,
                "time_in": _when(record.time_in),
                "removed_at": _when(record.removed_at),
                "fridge": record.fridge,
            }
        case Disinfection():
            return {
                "date": _day(record.date),
                "items": list(record.items),
                "method": record.method,
                "temperature_c": record.temperature_c,
                "concentration_mg_l": record.concentration_mg_l,
                "duration_min": record.duration_min,
                "started_at": _when(record.started_at),
            }
        case AdditiveUse():
            return {
                "date": _day(record.date),
                "additive": record.additive,
                "batch": record.batch,
                "food": record.food,
                "amount_g": record.amount_g,
                "max_g": record.max_g,
                "weighed": record.weighed,
                "used_at": _when(record.used_at),
            }
        case WasteOil():
            return {
                "date": _day(record.date),
                "oil_type": record.oil_type,
                "quantity": record.quantity,
                "unit": record.unit,
                "collector": record.collector,
                "collector_licence": record.collector_licence,
                "collected_at": _when(record.collected_at),
            }
        case SelfInspection():
            return {
                "date": _day(record.date),
                "items": [{"item": i.item, "ok": i.ok, "finding": i.finding} for i in record.items],
                "no_risk_found": record.no_risk_found,
            }
    raise AssertionError(f"no public form for {type(record).__name__}")


def summary_of(record: RecordModel, attachments: Sequence[str]) -> dict[str, Any]:
    """What anyone may see of a record: counts and facts, never a person."""
    facts = public_fields(record)
    match record:
        case MorningCheck():
            excluded = sum(1 for s in record.staff if s.excluded_reason is not None)
            # Reasons are health details: only how many were sent home, never why.
            facts.update(
                on_shift=len(record.staff) - excluded,
                excluded=excluded,
                without_valid_certificate=len(uncertified_handlers(record)),
            )
        case PurchaseInspection():
            ended = lot_expired_on(record)
            facts.update(
                supplier_certificate_valid=record.supplier_certificate_expiry >= record.date,
                within_shelf_life=ended is None,
            )
        case Disinfection():
            facts["meets_minimum"] = meets_disinfection_minimum(record)
        case AdditiveUse():
            facts["over_maximum"] = record.max_g is not None and record.amount_g > record.max_g
        case SelfInspection():
            # Findings are free text a restaurant may fill with names: only what failed.
            facts["items"] = len(record.items)
            facts["items_failed"] = [i.item for i in record.items if not i.ok]
    facts["attachments"] = len(attachments)
    return facts


def _attachments_of(record: RecordModel) -> list[str]:
    if isinstance(record, PurchaseInspection) and record.certificate_sha256 is not None:
        return [record.certificate_sha256]
    return []


class RecordBook:
    """Accepts restaurant records for one log."""

    def __init__(
        self,
        log: TransparencyLog,
        policy: RecordPolicy | None = None,
        attachments: AttachmentStore | None = None,
    ) -> None:
        self.log = log
        self.policy = policy or RecordPolicy()
        self.attachments = attachments or AttachmentStore()

    def submit(
        self,
        session: Session,
        premises: PremisesRow,
        record_type: str,
        raw: Any,
        *,
        actor: str,
        now: datetime,
        policy: RecordPolicy | None = None,
    ) -> LoggedRecord:
        """Validate, check and log one record (JSON as submitted)."""
        record = parse_record(record_type, raw)
        return self.submit_many(session, premises, [record], actor=actor, now=now, policy=policy)[0]

    def problems(
        self, session: Session, premises: PremisesRow, record: RecordModel, now: datetime
    ) -> list[FieldProblem]:
        """What is wrong with a schema-valid record for this premises, now: dates in the
        future, attachments the premises never uploaded."""
        zone = ZoneInfo(premises.timezone)
        record = _localised(record, zone)
        found: list[FieldProblem] = []
        today = now.astimezone(zone).date()
        if record.date > today:
            found.append(
                FieldProblem(
                    "date",
                    message("record.date_in_future", date=_day(record.date), today=_day(today)),
                )
            )
        for name, value in record:
            if isinstance(value, datetime) and value > now + CLOCK_SKEW:
                found.append(
                    FieldProblem(name, message("record.time_in_future", value=value.isoformat()))
                )
        if isinstance(record, SampleRetention) and record.removed_at is not None:
            if record.removed_at < record.time_in:
                found.append(FieldProblem("removed_at", message("record.removed_before_in")))
        if isinstance(record, MorningCheck) and record.checked_at is not None:
            if record.checked_at.astimezone(zone).date() != record.date:
                found.append(
                    FieldProblem(
                        "checked_at", message("record.checked_at_other_day", date=_day(record.date))
                    )
                )
        missing = self.attachments.missing_for(
            session, premises.premises_id, _attachments_of(record)
        )
        found.extend(
            FieldProblem(
                "certificate_sha256",
                message("record.attachment_missing", sha256=h, premises_id=premises.premises_id),
            )
            for h in missing
        )
        return found

    def submit_many(
        self,
        session: Session,
        premises: PremisesRow,
        records: Sequence[RecordModel],
        *,
        actor: str,
        now: datetime,
        policy: RecordPolicy | None = None,
    ) -> list[LoggedRecord]:
        """Log schema-valid records all together or not at all (``RecordRejected``)."""
        policy = policy or self.policy
        self.log.lock(session)  # attachments and alerts are read and written under it
        zone = ZoneInfo(premises.timezone)
        rejected = [
            (i, p) for i, r in enumerate(records) for p in self.problems(session, premises, r, now)
        ]
        if rejected:
            raise RecordRejected(rejected)
        events: list[PreparedEvent] = []
        rows: list[object] = []
        plans: list[tuple[PreparedEvent, PreparedEvent | None, list[str], RecordModel]] = []
        for original in records:
            record = _localised(original, zone)
            event, receipt, alerts, more_events, more_rows = self._prepare(
                session, premises, record, actor, now, policy, zone
            )
            events.append(event)
            if receipt is not None:
                events.append(receipt)
            events.extend(more_events)
            rows.extend(more_rows)
            plans.append((event, receipt, alerts, record))
        leaves = Ingest(self.log).append(session, events)
        repo.add_all(session, rows)
        where = {e.event_id: leaf for e, leaf in zip(events, leaves, strict=True)}
        logged = []
        for event, receipt, alerts, record in plans:
            index, leaf = where[event.event_id]
            logged.append(
                LoggedRecord(
                    event_id=event.event_id,
                    leaf_index=index,
                    leaf_hash=leaf.hex(),
                    record_type=type(record).record_type,
                    record_date=record.date,
                    alerts_opened=alerts,
                    receipt_event_id=None if receipt is None else receipt.event_id,
                    receipt_leaf_index=None if receipt is None else where[receipt.event_id][0],
                )
            )
        return logged

    def _prepare(
        self,
        session: Session,
        premises: PremisesRow,
        record: RecordModel,
        actor: str,
        now: datetime,
        policy: RecordPolicy,
        zone: ZoneInfo,
    ) -> tuple[PreparedEvent, PreparedEvent | None, list[str], list[PreparedEvent], list[object]]:
        pid = premises.premises_id
        subject = f"premises:{pid}"
        record_type = type(record).record_type
        attachments = _attachments_of(record)
        occurred = _moment(record, zone, now)
        person_field = type(record).PERSON_FIELD
        staff = (
            [
                {
                    "name": s.name,
                    "health_certificate_expiry": None
                    if s.health_certificate_expiry is None
                    else _day(s.health_certificate_expiry),
                    "excluded_reason": s.excluded_reason,
                }
                for s in record.staff
            ]
            if isinstance(record, MorningCheck)
            else []
        )
        payload = {
            "record_type": record_type,
            "fields": public_fields(record),
            "staff": staff,
            "attachments_sha256": attachments,
            "recorded_by": None if person_field is None else getattr(record, person_field),
        }
        event = prepare_event(
            EventInput(
                kind=EventKind.RESTAURANT_RECORD,
                subject=subject,
                occurred_at=occurred,
                payload=payload,
            ),
            now,
        )
        rows: list[object] = [
            RecordRow(
                event_id=event.event_id,
                premises_id=pid,
                record_type=record_type,
                record_date=record.date,
                occurred_at=occurred,
                recorded_at=now,
                summary=json.dumps(summary_of(record, attachments), ensure_ascii=False),
                uploaded_by=actor[:64],
            )
        ]
        receipt: PreparedEvent | None = None
        if isinstance(record, PurchaseInspection):
            receipt = self._receipt(premises, record, event.event_id, occurred, now)
            rows.append(
                LotRow(
                    premises_id=pid,
                    gtin=record.gtin,
                    lot_code=record.lot_code,
                    product=record.product,
                    supplier=record.supplier,
                    supplier_licence=record.supplier_licence,
                    supplier_certificate_expires=record.supplier_certificate_expiry,
                    quantity=record.quantity,
                    unit=record.unit,
                    production_date=record.production_date,
                    shelf_life_days=record.shelf_life_days,
                    received_on=record.date,
                    event_id=receipt.event_id,
                )
            )
        alerts: list[str] = []
        alert_events: list[PreparedEvent] = []
        for finding in record_findings(record, pid, policy):
            opened = open_alert(
                session,
                premises_id=pid,
                subject=subject,
                source="record",
                rule=finding.rule,
                alert_class=finding.alert_class,
                detail=f"{finding.detail} (record {event.event_id})",
                started_at=occurred,
                now=now,
                evidence_sha256=finding.evidence_sha256,
                measurements=finding.measurements,
            )
            alerts.append(opened.alert.alert_id)
            alert_events.append(opened.event)
        return event, receipt, alerts, alert_events, rows

    @staticmethod
    def _receipt(
        premises: PremisesRow,
        record: PurchaseInspection,
        record_event_id: str,
        occurred: datetime,
        now: datetime,
    ) -> PreparedEvent:
        """The FSMA 204 receiving event; the inspection record is the reference document
        when no delivery note or invoice is named."""
        doc_type = record.reference_document_type or "purchase_inspection"
        doc_number = record.reference_document_number or record_event_id
        return prepare_event(
            EventInput(
                kind=EventKind.INGREDIENT_RECEIPT,
                subject=f"premises:{premises.premises_id}",
                occurred_at=occurred,
                payload={
                    "lot_code": record.lot_code,
                    "gtin": record.gtin,
                    "product": record.product,
                    "quantity": record.quantity,
                    "unit": record.unit,
                    "previous_source": record.supplier,
                    "receiving_location": f"premises:{premises.premises_id}",
                    "received_on": _day(record.date),
                    "reference_document_type": doc_type,
                    "reference_document_number": doc_number,
                },
            ),
            now,
        )

    def page(
        self,
        session: Session,
        premises_id: str,
        *,
        record_type: str | None,
        date_from: date | None,
        date_to: date | None,
        offset: int,
        limit: int,
    ) -> list[dict[str, Any]]:
        """Records of a premises, newest day first, as the public may see them."""
        if record_type is not None and record_type not in RECORD_TYPES:
            raise Invalid(
                message(
                    "record.type_unknown",
                    record_type=record_type[:40],
                    choices=", ".join(sorted(RECORD_TYPES)),
                )
            )
        if date_from is not None and date_to is not None and date_from > date_to:
            raise Invalid(
                message("record.dates_reversed", date_from=_day(date_from), date_to=_day(date_to))
            )
        rows = repo.records_page(
            session,
            premises_id,
            record_type=record_type,
            date_from=date_from,
            date_to=date_to,
            offset=offset,
            limit=limit,
        )
        return [
            {
                "event_id": r.event_id,
                "record_type": r.record_type,
                "record_date": r.record_date.isoformat(),
                "occurred_at": rfc3339(r.occurred_at),
                "recorded_at": rfc3339(r.recorded_at),
                "summary": json.loads(r.summary),
            }
            for r in rows
        ]
