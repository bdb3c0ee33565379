"""The simulated fleet: restaurants, their probes and gateways, and the keys that sign for them.

Every restaurant gets the device set of a typical kitchen (:data:`DEVICE_SET`)
and one gateway. Keys are Ed25519. Without a keys file they are derived from
the seed and the device id, so the same seed always means the same devices
(and anyone who knows the seed can sign for them: fine for a simulator, never
for a real probe). With a keys file they are random and kept in the file (mode
0600, created with ``O_EXCL``), so a second run reuses the same registered
devices; restaurants added later get new keys appended to it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from traceability.devices.registry import ID_PATTERN, PROFILES
from traceability.errors import Invalid
from traceability.private_files import create_private_file, read_private_file
from traceability.simulator.curves import Measurement
from traceability.transparency.canonical import canonical_bytes

KEYS_FORMAT = "sunledger-simulator-keys/1"
MAX_RESTAURANTS = 10_000

DEVICE_SET: tuple[tuple[str, str, str], ...] = (
    # (role: the device id's suffix, kind, location)
    ("fridge-1", "fridge", "Reach-in fridge, cold kitchen"),
    ("fridge-2", "fridge", "Reach-in fridge, hot line"),
    ("freezer-1", "freezer", "Upright freezer, store room"),
    ("hot-holding-1", "hot_holding", "Bain-marie at the pass"),
    ("core-probe-1", "core_probe", "Core probe, hot line"),
    ("dishwasher-1", "dishwasher", "Door-type dishwasher, final rinse"),
    ("sample-fridge-1", "sample_fridge", "Sample-retention fridge"),
)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class SimDevice:
    """A simulated probe: who it is, where, what it measures, and the key it signs with."""

    device_id: str
    premises_id: str
    role: str
    kind: str
    location: str
    profile: str
    curve_seed: int
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte Ed25519 public key, as registered."""
        return _public_bytes(self.private_key)

    def reading(self, seq: int, measured_at: str, values: Sequence[Measurement]) -> dict[str, Any]:
        """A reading without its signature (as it goes into a gateway batch)."""
        return {
            "device_id": self.device_id,
            "seq": seq,
            "measured_at": measured_at,
            "values": [value.wire() for value in values],
        }

    def sign(self, reading: Mapping[str, Any]) -> dict[str, Any]:
        """The reading with ``sig``: Ed25519 over the RFC 8785 bytes of the reading without it."""
        unsigned = {k: v for k, v in reading.items() if k != "sig"}
        signature = self.private_key.sign(canonical_bytes(unsigned))
        return {**unsigned, "sig": _b64(signature)}


@dataclass(frozen=True)
class SimGateway:
    """A restaurant's gateway: it signs batches of its probes' (unsigned) readings."""

    gateway_id: str
    premises_id: str
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    @property
    def public_key(self) -> bytes:
        return _public_bytes(self.private_key)

    def batch(self, seq: int, readings: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """A signed batch: Ed25519 over the RFC 8785 bytes of the batch without ``sig``."""
        unsigned = {
            "gateway_id": self.gateway_id,
            "seq": seq,
            "readings": [{k: v for k, v in r.items() if k != "sig"} for r in readings],
        }
        return {**unsigned, "sig": _b64(self.private_key.sign(canonical_bytes(unsigned)))}


@dataclass(frozen=True)
class Restaurant:
    premises_id: str
    devices: tuple[SimDevice, ...]
    gateway: SimGateway

    def device(self, role: str) -> SimDevice:
        for device in self.devices:
            if device.role == role:
                return device
        raise KeyError(role)


@dataclass(frozen=True)
class Fleet:
    restaurants: tuple[Restaurant, ...]
    profile: str
    seed: int

    @property
    def devices(self) -> list[SimDevice]:
        return [device for restaurant in self.restaurants for device in restaurant.devices]

    @property
    def gateways(self) -> list[SimGateway]:
        return [restaurant.gateway for restaurant in self.restaurants]


def premises_id(prefix: str, number: int) -> str:
    return f"{prefix}-p-{number:04d}"


def build_fleet(
    restaurants: int,
    *,
    seed: int = 1,
    profile: str = "cn",
    keys_file: Path | None = None,
    prefix: str = "sim",
) -> Fleet:
    """``restaurants`` restaurants ``{prefix}-p-0001``... with their devices and gateways.

    Raises :class:`Invalid` for bad arguments or an unusable keys file; OS errors
    (e.g. a keys file in a missing directory) propagate.
    """
    if not 1 <= restaurants <= MAX_RESTAURANTS:
        raise Invalid(f"restaurants must be 1..{MAX_RESTAURANTS}, not {restaurants}")
    if profile not in PROFILES:
        raise Invalid(f"profile {profile!r} is not one of {', '.join(PROFILES)}")
    longest = f"{premises_id(prefix, restaurants)}-sample-fridge-1"
    if not ID_PATTERN.match(longest):
        raise Invalid(f"prefix {prefix!r} does not make valid device ids (e.g. {longest!r})")
    layout = []
    for number in range(1, restaurants + 1):
        premises = premises_id(prefix, number)
        layout.append((premises, [f"{premises}-{role}" for role, _, _ in DEVICE_SET]))
    owners = [owner for premises, ids in layout for owner in (*ids, f"{premises}-gw")]
    keys = (
        _keys_from_file(keys_file, owners)
        if keys_file is not None
        else {owner: _derived_key(seed, owner) for owner in owners}
    )
    built = []
    for premises, ids in layout:
        devices = tuple(
            SimDevice(
                device_id=device_id,
                premises_id=premises,
                role=role,
                kind=kind,
                location=location,
                profile=profile,
                curve_seed=_curve_seed(seed, device_id),
                private_key=keys[device_id],
            )
            for device_id, (role, kind, location) in zip(ids, DEVICE_SET, strict=True)
        )
        gateway = SimGateway(f"{premises}-gw", premises, keys[f"{premises}-gw"])
        built.append(Restaurant(premises, devices, gateway))
    return Fleet(tuple(built), profile, seed)


def _curve_seed(seed: int, device_id: str) -> int:
    digest = hashlib.sha256(f"sunledger-simulator-curve/{seed}/{device_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _derived_key(seed: int, owner_id: str) -> Ed25519PrivateKey:
    digest = hashlib.sha256(f"sunledger-simulator-key/{seed}/{owner_id}".encode()).digest()
    return Ed25519PrivateKey.from_private_bytes(digest)


# --------------------------------------------------------------------------- keys file


def _keys_from_file(path: Path, owners: Sequence[str]) -> dict[str, Ed25519PrivateKey]:
    """The keys of ``owners`` from ``path``, adding random keys for owners not in it yet."""
    exists = path.exists() or path.is_symlink()
    raw = read_keys_file(path) if exists else {}
    missing = [owner for owner in owners if owner not in raw]
    if missing:
        for owner in missing:
            raw[owner] = secrets.token_bytes(32)
        if exists:
            _replace_keys_file(path, raw)
        else:
            write_keys_file(path, raw)
    return {owner: Ed25519PrivateKey.from_private_bytes(raw[owner]) for owner in owners}


def _keys_json(keys: Mapping[str, bytes]) -> str:
    document = {"format": KEYS_FORMAT, "keys": {k: _b64(keys[k]) for k in sorted(keys)}}
    return json.dumps(document, indent=1) + "\n"


def write_keys_file(path: Path, keys: Mapping[str, bytes]) -> None:
    """Create ``path`` holding the raw private keys, mode 0600 from the start.

    Raises :class:`FileExistsError` when ``path`` exists (also as a symbolic link).
    """
    create_private_file(path, _keys_json(keys))


def _replace_keys_file(path: Path, keys: Mapping[str, bytes]) -> None:
    """Rewrite ``path`` atomically: a new 0600 file beside it, then a rename over it."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    write_keys_file(temporary, keys)
    try:
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def read_keys_file(path: Path) -> dict[str, bytes]:
    """The raw private keys in a keys file, by owner id.

    Raises :class:`Invalid` naming the file (never a key) when it is not a
    regular file, when its mode grants any group or other access, or when its
    content is not a keys document. OS errors propagate.
    """
    content = read_private_file(path, "keys file")
    try:
        document = json.loads(content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Invalid(f"keys file {path} is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != KEYS_FORMAT:
        raise Invalid(f"keys file {path} is not a {KEYS_FORMAT} document")
    entries = document.get("keys")
    if not isinstance(entries, dict):
        raise Invalid(f'keys file {path} has no "keys" object')
    keys: dict[str, bytes] = {}
    for owner, text in entries.items():
        try:
            raw = base64.b64decode(text, validate=True) if isinstance(text, str) else b""
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32 or not ID_PATTERN.match(owner):
            raise Invalid(f"keys file {path}: the entry for {owner[:64]!r} is not a 32-byte key")
        keys[owner] = raw
    return keys
