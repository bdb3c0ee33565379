"""The device registry: probes and gateways, their Ed25519 keys, rotation and retirement."""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from traceability.devices import repository as repo
from traceability.errors import Conflict, Invalid, NotFound
from traceability.rules.device_kinds import DEVICE_KINDS as DEVICE_KINDS
from traceability.rules.profiles import PROFILES as PROFILES
from traceability.storage.models import DeviceRow, GatewayRow, SignerKeyRow

ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def key_id_of(public_key: bytes) -> str:
    """A key's id: the first 8 bytes of SHA-256 of the raw key, in hex."""
    return hashlib.sha256(public_key).digest()[:8].hex()


def decode_public_key(text: str) -> bytes:
    """A raw 32-byte Ed25519 key from base64 (or 64 hex digits)."""
    try:
        raw = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error):
        raise Invalid("public_key must be 32 bytes in base64 or hex") from None
    if len(raw) != 32:
        raise Invalid(f"public_key must be 32 bytes, got {len(raw)}")
    return raw


def _check_id(what: str, value: str) -> None:
    if not ID_PATTERN.match(value):
        raise Invalid(f"{what} {value!r} must be 1-64 letters, digits, '.', '_' or '-'")


@dataclass(frozen=True)
class DeviceInfo:
    device_id: str
    premises_id: str
    location: str
    kind: str
    profile: str
    status: str
    key_id: str | None
    last_seq: int


def _info(row: DeviceRow, key: SignerKeyRow | None) -> DeviceInfo:
    return DeviceInfo(
        row.device_id,
        row.premises_id,
        row.location,
        row.kind,
        row.profile,
        row.status,
        None if key is None else key.key_id,
        row.last_seq,
    )


class DeviceRegistry:
    """Registers, rotates and retires probes and gateways. Services flush; callers commit."""

    def register_device(
        self,
        session: Session,
        *,
        device_id: str,
        premises_id: str,
        location: str,
        kind: str,
        profile: str,
        public_key: bytes,
        now: datetime,
    ) -> DeviceInfo:
        _check_id("device_id", device_id)
        _check_id("premises_id", premises_id)
        if kind not in DEVICE_KINDS:
            raise Invalid(f"kind {kind!r} is not one of {', '.join(DEVICE_KINDS)}")
        if profile not in PROFILES:
            raise Invalid(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
        if not location.strip() or len(location) > 200:
            raise Invalid("location must be 1-200 characters")
        if repo.device(session, device_id) is not None:
            raise Conflict(f"device {device_id} is already registered")
        if repo.gateway(session, device_id) is not None:
            raise Conflict(f"{device_id} is a gateway's id")
        row = DeviceRow(
            device_id=device_id,
            premises_id=premises_id,
            location=location.strip(),
            kind=kind,
            profile=profile,
            status="active",
            last_seq=-1,
            registered_at=now,
        )
        repo.add(session, row)
        key = self._add_key(session, "device", device_id, public_key, now)
        return _info(row, key)

    def register_gateway(
        self,
        session: Session,
        *,
        gateway_id: str,
        premises_id: str,
        public_key: bytes,
        now: datetime,
    ) -> str:
        _check_id("gateway_id", gateway_id)
        _check_id("premises_id", premises_id)
        if repo.gateway(session, gateway_id) is not None or repo.device(session, gateway_id):
            raise Conflict(f"{gateway_id} is already registered")
        repo.add(
            session,
            GatewayRow(
                gateway_id=gateway_id,
                premises_id=premises_id,
                status="active",
                last_seq=-1,
                registered_at=now,
            ),
        )
        return self._add_key(session, "gateway", gateway_id, public_key, now).key_id

    def _add_key(
        self, session: Session, owner_type: str, owner_id: str, public_key: bytes, now: datetime
    ) -> SignerKeyRow:
        if len(public_key) != 32:
            raise Invalid("an Ed25519 public key is 32 bytes")
        key_id = key_id_of(public_key)
        if repo.key(session, key_id) is not None:
            raise Conflict(f"key {key_id} is already registered; every device needs its own key")
        row = SignerKeyRow(
            key_id=key_id,
            owner_type=owner_type,
            owner_id=owner_id,
            public_key=public_key,
            valid_from=now,
        )
        repo.add(session, row)
        return row

    def rotate_key(
        self, session: Session, owner_type: str, owner_id: str, public_key: bytes, now: datetime
    ) -> str:
        """Make a new key current; the old one ends now but stays for verifying old readings."""
        owner = (
            repo.device(session, owner_id)
            if owner_type == "device"
            else repo.gateway(session, owner_id)
        )
        if owner is None:
            raise NotFound(f"no {owner_type} {owner_id}")
        if owner.status != "active":
            raise Conflict(f"{owner_type} {owner_id} is retired")
        repo.end_keys(session, owner_type, owner_id, now)
        return self._add_key(session, owner_type, owner_id, public_key, now).key_id

    def retire(self, session: Session, owner_type: str, owner_id: str, now: datetime) -> None:
        """Refuse the device's (or gateway's) readings from now on; its history stays."""
        owner = (
            repo.device(session, owner_id)
            if owner_type == "device"
            else repo.gateway(session, owner_id)
        )
        if owner is None:
            raise NotFound(f"no {owner_type} {owner_id}")
        owner.status = "retired"
        owner.retired_at = now
        repo.end_keys(session, owner_type, owner_id, now)
        session.flush()

    def describe(self, session: Session, device_id: str) -> DeviceInfo:
        row = repo.device(session, device_id)
        if row is None:
            raise NotFound(f"no device {device_id}")
        key = repo.active_keys(session, "device", [device_id]).get(device_id)
        return _info(row, key)

    def keys(self, session: Session, owner_type: str, owner_id: str) -> list[SignerKeyRow]:
        return list(repo.keys_of(session, owner_type, owner_id))
