"""SQLAlchemy 2 tables of the core. All SQL against them lives in repositories."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.expression import false
from sqlalchemy.types import TypeDecorator

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """An instant, stored as UTC and always read back timezone-aware (SQLite forgets zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: every stored instant must carry its zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class LogState(Base):
    """The one row describing the log: its origin, size and root.

    Appends lock this row first, which serialises writers on both SQLite and
    PostgreSQL; the size only moves when the whole batch commits.
    """

    __tablename__ = "log_state"
    __table_args__ = (CheckConstraint("tree_size >= 0", name="size_not_negative"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    origin: Mapped[str] = mapped_column(String(255), nullable=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class LogTile(Base):
    """A C2SP-style tile: up to 256 hashes of one tree level, concatenated.

    Level L holds the roots of the complete subtrees of 256**L leaves. A tile
    below the right edge is full (256 hashes) and never changes again.
    """

    __tablename__ = "log_tiles"

    level: Mapped[int] = mapped_column(Integer, primary_key=True)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    hashes: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class EventRow(Base):
    """An event as logged: its exact canonical bytes and its leaf."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_subject_occurred", "subject", "occurred_at"),
        Index("ix_events_kind_occurred", "kind", "occurred_at"),
    )

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    subject: Mapped[str] = mapped_column(String(100), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)


class PersonalValue(Base):
    """The clear value and salt behind one salted commitment in an event.

    Kept apart from the event so it can be erased (crypto-shredding): the
    event's leaf holds only SHA-256(salt || value), which stays provable.
    """

    __tablename__ = "personal_values"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("events.event_id"), nullable=False, index=True
    )
    path: Mapped[str] = mapped_column(String(255), nullable=False)
    salt: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    value: Mapped[str | None] = mapped_column(Text, nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CheckpointRow(Base):
    """A signed checkpoint (C2SP signed note) for one tree size."""

    __tablename__ = "checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class CheckpointCosignature(Base):
    """A witness's cosignature of one checkpoint: a C2SP tlog-cosignature line, verified
    against the witness's configured key before it was stored."""

    __tablename__ = "checkpoint_cosignatures"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    witness_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    witness_name: Mapped[str] = mapped_column(String(200), nullable=False)
    line: Mapped[str] = mapped_column(Text, nullable=False)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    collected_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class WitnessedCheckpoint(Base):
    """A checkpoint that met the witness policy (enough cosignatures), and when."""

    __tablename__ = "witnessed_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    quorum: Mapped[int] = mapped_column(Integer, nullable=False)
    cosigners: Mapped[int] = mapped_column(Integer, nullable=False)
    witnessed_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class AnchorRow(Base):
    """The anchoring outbox: one checkpoint to put on chain, and how far it got.

    pending → submitted (signed transaction stored, then sent) → confirmed
    (mined) → final (enough confirmations); a revert marks it failed and it is
    retried with backoff; a reorg that drops the transaction sends it back to
    pending. The row is committed before any transaction is sent.
    """

    __tablename__ = "anchors"
    __table_args__ = (
        Index("ix_anchors_status_size", "status", "tree_size"),
        Index("uq_anchors_chain_contract_size", "chain_id", "contract", "tree_size", unique=True),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    log_id: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    chain_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    contract: Mapped[str] = mapped_column(String(42), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    raw_tx: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    nonce: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    block_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class ChainDeployment(Base):
    """Where the anchor contract lives on a chain (recorded by ``sunledger chain deploy``)."""

    __tablename__ = "chain_deployments"

    chain_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    contract: Mapped[str] = mapped_column(String(42), nullable=False)
    tx_hash: Mapped[str] = mapped_column(String(66), nullable=False)
    block_number: Mapped[int] = mapped_column(BigInteger, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class DeviceRow(Base):
    """A probe: where it is, what it measures, and the last sequence number accepted."""

    __tablename__ = "devices"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    location: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    profile: Mapped[str] = mapped_column(String(16), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_reading_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rule_state: Mapped[str | None] = mapped_column(Text, nullable=True)


class GatewayRow(Base):
    """A gateway that signs batches for the probes of its premises."""

    __tablename__ = "gateways"

    gateway_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    last_seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SignerKeyRow(Base):
    """An Ed25519 key of a device or gateway. Rotation adds a key and ends the old one;
    ended keys stay, so readings they signed remain verifiable."""

    __tablename__ = "signer_keys"
    __table_args__ = (Index("ix_signer_keys_owner", "owner_type", "owner_id"),)

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    owner_type: Mapped[str] = mapped_column(String(16), nullable=False)
    owner_id: Mapped[str] = mapped_column(String(64), nullable=False)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AlertRow(Base):
    """An alert raised by a rule (probe, vision, record). Its lifecycle grows in later work;
    every change is also an event in the log."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_premises_status", "premises_id", "status"),)

    alert_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False)
    subject: Mapped[str] = mapped_column(String(100), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    rule: Mapped[str] = mapped_column(String(40), nullable=False)
    alert_class: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(24), nullable=False)
    detail: Mapped[str] = mapped_column(Text, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    recovered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    breach_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    recovery_event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    # The lifecycle (issue 5): open -> acknowledged -> rectification_submitted -> closed,
    # or back to open when reopened. ``due_at`` follows from the class; overdue alerts
    # escalate to a yellow card, then a red one.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    escalation: Mapped[str] = mapped_column(String(8), nullable=False, server_default="none")
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class GatewayBatchRow(Base):
    """A gateway-signed batch, kept so each of its readings can be re-verified later."""

    __tablename__ = "gateway_batches"

    batch_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    gateway_id: Mapped[str] = mapped_column(String(64), nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    key_id: Mapped[str] = mapped_column(String(16), nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class OrganisationRow(Base):
    """Who holds API keys: a restaurant group, a regulator (with its districts), an auditor,
    or the platform's admins."""

    __tablename__ = "organisations"
    __table_args__ = (
        CheckConstraint("role IN ('restaurant', 'regulator', 'auditor', 'admin')", name="role"),
    )

    org_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    districts: Mapped[str] = mapped_column(Text, nullable=False, server_default="[]")
    """JSON list of district codes a regulator covers (empty for other roles)."""
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="active")
    webhook_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    webhook_secret: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class PremisesRow(Base):
    """A licensed place where food is prepared: what the public page and the QR code show."""

    __tablename__ = "premises"
    # The public list pages by name, in the city or in one district (migration 0009).
    __table_args__ = (
        Index("ix_premises_name", "name", "premises_id"),
        Index("ix_premises_district_name", "district", "name", "premises_id"),
    )

    premises_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organisations.org_id"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    licence_number: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    licence_status: Mapped[str] = mapped_column(String(16), nullable=False)
    licence_issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    licence_expires_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    district: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    address: Mapped[str] = mapped_column(String(300), nullable=False)
    timezone: Mapped[str] = mapped_column(String(40), nullable=False)
    first_shift: Mapped[str] = mapped_column(String(5), nullable=False)
    """Local "HH:MM" the first shift starts; the morning check is due before it."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    record_version: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )
    """Bumped by database triggers in the transaction of any change to a row the public
    record shows (migration 0011); the record's ETag and cache are keyed by it."""
    # What real registries carry (issue 18); all optional.
    city: Mapped[str | None] = mapped_column(String(100), nullable=True)
    region: Mapped[str | None] = mapped_column(String(100), nullable=True)
    postal_code: Mapped[str | None] = mapped_column(String(20), nullable=True)
    latitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    longitude: Mapped[float | None] = mapped_column(Float, nullable=True)
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True)
    business_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    scheme: Mapped[str] = mapped_column(String(32), nullable=False, server_default="cn")
    """The inspection scheme its inspections follow (traceability.rules.schemes)."""
    inspection_only: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )
    """Known from inspections only (imported): no probes, no daily records, so no
    daily-record alerts."""


class PremisesExternalIdRow(Base):
    """A premises' id in an outside registry (a LIVES business_id, an FHRSID, a CAMIS)."""

    __tablename__ = "premises_external_ids"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    premises_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("premises.premises_id"), nullable=False, index=True
    )


class ApiKeyRow(Base):
    """An API key: only the SHA-256 of its secret is kept; the key is shown once."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    org_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("organisations.org_id"), nullable=False, index=True
    )
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32), nullable=False)
    label: Mapped[str] = mapped_column(String(100), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class AttachmentRow(Base):
    """An uploaded file (certificate or rectification photo), addressed by its SHA-256."""

    __tablename__ = "attachments"

    sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class AttachmentHolderRow(Base):
    """A premises that uploaded an attachment. The bytes are stored once (the first
    uploader is on ``AttachmentRow``), but the same certificate PDF may reach many
    restaurants; each of them may cite it in its own records."""

    __tablename__ = "attachment_holders"

    sha256: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)


class RecordRow(Base):
    """Index of a restaurant record; the record itself is its event in the log."""

    __tablename__ = "records"
    __table_args__ = (
        Index("ix_records_premises_type_date", "premises_id", "record_type", "record_date"),
    )

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False)
    record_type: Mapped[str] = mapped_column(String(32), nullable=False)
    record_date: Mapped[date] = mapped_column(Date, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    """JSON: what the public may see of it (counts, never names)."""
    uploaded_by: Mapped[str] = mapped_column(String(64), nullable=False)


class LotRow(Base):
    """A received ingredient lot (from a purchase inspection): the provenance consumers see."""

    __tablename__ = "lots"
    __table_args__ = (
        Index("ix_lots_gtin_lot", "gtin", "lot_code"),
        Index("ix_lots_premises_received", "premises_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False)
    gtin: Mapped[str | None] = mapped_column(String(14), nullable=True)
    lot_code: Mapped[str] = mapped_column(String(80), nullable=False)
    product: Mapped[str] = mapped_column(String(200), nullable=False)
    supplier: Mapped[str] = mapped_column(String(200), nullable=False)
    supplier_licence: Mapped[str | None] = mapped_column(String(64), nullable=True)
    supplier_certificate_expires: Mapped[date | None] = mapped_column(Date, nullable=True)
    quantity: Mapped[float] = mapped_column(Float, nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    production_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    shelf_life_days: Mapped[int | None] = mapped_column(Integer, nullable=True)
    received_on: Mapped[date] = mapped_column(Date, nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)


class AlertTransitionRow(Base):
    """One step of an alert's lifecycle, with who made it; also an event in the log."""

    __tablename__ = "alert_transitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    from_status: Mapped[str | None] = mapped_column(String(24), nullable=True)
    to_status: Mapped[str] = mapped_column(String(24), nullable=False)
    actor: Mapped[str] = mapped_column(String(100), nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    evidence: Mapped[str] = mapped_column(Text, nullable=False, server_default="[]")
    """JSON list of attachment SHA-256 hex digests."""
    at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)


class WebhookDeliveryRow(Base):
    """Outbox of webhook calls: written in the transaction, sent after commit, retried."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    org_id: Mapped[str] = mapped_column(String(64), nullable=False)
    topic: Mapped[str] = mapped_column(String(40), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class InspectionRow(Base):
    """An official inspection by a regulator; its event in the log holds the items."""

    __tablename__ = "inspections"
    __table_args__ = (Index("ix_inspections_premises_date", "premises_id", "inspected_on"),)

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False)
    regulator_org: Mapped[str] = mapped_column(String(64), nullable=False)
    inspected_on: Mapped[date] = mapped_column(Date, nullable=False)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    result: Mapped[str | None] = mapped_column(String(16), nullable=True)
    """The cn result (excellent / good / fair); None under other schemes."""
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    """JSON: items, findings and counts as published."""
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    # Schemes and imported history (issue 18); each follows from the event's payload.
    scheme: Mapped[str] = mapped_column(String(32), nullable=False, server_default="cn")
    inspection_type: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rating: Mapped[str | None] = mapped_column(String(40), nullable=True)
    """The published rating under the scheme (derived, or the authority's as given)."""
    authority_rating: Mapped[str | None] = mapped_column(String(40), nullable=True)
    sub_scores: Mapped[str | None] = mapped_column(Text, nullable=True)
    """JSON object of sub-scores (FHRS hygiene / structural / confidence in management)."""
    violations: Mapped[str] = mapped_column(Text, nullable=False, server_default="[]")
    """JSON list of {code, description, risk_category}."""
    historical: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )


class GradeRow(Base):
    """The annual A/B/C grade of a premises, or none (with the reason) in a no-grade period."""

    __tablename__ = "grades"

    premises_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    decided_by: Mapped[str] = mapped_column(String(64), nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)


class CameraRow(Base):
    """A kitchen camera of a premises: its checker configuration (JSON, as
    ``kitchen_vision.config`` reads it) and when it last delivered a frame."""

    __tablename__ = "cameras"

    camera_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    config: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    """``active`` or ``retired``; being online is judged from ``last_frame_at``."""
    last_frame_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    frames_analysed: Mapped[int] = mapped_column(
        BigInteger, nullable=False, default=0, server_default="0"
    )
    alerts_by_kind: Mapped[str] = mapped_column(
        Text, nullable=False, default="{}", server_default="{}"
    )
    """JSON: alerts the checker opened for this camera, by rule."""
    detectors: Mapped[str] = mapped_column(Text, nullable=False, default="[]", server_default="[]")
    """JSON: the detectors that ran on its latest frames (the face detector by its backend)."""


class KitchenSnapshotRow(Base):
    """A public kitchen snapshot (faces blurred), kept by its SHA-256 until retention ends;
    the ``vision_observation`` event that logged its hash stays in the log for ever."""

    __tablename__ = "kitchen_snapshots"
    __table_args__ = (Index("ix_kitchen_snapshots_camera_id", "camera_id", "taken_at"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    camera_id: Mapped[str] = mapped_column(String(64), nullable=False)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    media_type: Mapped[str] = mapped_column(String(32), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class ProbeDaySummaryRow(Base):
    """A cache of the newest ``probe_day_summary`` event of a probe's local day (the
    closed one once the day ended, else the latest running one); the event is the fact."""

    __tablename__ = "probe_day_summaries"

    device_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    premises_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    through: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    count: Mapped[int] = mapped_column(Integer, nullable=False)
    min: Mapped[float | None] = mapped_column(Float, nullable=True)
    mean: Mapped[float | None] = mapped_column(Float, nullable=True)
    max: Mapped[float | None] = mapped_column(Float, nullable=True)
    minutes_out_of_range: Mapped[float | None] = mapped_column(Float, nullable=True)
    first_leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    last_leaf_index: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    readings_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False)
