"""Ed25519 checkpoint cosignatures, C2SP tlog-cosignature ``cosignature/v1``.

A cosignature is a signed-note signature line by the witness::

    — <witness name> base64(key ID || u64 timestamp || Ed25519 signature)

The key ID is ``SHA-256(name || 0x0A || 0x04 || public key)[:4]`` and the
signature covers ``"cosignature/v1\\n" "time <timestamp>\\n"`` followed by the
checkpoint's note text (with its final newline, without any signature line).

Keys are written like signed-note keys with signature type ``0x04``:

* verifier key ``<name>+<8 hex key ID>+<base64(0x04 || public key)>``
* signer key ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x04 || 32-byte seed)>``
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from traceability.errors import Invalid, VerificationError
from traceability.private_files import create_private_file, read_private_file
from traceability.transparency.checkpoints import EM_DASH

ALG_COSIGNATURE_V1 = 0x04
"""The signed-note signature type of timestamped Ed25519 checkpoint cosignatures."""

MAX_TIMESTAMP = 2**63 - 1
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_LINE = re.compile(EM_DASH + r" (\S+) ([A-Za-z0-9+/=]+)")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if _b64(raw) == text else None


def _check_name(name: str, what: str) -> None:
    if not name or "+" in name or any(ch.isspace() or ord(ch) < 0x20 for ch in name):
        raise VerificationError(f"malformed {what}: bad key name {name!r}")


def cosignature_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """``SHA-256(name || 0x0A || 0x04 || public key)[:4]``."""
    data = name.encode() + b"\n" + bytes([ALG_COSIGNATURE_V1]) + public_key.public_bytes_raw()
    return hashlib.sha256(data).digest()[:4]


def signed_message(body: bytes, timestamp: int) -> bytes:
    """What a ``cosignature/v1`` signature covers."""
    return b"cosignature/v1\ntime " + str(timestamp).encode() + b"\n" + body


@dataclass(frozen=True)
class Cosignature:
    """One verified cosignature: who, and when (POSIX seconds)."""

    name: str
    key_id: bytes
    timestamp: int
    line: str


@dataclass(frozen=True)
class CosignatureVerifier:
    """A witness's public key, as a verifier of its ``cosignature/v1`` lines."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return cosignature_key_id(self.name, self.public_key)

    def vkey(self) -> str:
        raw = bytes([ALG_COSIGNATURE_V1]) + self.public_key.public_bytes_raw()
        return f"{self.name}+{self.key_id.hex()}+{_b64(raw)}"

    @classmethod
    def from_vkey(cls, text: str) -> CosignatureVerifier:
        """Parse ``<name>+<hex ID>+<base64(0x04 || key)>``; VerificationError names the fault."""
        parts = text.strip().split("+", 2) if isinstance(text, str) else []
        if len(parts) != 3:
            raise VerificationError(f"malformed witness key {text!r}: expected name+id+key")
        name, id_hex, key_b64 = parts
        _check_name(name, "witness key")
        if _HEX8.fullmatch(id_hex) is None:
            raise VerificationError(f"malformed witness key {name}: key ID is not 8 hex digits")
        raw = _unb64(key_b64)
        if raw is None or len(raw) != 33:
            raise VerificationError(f"malformed witness key {name}: key is not base64 of 33 bytes")
        if raw[0] != ALG_COSIGNATURE_V1:
            raise VerificationError(
                f"witness key {name} has signature type {raw[0]:#04x}, "
                f"not {ALG_COSIGNATURE_V1:#04x} (Ed25519 cosignature/v1)"
            )
        try:
            verifier = cls(name, Ed25519PublicKey.from_public_bytes(raw[1:]))
        except ValueError as exc:
            raise VerificationError(f"malformed witness key {name}: bad Ed25519 key") from exc
        if verifier.key_id.hex() != id_hex.lower():
            raise VerificationError(
                f"witness key {name}: key ID does not match the key",
                expected=id_hex.lower(),
                computed=verifier.key_id.hex(),
            )
        return verifier

    def matches(self, line: str) -> bool:
        """True when a signature line is by this key (same name and key ID)."""
        found = _LINE.fullmatch(line)
        if found is None or found.group(1) != self.name:
            return False
        raw = _unb64(found.group(2))
        return raw is not None and raw[:4] == self.key_id

    def verify(self, body: bytes, line: str) -> Cosignature:
        """Verify one signature line of this key over a checkpoint's note text."""
        found = _LINE.fullmatch(line)
        raw = None if found is None else _unb64(found.group(2))
        if found is None or raw is None or found.group(1) != self.name or raw[:4] != self.key_id:
            raise VerificationError(f"not a cosignature line of {self.name}: {line!r}")
        if len(raw) != 4 + 8 + 64:
            raise VerificationError(f"cosignature of {self.name} is {len(raw)} bytes, not 76")
        (timestamp,) = struct.unpack(">Q", raw[4:12])
        if timestamp > MAX_TIMESTAMP:
            raise VerificationError(f"cosignature of {self.name} has timestamp over 2**63-1")
        try:
            self.public_key.verify(raw[12:], signed_message(body, timestamp))
        except InvalidSignature as exc:
            raise VerificationError(f"invalid cosignature by witness {self.name}") from exc
        return Cosignature(self.name, self.key_id, timestamp, line)


@dataclass(frozen=True)
class CosignatureSigner:
    """A witness's private key."""

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        try:
            _check_name(self.name, "witness name")
        except VerificationError as exc:
            raise Invalid(exc.detail) from exc

    @property
    def verifier(self) -> CosignatureVerifier:
        return CosignatureVerifier(self.name, self.private_key.public_key())

    def cosign(self, body: bytes, timestamp: int) -> str:
        """The signature line (without its newline) over a checkpoint's note text."""
        if not 0 < timestamp <= MAX_TIMESTAMP:
            raise Invalid(f"cosignature timestamp {timestamp} is not in 1..2**63-1")
        signature = self.private_key.sign(signed_message(body, timestamp))
        blob = self.verifier.key_id + struct.pack(">Q", timestamp) + signature
        return f"{EM_DASH} {self.name} {_b64(blob)}"

    def to_signer_key(self) -> str:
        seed = self.private_key.private_bytes_raw()
        raw = bytes([ALG_COSIGNATURE_V1]) + seed
        return f"{_PRIVATE_PREFIX}{self.name}+{self.verifier.key_id.hex()}+{_b64(raw)}"

    @classmethod
    def generate(cls, name: str) -> CosignatureSigner:
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_signer_key(cls, text: str) -> CosignatureSigner:
        """Parse ``PRIVATE+KEY+...``; errors never show the key."""
        if not text.startswith(_PRIVATE_PREFIX):
            raise VerificationError("witness signer key does not start with PRIVATE+KEY+")
        parts = text[len(_PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise VerificationError("malformed witness signer key")
        name, id_hex, key_b64 = parts
        _check_name(name, "witness signer key")
        raw = _unb64(key_b64)
        if raw is None or len(raw) != 33 or raw[0] != ALG_COSIGNATURE_V1:
            raise VerificationError(
                "malformed witness signer key: not base64 of 0x04 and a 32-byte seed"
            )
        signer = cls(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
        if signer.verifier.key_id.hex() != id_hex.lower():
            raise VerificationError("witness signer key ID does not match the key")
        return signer


def write_witness_key_file(path: Path, signer: CosignatureSigner) -> None:
    """Create a 0600 file with the witness's signer key (refuses to overwrite)."""
    create_private_file(path, signer.to_signer_key() + "\n")


def read_witness_key_file(path: Path) -> CosignatureSigner:
    """Read a witness key file; Invalid names the file, never the key."""
    data = read_private_file(path, "witness key file")
    try:
        return CosignatureSigner.from_signer_key(data.decode("utf-8").strip())
    except (UnicodeDecodeError, VerificationError) as exc:
        reason = exc.detail if isinstance(exc, VerificationError) else "not UTF-8"
        raise Invalid(f"witness key file {path} is malformed: {reason}") from exc


def signature_lines(note: str) -> tuple[bytes, list[str]]:
    """Split a signed note into its text (with final newline) and its signature lines."""
    raw = note.encode("utf-8")
    split = raw.rfind(b"\n\n")
    if split < 0 or not raw.endswith(b"\n"):
        raise VerificationError("malformed note: no blank line before the signatures")
    body, block = raw[: split + 1], raw[split + 2 : -1].decode("utf-8")
    lines = block.split("\n") if block else []
    if not lines or any(not line.startswith(EM_DASH + " ") for line in lines):
        raise VerificationError("malformed note: a signature line does not start with '— '")
    return body, lines
