"""The event envelope, the payload schema of each kind, and personal-data commitments.

An event's leaf is ``SHA-256(0x00 || JCS(public form))``. The public form is the
envelope with every personal field replaced by ``{"commitment": hex}`` where
the commitment is ``SHA-256(salt || JCS(value))``; the salt and the clear value
are kept apart (``PersonalValue`` rows) so they can be erased without breaking
any proof.
"""

from __future__ import annotations

import hashlib
import secrets
import types
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

from traceability.errors import Invalid
from traceability.transparency.canonical import FixedKeys, canonical_bytes, canonical_string

SALT_SIZE = 32


class Personal:
    """Marks a field as personal data: it enters the log only as a salted commitment."""

    def __repr__(self) -> str:
        return "Personal()"


PERSONAL = Personal()


class EventKind(StrEnum):
    PROBE_READING = "probe_reading"
    VISION_OBSERVATION = "vision_observation"
    VIOLATION = "violation"
    ALERT_TRANSITION = "alert_transition"
    RESTAURANT_RECORD = "restaurant_record"
    INSPECTION = "inspection"
    INGREDIENT_RECEIPT = "ingredient_receipt"
    GRADE = "grade"
    PROBE_DAY_SUMMARY = "probe_day_summary"


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SensorValue(_Payload):
    """One value of a reading, typed and united as in EPCIS 2.0 sensor reports."""

    type: str = Field(min_length=1, max_length=40)
    value: float
    uom: str = Field(min_length=1, max_length=8)


class GatewayAttestation(_Payload):
    """A gateway signed the batch this reading came in; the batch is kept by its hash."""

    gateway_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=0)
    key_id: str = Field(min_length=16, max_length=16)
    batch_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


class ProbeReading(_Payload):
    """A probe reading as logged, with who signed it (the device, or its gateway)."""

    device_id: str = Field(min_length=1, max_length=64)
    seq: int = Field(ge=0)
    measured_at: AwareDatetime
    values: list[SensorValue] = Field(min_length=1, max_length=16)
    key_id: str | None = Field(default=None, min_length=16, max_length=16)
    signature: str | None = Field(default=None, max_length=200)
    gateway: GatewayAttestation | None = None


class VisionObservation(_Payload):
    camera_id: str = Field(min_length=1, max_length=64)
    detector: str = Field(min_length=1, max_length=64)
    observation: str = Field(min_length=1, max_length=64)
    zone: str | None = Field(default=None, max_length=64)
    confidence: float | None = Field(default=None, ge=0, le=1)
    evidence_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")


class Violation(_Payload):
    """A rule broken (phase "breach") or back in order (phase "recovery")."""

    rule: str = Field(min_length=1, max_length=80)
    alert_class: Literal[1, 2, 3]
    source: Literal["probe", "vision", "record", "inspection"]
    description: str = Field(min_length=1, max_length=2000)
    evidence_sha256: list[str] = Field(default_factory=list, max_length=32)
    phase: Literal["breach", "recovery"] = "breach"
    alert_id: str | None = Field(default=None, max_length=36)
    device_id: str | None = Field(default=None, max_length=64)
    started_at: AwareDatetime | None = None
    measurements: dict[str, float] = Field(default_factory=dict)


class AlertTransition(_Payload):
    """One step of an alert's lifecycle. An escalation keeps the status and names the card
    (yellow, red); a rectification lists the evidence's attachment hashes; ``due_at`` is
    the deadline after the step when the step set one."""

    alert_id: str = Field(min_length=1, max_length=64)
    from_status: str | None = Field(default=None, max_length=40)
    to_status: str = Field(min_length=1, max_length=40)
    actor: str = Field(min_length=1, max_length=100)
    note: str | None = Field(default=None, max_length=2000)
    evidence_sha256: list[str] = Field(default_factory=list, max_length=32)
    escalation: Literal["yellow", "red"] | None = None
    due_at: AwareDatetime | None = None


class StaffOnShift(_Payload):
    """A handler named in a record; the name never enters the log in clear."""

    name: Annotated[str, PERSONAL] = Field(min_length=1, max_length=100)
    health_certificate_expiry: date | None = None
    excluded_reason: Annotated[str | None, PERSONAL] = Field(default=None, max_length=200)


RecordValue = str | int | float | bool | None


class RestaurantRecord(_Payload):
    record_type: Literal[
        "morning_check",
        "purchase_inspection",
        "sample_retention",
        "disinfection",
        "additive_use",
        "waste_oil",
        "self_inspection",
    ]
    # Lists carry a record's items (disinfected items, checklist entries); the
    # record schemas in traceability.records keep personal data out of ``fields``.
    fields: dict[str, RecordValue | list[RecordValue] | list[dict[str, RecordValue]]] = Field(
        default_factory=dict
    )
    staff: list[StaffOnShift] = Field(default_factory=list, max_length=500)
    attachments_sha256: list[str] = Field(default_factory=list, max_length=32)
    recorded_by: Annotated[str | None, PERSONAL] = Field(default=None, max_length=100)


class InspectionItem(_Payload):
    item: str = Field(min_length=1, max_length=200)
    passed: bool
    finding: str | None = Field(default=None, max_length=2000)
    key: bool = False
    """A key item (关键项): failing one caps the inspection's result at fair."""


class InspectionViolation(_Payload):
    """A violation an inspection cited, as the authority coded and described it."""

    code: str | None = Field(default=None, max_length=40)
    description: str | None = Field(default=None, max_length=4000)
    risk_category: str | None = Field(default=None, max_length=60)


class InspectionSource(_Payload):
    """Where an imported inspection came from: the format and the source's own ids."""

    format: Literal["lives", "fhrs", "nyc", "csv"]
    business_id: str = Field(min_length=1, max_length=100)
    inspection_id: str | None = Field(default=None, max_length=100)


class Inspection(_Payload):
    """An official inspection; the inspector is named by its organisation, never a person.

    ``scheme`` names the inspection scheme (traceability/rules/schemes/)
    its score, rating and codes follow; events logged before schemes existed have
    none and are ``cn``. ``score`` may be absent (follow-ups, complaint visits);
    its range is the scheme's. ``historical`` marks imported history: it opened no
    live alert.
    """

    inspector_org: str = Field(min_length=1, max_length=100)
    items: list[InspectionItem] = Field(default_factory=list, max_length=500)
    score: float | None = Field(default=None, ge=0, le=1000)
    result: Literal["excellent", "good", "fair", "fail"] | None = None
    inspected_on: date | None = None
    findings: str | None = Field(default=None, max_length=4000)
    scheme: str | None = Field(default=None, max_length=32)
    inspection_type: str | None = Field(default=None, max_length=200)
    rating: str | None = Field(default=None, max_length=40)
    authority_rating: str | None = Field(default=None, max_length=40)
    sub_scores: dict[str, float] | None = None
    violations: list[InspectionViolation] | None = Field(default=None, max_length=500)
    source: InspectionSource | None = None
    historical: bool | None = None


class IngredientReceipt(_Payload):
    """FSMA 204 style key data elements of a receiving event."""

    lot_code: str = Field(min_length=1, max_length=80)
    gtin: str | None = Field(default=None, pattern=r"^[0-9]{8,14}$")
    product: str = Field(min_length=1, max_length=200)
    quantity: float = Field(gt=0)
    unit: str = Field(min_length=1, max_length=16)
    previous_source: str = Field(min_length=1, max_length=200)
    receiving_location: str = Field(min_length=1, max_length=200)
    received_on: date
    reference_document_type: str = Field(min_length=1, max_length=40)
    reference_document_number: str = Field(min_length=1, max_length=80)


class Grade(_Payload):
    """The annual grade of a premises (A/B/C), or none with the reason (a no-grade period)."""

    year: int = Field(ge=2000, le=2200)
    grade: Literal["A", "B", "C"] | None = None
    reason: str = Field(min_length=1, max_length=2000)
    decided_by: str = Field(min_length=1, max_length=100)
    inspections: list[str] = Field(default_factory=list, max_length=500)


class SummaryRange(_Payload):
    """The steady range (°C) a probe is held to; either end may be open."""

    min: float | None = None
    max: float | None = None


class ProbeDaySummary(_Payload):
    """A probe's local day summarised from its logged readings: ``closed`` once the day
    ended, ``running`` ("today so far") up to ``through``. How each figure is derived, and
    which readings a summary names, is in docs/public-record.md; anyone can recompute it
    with ``traceability.public_record.summaries.summarise_day``."""

    device_id: str = Field(min_length=1, max_length=64)
    date: date
    timezone: str = Field(min_length=1, max_length=64)
    status: Literal["closed", "running"]
    through: AwareDatetime
    range_celsius: SummaryRange | None = None
    silent_after_minutes: float = Field(gt=0)
    count: int = Field(ge=0)
    min: float | None = None
    mean: float | None = None
    max: float | None = None
    minutes_out_of_range: float | None = Field(default=None, ge=0)
    first_leaf_index: int | None = Field(default=None, ge=0)
    last_leaf_index: int | None = Field(default=None, ge=0)
    readings_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")


PAYLOAD_SCHEMAS: dict[EventKind, type[_Payload]] = {
    EventKind.PROBE_READING: ProbeReading,
    EventKind.VISION_OBSERVATION: VisionObservation,
    EventKind.VIOLATION: Violation,
    EventKind.ALERT_TRANSITION: AlertTransition,
    EventKind.RESTAURANT_RECORD: RestaurantRecord,
    EventKind.INSPECTION: Inspection,
    EventKind.INGREDIENT_RECEIPT: IngredientReceipt,
    EventKind.GRADE: Grade,
    EventKind.PROBE_DAY_SUMMARY: ProbeDaySummary,
}

SUBJECT_PATTERN = (
    r"^(premises|device|camera|lot|alert|org|supplier):[A-Za-z0-9][A-Za-z0-9._:/-]{0,90}$"
)


class EventInput(BaseModel):
    """What a caller submits: an event before it is recorded."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    kind: EventKind
    subject: str = Field(pattern=SUBJECT_PATTERN)
    occurred_at: AwareDatetime
    payload: dict[str, Any]

    @field_validator("occurred_at")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)


def as_utc(moment: datetime) -> datetime:
    """The instant in UTC; a naive time (SQLite hands those back) is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def rfc3339(moment: datetime) -> str:
    """UTC time with microseconds and a ``Z``: one spelling per instant."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class PersonalCommitment:
    path: str
    salt: bytes
    value_json: str


@dataclass(frozen=True)
class PreparedEvent:
    """An event ready for the log: its public form, canonical bytes and secrets."""

    event_id: str
    kind: EventKind
    subject: str
    occurred_at: datetime
    recorded_at: datetime
    public: dict[str, Any]
    body: bytes
    personal: tuple[PersonalCommitment, ...]


def commitment(salt: bytes, value: Any) -> str:
    """``SHA-256(salt || JCS(value))`` in hex."""
    return hashlib.sha256(salt + canonical_bytes(value)).hexdigest()


def _is_personal(metadata: list[Any]) -> bool:
    return any(isinstance(m, Personal) for m in metadata)


def _model_types(annotation: Any) -> list[type[BaseModel]]:
    """The model classes inside an annotation such as ``list[X]`` or ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    origin = get_origin(annotation)
    if origin in (list, Union, types.UnionType, Annotated):
        return [m for arg in get_args(annotation) for m in _model_types(arg)]
    return []


def _commit_personal(
    model: type[BaseModel],
    dumped: dict[str, Any],
    path: str,
    salts: dict[str, bytes] | None,
    out: list[PersonalCommitment],
) -> dict[str, Any]:
    result = dict(dumped)
    for name, info in model.model_fields.items():
        if name not in dumped:
            continue
        value = dumped[name]
        field_path = f"{path}/{name}"
        if _is_personal(info.metadata) or _is_personal(list(get_args(info.annotation))[1:]):
            if value is None:
                continue
            salt = secrets.token_bytes(SALT_SIZE) if salts is None else salts.get(field_path)
            if salt is None:
                raise Invalid(f"no salt for personal field {field_path}; it may have been erased")
            out.append(PersonalCommitment(field_path, salt, canonical_bytes(value).decode()))
            result[name] = {"commitment": commitment(salt, value)}
            continue
        nested = _model_types(info.annotation)
        if not nested or value is None:
            continue
        sub = nested[0]
        if isinstance(value, list):
            result[name] = [
                _commit_personal(sub, item, f"{field_path}/{i}", salts, out)
                for i, item in enumerate(value)
            ]
        elif isinstance(value, dict):
            result[name] = _commit_personal(sub, value, field_path, salts, out)
    return result


def _validation_reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


def parse_event_input(raw: Any) -> EventInput:
    """Validate a submitted event (envelope and payload); raise ``Invalid`` with the reason."""
    try:
        event = EventInput.model_validate(raw)
        PAYLOAD_SCHEMAS[event.kind].model_validate(event.payload)
    except ValidationError as exc:
        raise Invalid(_validation_reason(exc)) from None
    return event


def prepare_event(
    event: EventInput,
    recorded_at: datetime,
    *,
    event_id: str | None = None,
    salts: dict[str, bytes] | None = None,
) -> PreparedEvent:
    """Build the public form and canonical bytes of a validated event.

    ``salts`` (by JSON-pointer path) reuses the salts of a stored event, to check
    whether a resubmission carries the same content; by default fresh salts are drawn.
    """
    schema = PAYLOAD_SCHEMAS[event.kind]
    try:
        payload_model = schema.model_validate(event.payload)
    except ValidationError as exc:
        raise Invalid(_validation_reason(exc)) from None
    committed: list[PersonalCommitment] = []
    public_payload = _commit_personal(
        schema, payload_model.model_dump(mode="json"), "/payload", salts, committed
    )
    the_id = event_id or str(event.id or uuid.uuid4())
    public = {
        "id": the_id,
        "kind": event.kind.value,
        "subject": event.subject,
        "occurred_at": rfc3339(event.occurred_at),
        "recorded_at": rfc3339(recorded_at),
        "payload": public_payload,
    }
    return PreparedEvent(
        event_id=the_id,
        kind=event.kind,
        subject=event.subject,
        occurred_at=event.occurred_at,
        recorded_at=as_utc(recorded_at),
        public=public,
        body=canonical_bytes(public),
        personal=tuple(committed),
    )


_ENVELOPE = FixedKeys("id", "kind", "subject", "occurred_at", "recorded_at", "payload")
"""A logged event's public form, composed around a payload text given by trusted code."""


def prepared(
    *,
    event_id: str,
    kind: EventKind,
    subject: str,
    occurred_at: datetime,
    occurred_text: str,
    recorded_at: datetime,
    recorded_text: str,
    payload: dict[str, Any],
    payload_text: str | None = None,
) -> PreparedEvent:
    """An event built by trusted code (no personal fields), ready for the log.

    ``payload_text``, when the caller has it, is the RFC 8785 text of ``payload``
    built from parts it canonicalised once (probe intake does this per reading);
    the envelope is then composed around it instead of re-encoding everything.
    """
    public = {
        "id": event_id,
        "kind": kind.value,
        "subject": subject,
        "occurred_at": occurred_text,
        "recorded_at": recorded_text,
        "payload": payload,
    }
    if payload_text is None:
        body = canonical_bytes(public)
    else:
        q = canonical_string
        body = _ENVELOPE.text(
            id=q(event_id),
            kind=q(kind.value),
            subject=q(subject),
            occurred_at=q(occurred_text),
            recorded_at=q(recorded_text),
            payload=payload_text,
        ).encode()
    return PreparedEvent(
        event_id=event_id,
        kind=kind,
        subject=subject,
        occurred_at=occurred_at,
        recorded_at=recorded_at,
        public=public,
        body=body,
        personal=(),
    )
