"""Probe readings in: the wire format checked, signatures verified, sequences enforced,
every reading logged as its own event, and the food-safety rules run on them.

Each rejection has its own code, and a submission with one bad reading is
refused whole: nothing of it is stored (the checks all run before the first
write, and the writes share one transaction).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import math
import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.orm import Session

from traceability.devices import repository as devices_repo
from traceability.devices.judging import Judgement, ProbeRules
from traceability.errors import Invalid
from traceability.storage.models import DeviceRow, GatewayBatchRow
from traceability.transparency.canonical import (
    FixedKeys,
    canonical_array,
    canonical_number,
    canonical_string,
    canonical_text,
)
from traceability.transparency.checkpoints import NoteSigner
from traceability.transparency.events import EventKind, PreparedEvent, prepared, rfc3339
from traceability.transparency.ingest import Ingest
from traceability.transparency.log import TransparencyLog

logger = logging.getLogger("sunledger.intake")

MAX_READINGS = 1000
MAX_SEQ = 2**53  # sequence numbers stay exact in JSON (RFC 8785 numbers are doubles)
READING_NAMESPACE = uuid.UUID("6d1c5e0a-7b9f-4f43-9a63-0f1f1f6b7e11")
# Matched with ``fullmatch``: ``$`` alone would let a trailing newline through.
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z", re.ASCII)

# (EPCIS type, UN/ECE Rec 20 unit) -> what a probe can physically report.
PHYSICAL_RANGE: dict[tuple[str, str], tuple[float, float]] = {
    ("Temperature", "CEL"): (-80.0, 400.0),
    ("Chlorine", "MGL"): (0.0, 10_000.0),
    ("RelativeHumidity", "P1"): (0.0, 100.0),
    ("Duration", "SEC"): (0.0, 7 * 86_400.0),
}

# The RFC 8785 shapes a reading is logged in, composed from parts canonicalised once.
_VALUE = FixedKeys("type", "value", "uom")
_UNSIGNED = FixedKeys("device_id", "seq", "measured_at", "values")
_GATEWAY_BATCH = FixedKeys("gateway_id", "seq", "readings")
_SIGNED_PAYLOAD = FixedKeys("device_id", "seq", "measured_at", "values", "key_id", "signature")
_GATEWAY_PAYLOAD = FixedKeys("device_id", "seq", "measured_at", "values", "gateway")

# Rejection codes, each its own failure.
MALFORMED = "malformed"
BATCH_TOO_LARGE = "batch_too_large"
UNKNOWN_DEVICE = "unknown_device"
RETIRED_DEVICE = "retired_device"
BAD_SIGNATURE = "bad_signature"
REPLAYED_SEQUENCE = "replayed_sequence"
NON_INCREASING_SEQUENCE = "non_increasing_sequence"
FROM_THE_FUTURE = "time_in_future"
TOO_OLD = "time_too_old"
IMPOSSIBLE_VALUE = "impossible_value"
UNKNOWN_GATEWAY = "unknown_gateway"
RETIRED_GATEWAY = "retired_gateway"
GATEWAY_NOT_AUTHORISED = "gateway_not_authorised"
REJECTION_CODES = (
    MALFORMED,
    BATCH_TOO_LARGE,
    UNKNOWN_DEVICE,
    RETIRED_DEVICE,
    BAD_SIGNATURE,
    REPLAYED_SEQUENCE,
    NON_INCREASING_SEQUENCE,
    FROM_THE_FUTURE,
    TOO_OLD,
    IMPOSSIBLE_VALUE,
    UNKNOWN_GATEWAY,
    RETIRED_GATEWAY,
    GATEWAY_NOT_AUTHORISED,
)


class ReadingRejected(Invalid):
    """A submission refused because of one reading (or the envelope); nothing was stored."""

    def __init__(
        self, code: str, detail: str, *, reading: int | None = None, device_id: str | None = None
    ) -> None:
        where = (
            ""
            if reading is None
            else f"reading {reading}" + (f" ({device_id})" if device_id else "") + ": "
        )
        super().__init__(where + detail)
        self.code = code
        self.reading = reading
        self.device_id = device_id

    def extra(self) -> dict[str, Any]:
        return {"code": self.code, "reading": self.reading, "device_id": self.device_id}


@dataclass(frozen=True)
class WireReading:
    index: int
    device_id: str
    seq: int
    measured_at: datetime
    measured_text: str
    values: list[dict[str, Any]]
    unsigned: dict[str, Any]
    unsigned_text: str
    """The RFC 8785 text of ``unsigned``, built once from the checked parts."""
    values_text: str
    signature: bytes | None


@dataclass(frozen=True)
class Submission:
    """Readings each signed by its device, or one batch signed by a gateway."""

    readings: list[WireReading]
    gateway_id: str | None = None
    gateway_seq: int | None = None
    gateway_signature: bytes | None = None
    batch_bytes: bytes | None = None


@dataclass
class IntakeResult:
    accepted: int
    first_leaf_index: int
    recorded_at: str
    events: list[dict[str, Any]] = field(default_factory=list)
    alerts_opened: list[str] = field(default_factory=list)
    alerts_recovered: list[str] = field(default_factory=list)


def _b64(text: Any, what: str, index: int | None, device: str | None) -> bytes:
    if not isinstance(text, str):
        raise ReadingRejected(MALFORMED, f"{what} must be a base64 string", reading=index)
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ReadingRejected(
            MALFORMED, f"{what} is not base64", reading=index, device_id=device
        ) from None
    if len(raw) != 64:
        raise ReadingRejected(
            BAD_SIGNATURE, f"{what} is {len(raw)} bytes, not 64", reading=index, device_id=device
        )
    return raw


def _shown_number(number: float) -> str:
    """A number for a refusal's text: a huge whole number by its size, not its digits."""
    if isinstance(number, int) and number.bit_length() > 53:
        return f"(a whole number of {number.bit_length()} bits)"
    return repr(number)


def _reading(raw: Any, index: int, *, signed: bool) -> WireReading:
    if not isinstance(raw, dict):
        raise ReadingRejected(MALFORMED, "a reading must be a JSON object", reading=index)
    device_id = raw.get("device_id")
    shown = device_id if isinstance(device_id, str) and len(device_id) <= 64 else None
    expected = {"device_id", "seq", "measured_at", "values"} | ({"sig"} if signed else set())
    if set(raw) != expected:
        missing, extra = expected - set(raw), set(raw) - expected
        parts = ([f"missing {sorted(missing)}"] if missing else []) + (
            [f"unexpected {sorted(extra)}"] if extra else []
        )
        raise ReadingRejected(MALFORMED, "; ".join(parts), reading=index, device_id=shown)
    if not isinstance(device_id, str) or not _ID.fullmatch(device_id):
        raise ReadingRejected(MALFORMED, "device_id is not a valid id", reading=index)
    seq = raw["seq"]
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise ReadingRejected(
            MALFORMED, "seq must be a whole number 0..2^53", reading=index, device_id=device_id
        )
    text = raw["measured_at"]
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise ReadingRejected(
            MALFORMED,
            "measured_at must be RFC 3339 UTC like 2026-11-25T10:00:00Z",
            reading=index,
            device_id=device_id,
        )
    try:
        measured_at = datetime.fromisoformat(text).astimezone(UTC)
    except ValueError:
        raise ReadingRejected(
            MALFORMED, f"measured_at {text} is not a real time", reading=index, device_id=device_id
        ) from None
    values = raw["values"]
    if not isinstance(values, list) or not 1 <= len(values) <= 16:
        raise ReadingRejected(
            MALFORMED, "values must be a list of 1 to 16 values", reading=index, device_id=device_id
        )
    value_texts = []
    for value in values:
        if not isinstance(value, dict) or set(value) != {"type", "value", "uom"}:
            raise ReadingRejected(
                MALFORMED,
                'each value must be {"type", "value", "uom"}',
                reading=index,
                device_id=device_id,
            )
        number = value["value"]
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise ReadingRejected(
                MALFORMED, "a value must be a number", reading=index, device_id=device_id
            )
        kind, unit = value["type"], value["uom"]
        if not isinstance(kind, str) or not isinstance(unit, str):
            raise ReadingRejected(
                MALFORMED,
                "a value's type and uom must be strings",
                reading=index,
                device_id=device_id,
            )
        bounds = PHYSICAL_RANGE.get((kind, unit))
        if bounds is None:
            raise ReadingRejected(
                MALFORMED,
                f"unknown type/unit {kind[:40]!r}/{unit[:40]!r} "
                f"(known: {', '.join(f'{t}/{u}' for t, u in PHYSICAL_RANGE)})",
                reading=index,
                device_id=device_id,
            )
        # Whole numbers are compared as they are: a 401-digit one does not fit a float.
        if (isinstance(number, float) and not math.isfinite(number)) or not (
            bounds[0] <= number <= bounds[1]
        ):
            shown = _shown_number(number)
            raise ReadingRejected(
                IMPOSSIBLE_VALUE,
                f"{kind} {shown} {unit} is outside what a probe can measure "
                f"({bounds[0]}..{bounds[1]})",
                reading=index,
                device_id=device_id,
            )
        value_texts.append(
            _VALUE.text(
                type=canonical_string(kind),
                value=canonical_number(number),
                uom=canonical_string(unit),
            )
        )
    signature = _b64(raw["sig"], "sig", index, device_id) if signed else None
    unsigned = {k: raw[k] for k in ("device_id", "seq", "measured_at", "values")}
    values_text = canonical_array(value_texts)
    unsigned_text = _UNSIGNED.text(
        device_id=canonical_string(device_id),
        seq=canonical_number(seq),
        measured_at=canonical_string(text),
        values=values_text,
    )
    return WireReading(
        index,
        device_id,
        seq,
        measured_at,
        text,
        values,
        unsigned,
        unsigned_text,
        values_text,
        signature,
    )


UNFORESEEN_SHAPE = "the submission's shape is not one this server reads"


def parse_submission(body: Any) -> Submission:
    """Check the shape of ``{"readings": [...]}`` or a gateway batch; nothing is looked up yet.

    Any JSON value is either parsed or refused with ``ReadingRejected`` (code
    ``malformed`` or another of ``REJECTION_CODES``), before any signature is checked. Each
    check names what is wrong; a shape no check foresaw is still refused, never raised.
    """
    try:
        return _parse_submission(body)
    except ReadingRejected:
        raise
    except (TypeError, ValueError, OverflowError, KeyError, AttributeError, RecursionError):
        logger.warning("unforeseen submission shape refused", exc_info=True)
        raise ReadingRejected(MALFORMED, UNFORESEEN_SHAPE) from None


def _parse_submission(body: Any) -> Submission:
    if not isinstance(body, dict):
        raise ReadingRejected(MALFORMED, "the body must be a JSON object")
    readings = body.get("readings")
    if not isinstance(readings, list) or not readings:
        raise ReadingRejected(MALFORMED, '"readings" must be a non-empty list')
    if len(readings) > MAX_READINGS:
        raise ReadingRejected(
            BATCH_TOO_LARGE, f"{len(readings)} readings; at most {MAX_READINGS} per submission"
        )
    if "gateway_id" not in body:
        if set(body) != {"readings"}:
            raise ReadingRejected(
                MALFORMED, f"unexpected fields {sorted(set(body) - {'readings'})}"
            )
        return Submission([_reading(r, i, signed=True) for i, r in enumerate(readings)])
    if set(body) != {"gateway_id", "seq", "readings", "sig"}:
        raise ReadingRejected(MALFORMED, "a gateway batch is {gateway_id, seq, readings, sig}")
    gateway_id, seq = body["gateway_id"], body["seq"]
    if not isinstance(gateway_id, str) or not _ID.fullmatch(gateway_id):
        raise ReadingRejected(MALFORMED, "gateway_id is not a valid id")
    if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= MAX_SEQ:
        raise ReadingRejected(MALFORMED, "the batch seq must be a whole number 0..2^53")
    signature = _b64(body["sig"], "the batch sig", None, None)
    parsed = [_reading(r, i, signed=False) for i, r in enumerate(readings)]
    # The batch's RFC 8785 bytes, composed from each reading's.
    batch_bytes = _GATEWAY_BATCH.text(
        gateway_id=canonical_string(gateway_id),
        seq=canonical_number(seq),
        readings=canonical_array(r.unsigned_text for r in parsed),
    ).encode()
    return Submission(parsed, gateway_id, seq, signature, batch_bytes)


def _with_micros(text: str) -> str:
    """``...:00Z`` or ``...:00.5Z`` as ``...:00.000000Z``: the log's one spelling of a time."""
    seconds, dot, fraction = text[:-1].partition(".")
    return f"{seconds}.{(fraction if dot else '').ljust(6, '0')}Z"


_KEYS: dict[bytes, Ed25519PublicKey] = {}


def _verify(public_key: bytes, signature: bytes, message: bytes) -> bool:
    key = _KEYS.get(public_key)
    if key is None:
        key = Ed25519PublicKey.from_public_bytes(public_key)
        if len(_KEYS) < 100_000:
            _KEYS[public_key] = key
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


_NAMESPACE_BYTES = READING_NAMESPACE.bytes


def reading_event_id(device_id: str, seq: int) -> str:
    """``uuid5(READING_NAMESPACE, "device:seq")``, spelled out: ``uuid.UUID`` is slow here."""
    digest = bytearray(hashlib.sha1(_NAMESPACE_BYTES + f"{device_id}:{seq}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass(frozen=True)
class IntakePolicy:
    max_future: timedelta = timedelta(minutes=5)
    max_age: timedelta = timedelta(days=7)


class ProbeIntake:
    """Verifies and logs probe readings for one log."""

    def __init__(
        self,
        log: TransparencyLog,
        signer: NoteSigner,
        policy: IntakePolicy | None = None,
        rules: ProbeRules | None = None,
    ) -> None:
        self.log = log
        self.signer = signer
        self.policy = policy or IntakePolicy()
        self.ingest = Ingest(log)
        self.rules = rules or ProbeRules()

    def verify(self, session: Session, submission: Submission, now: datetime) -> dict[str, str]:
        """Every check that needs no lock: devices known and active, signatures, times.

        Returns the key id that signed each device's readings (or the gateway's).
        """
        readings = submission.readings
        known = devices_repo.devices(session, (r.device_id for r in readings))
        keys = devices_repo.active_keys(session, "device", known)
        for reading in readings:
            device = known.get(reading.device_id)
            if device is None:
                raise ReadingRejected(
                    UNKNOWN_DEVICE,
                    "no such device is registered",
                    reading=reading.index,
                    device_id=reading.device_id,
                )
            if device.status != "active" or reading.device_id not in keys:
                raise ReadingRejected(
                    RETIRED_DEVICE,
                    "the device is retired",
                    reading=reading.index,
                    device_id=reading.device_id,
                )
            if reading.measured_at > now + self.policy.max_future:
                raise ReadingRejected(
                    FROM_THE_FUTURE,
                    f"measured_at {reading.measured_text} is more than "
                    f"{self.policy.max_future} ahead of the server clock",
                    reading=reading.index,
                    device_id=reading.device_id,
                )
            if reading.measured_at < now - self.policy.max_age:
                raise ReadingRejected(
                    TOO_OLD,
                    f"measured_at {reading.measured_text} is older than {self.policy.max_age}",
                    reading=reading.index,
                    device_id=reading.device_id,
                )
        if submission.gateway_id is None:
            for reading in readings:
                key = keys[reading.device_id]
                assert reading.signature is not None
                if not _verify(
                    bytes(key.public_key), reading.signature, reading.unsigned_text.encode()
                ):
                    raise ReadingRejected(
                        BAD_SIGNATURE,
                        f"the signature does not verify with the device's key {key.key_id}",
                        reading=reading.index,
                        device_id=reading.device_id,
                    )
            return {device_id: key.key_id for device_id, key in keys.items()}
        gateway = devices_repo.gateway(session, submission.gateway_id)
        if gateway is None:
            raise ReadingRejected(UNKNOWN_GATEWAY, f"no gateway {submission.gateway_id}")
        gateway_key = devices_repo.active_keys(session, "gateway", [gateway.gateway_id]).get(
            gateway.gateway_id
        )
        if gateway.status != "active" or gateway_key is None:
            raise ReadingRejected(RETIRED_GATEWAY, f"gateway {gateway.gateway_id} is retired")
        for reading in readings:
            if known[reading.device_id].premises_id != gateway.premises_id:
                raise ReadingRejected(
                    GATEWAY_NOT_AUTHORISED,
                    f"gateway {gateway.gateway_id} serves premises {gateway.premises_id}, "
                    f"not this device's",
                    reading=reading.index,
                    device_id=reading.device_id,
                )
        assert submission.gateway_signature is not None and submission.batch_bytes is not None
        if not _verify(
            bytes(gateway_key.public_key), submission.gateway_signature, submission.batch_bytes
        ):
            raise ReadingRejected(
                BAD_SIGNATURE,
                f"the batch signature does not verify with gateway key {gateway_key.key_id}",
            )
        return {"": gateway_key.key_id}

    def accept(self, session: Session, submission: Submission, now: datetime) -> IntakeResult:
        """Verify, then log everything under the log lock. The caller commits."""
        signed_by = self.verify(session, submission, now)
        first = self.log.lock(session)  # serialises intake: sequence checks and appends
        readings = submission.readings
        known = devices_repo.devices(session, (r.device_id for r in readings))
        last: dict[str, int] = {d: row.last_seq for d, row in known.items()}
        for reading in readings:
            if reading.seq <= last[reading.device_id]:
                code = (
                    REPLAYED_SEQUENCE
                    if reading.seq <= known[reading.device_id].last_seq
                    else NON_INCREASING_SEQUENCE
                )
                raise ReadingRejected(
                    code,
                    f"seq {reading.seq} is not above {last[reading.device_id]}",
                    reading=reading.index,
                    device_id=reading.device_id,
                )
            last[reading.device_id] = reading.seq
        gateway: dict[str, Any] | None = None
        if submission.gateway_id is not None:
            row = devices_repo.gateway(session, submission.gateway_id)
            assert row is not None and submission.gateway_seq is not None
            if submission.gateway_seq <= row.last_seq:
                raise ReadingRejected(
                    REPLAYED_SEQUENCE,
                    f"batch seq {submission.gateway_seq} is not above {row.last_seq}",
                )
            assert submission.batch_bytes is not None and submission.gateway_signature
            digest = hashlib.sha256(submission.batch_bytes).digest()
            gateway = {
                "gateway_id": submission.gateway_id,
                "seq": submission.gateway_seq,
                "key_id": signed_by[""],
                "batch_sha256": digest.hex(),
            }
            devices_repo.add(
                session,
                GatewayBatchRow(
                    batch_sha256=digest,
                    gateway_id=submission.gateway_id,
                    seq=submission.gateway_seq,
                    key_id=signed_by[""],
                    signature=submission.gateway_signature,
                    body=submission.batch_bytes,
                    received_at=now,
                ),
            )
            devices_repo.advance_gateway(session, submission.gateway_id, submission.gateway_seq)
        recorded = rfc3339(now)
        gateway_text = None if gateway is None else canonical_text(gateway)
        events = [self._event(r, recorded, now, signed_by, gateway, gateway_text) for r in readings]
        leaves = self.ingest.store(session, first, events)
        result = IntakeResult(
            accepted=len(events),
            first_leaf_index=first,
            recorded_at=recorded,
            events=[
                {"event_id": e.event_id, "leaf_index": first + i, "leaf_hash": leaf.hex()}
                for i, (e, leaf) in enumerate(zip(events, leaves, strict=True))
            ],
        )
        self._judge(session, known, readings, now, recorded, result)
        return result

    @staticmethod
    def _event(
        reading: WireReading,
        recorded: str,
        now: datetime,
        signed_by: Mapping[str, str],
        gateway: dict[str, Any] | None,
        gateway_text: str | None,
    ) -> PreparedEvent:
        payload: dict[str, Any] = dict(reading.unsigned)
        # The payload's RFC 8785 text from the parts canonicalised at parse time.
        device_id = canonical_string(reading.device_id)
        seq = canonical_number(reading.seq)
        measured_at = canonical_string(reading.measured_text)
        if gateway is None or gateway_text is None:
            assert reading.signature is not None
            key_id = signed_by[reading.device_id]
            signature = base64.b64encode(reading.signature).decode()
            payload["key_id"] = key_id
            payload["signature"] = signature
            payload_text = _SIGNED_PAYLOAD.text(
                device_id=device_id,
                seq=seq,
                measured_at=measured_at,
                values=reading.values_text,
                key_id=canonical_string(key_id),
                signature=canonical_string(signature),
            )
        else:
            payload["gateway"] = gateway
            payload_text = _GATEWAY_PAYLOAD.text(
                device_id=device_id,
                seq=seq,
                measured_at=measured_at,
                values=reading.values_text,
                gateway=gateway_text,
            )
        return prepared(
            event_id=reading_event_id(reading.device_id, reading.seq),
            kind=EventKind.PROBE_READING,
            subject=f"device:{reading.device_id}",
            occurred_at=reading.measured_at,
            occurred_text=_with_micros(reading.measured_text),
            recorded_at=now,
            recorded_text=recorded,
            payload=payload,
            payload_text=payload_text,
        )

    def _judge(
        self,
        session: Session,
        known: Mapping[str, DeviceRow],
        readings: Sequence[WireReading],
        now: datetime,
        recorded: str,
        result: IntakeResult,
    ) -> None:
        by_device: dict[str, list[WireReading]] = {}
        for reading in readings:
            by_device.setdefault(reading.device_id, []).append(reading)
        updates = []
        outcome = self.rules.judge(
            session,
            [
                (known[device_id], [(r.measured_at, r.values) for r in group])
                for device_id, group in by_device.items()
            ],
            now,
        )
        for device_id, group in by_device.items():
            updates.append(
                {
                    "device_id": device_id,
                    "last_seq": group[-1].seq,
                    "last_reading_at": max(r.measured_at for r in group),
                    "rule_state": json.dumps(outcome.states[device_id]),
                }
            )
        devices_repo.advance_devices(session, updates)
        if outcome.events:
            self.ingest.store(session, result.first_leaf_index + result.accepted, outcome.events)
        result.alerts_opened.extend(outcome.opened)
        result.alerts_recovered.extend(outcome.recovered)


def watch(intake: ProbeIntake, session: Session, now: datetime) -> Judgement:
    """Let time pass for every active device (silent probes); log what the rules decide."""
    first = intake.log.lock(session)
    active = list(devices_repo.active_devices(session))
    judgement = intake.rules.tick(session, active, now)
    devices_repo.advance_devices(
        session,
        [
            {
                "device_id": device.device_id,
                "last_seq": device.last_seq,
                "last_reading_at": device.last_reading_at,
                "rule_state": json.dumps(judgement.states[device.device_id]),
            }
            for device in active
        ],
    )
    if judgement.events:
        intake.ingest.store(session, first, judgement.events)
    return judgement
