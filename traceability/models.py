"""SQLAlchemy 2 tables of the core. All SQL against them lives in repositories."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
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
