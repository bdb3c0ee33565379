"""C2SP tlog-checkpoint checkpoints in the C2SP signed-note format, signed with Ed25519.

A *signed note* (c2sp.org/signed-note) is a UTF-8 text ending in a newline, a blank
line, then one or more signature lines::

    — <key name> <base64(4-byte key ID || signature)>

The em dash is U+2014 followed by a space. For Ed25519 (signature type ``0x01``) the
key ID is ``SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4]`` and the
signature covers the note text including its final newline, but not the separating
blank line.

A *checkpoint* (c2sp.org/tlog-checkpoint) is a note whose text is at least three
non-empty lines: the log origin, the tree size in canonical decimal, the base64 root
hash, then optional extension lines.

Key strings follow golang.org/x/mod/sumdb/note:

* verifier key ``<name>+<8 hex key ID>+<base64(0x01 || public key)>``
* signer key ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || 32-byte seed)>``

This module is pure: no database and no settings. Every verification failure raises
:class:`~traceability.errors.VerificationError`; malformed input handed to a signing
or constructing call raises :class:`~traceability.errors.Invalid`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from traceability.errors import Invalid, VerificationError
from traceability.private_files import create_private_file, read_private_file

__all__ = [
    "ALG_ED25519",
    "EM_DASH",
    "MAX_SIGNATURES",
    "Checkpoint",
    "NoteSigner",
    "NoteVerifier",
    "key_id_for",
    "read_signer_key_file",
    "sign_checkpoint",
    "verify_checkpoint",
    "write_signer_key_file",
]

EM_DASH = "\u2014"
"""The first character of every signature line (U+2014 EM DASH)."""

ALG_ED25519 = 0x01
"""The signed-note signature type identifier byte of Ed25519."""

MAX_SIGNATURES = 100
"""Notes with more signature lines are rejected (the limit golang.org/x/mod/sumdb/note uses)."""

_SIG_PREFIX = (EM_DASH + " ").encode("utf-8")
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_ED25519_SIG_LEN = 64
_ROOT_HASH_LEN = 32
_MAX_TREE_SIZE = 2**64 - 1
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")


# --------------------------------------------------------------------------- helpers


def _name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid key name (non-empty, no Unicode space, no '+'), or None."""
    if not name:
        return "key name is empty"
    if "+" in name:
        return "key name contains '+'"
    if any(ch.isspace() for ch in name):
        return "key name contains whitespace"
    if any(ord(ch) < 0x20 for ch in name):
        return "key name contains a control character"
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "key name is not valid UTF-8"
    return None


def _text_problem(text: str) -> str | None:
    """Why ``text`` may not appear on one line of a note, or None."""
    if any(ord(ch) < 0x20 for ch in text):
        return "contains a newline or another ASCII control character"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid UTF-8"
    return None


def _b64decode_strict(text: str) -> bytes | None:
    """Decode canonical standard padded base64; None when ``text`` is anything else."""
    if _BASE64.fullmatch(text) is None:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    if base64.b64encode(raw).decode("ascii") != text:
        return None  # non-zero padding bits: not the one canonical encoding
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def key_id_for(name: str, public_key: Ed25519PublicKey) -> bytes:
    """The 4-byte signed-note key ID of an Ed25519 key:
    ``SHA-256(name || 0x0A || 0x01 || public key)[:4]``."""
    data = name.encode("utf-8") + b"\n" + bytes([ALG_ED25519]) + public_key.public_bytes_raw()
    return hashlib.sha256(data).digest()[:4]


def _decode_note_text(raw: bytes, what: str) -> str:
    """Decode UTF-8 and reject ASCII control characters other than newline."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise VerificationError(f"{what} is not valid UTF-8") from exc
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise VerificationError(f"{what} contains an ASCII control character")
    return text


# --------------------------------------------------------------------------- checkpoint


@dataclass(frozen=True)
class Checkpoint:
    """A transparency-log checkpoint body (c2sp.org/tlog-checkpoint).

    ``origin`` identifies the log, ``tree_size`` is the number of leaves, ``root_hash``
    the 32-byte RFC 6962 Merkle root, and ``extensions`` the optional opaque extension
    lines (each non-empty, without the newline). Construction raises
    :class:`~traceability.errors.Invalid` when a field could not be encoded.
    """

    origin: str
    tree_size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Reject field values that cannot form a well-formed checkpoint body."""
        if not isinstance(self.origin, str) or not self.origin:
            raise Invalid("checkpoint origin must be a non-empty string")
        problem = _text_problem(self.origin)
        if problem is not None:
            raise Invalid(f"checkpoint origin {problem}")
        if (
            isinstance(self.tree_size, bool)
            or not isinstance(self.tree_size, int)
            or not 0 <= self.tree_size <= _MAX_TREE_SIZE
        ):
            raise Invalid(
                f"checkpoint tree size must be an integer in [0, 2**64): {self.tree_size!r}"
            )
        if not isinstance(self.root_hash, bytes) or len(self.root_hash) != _ROOT_HASH_LEN:
            raise Invalid(f"checkpoint root hash must be {_ROOT_HASH_LEN} bytes")
        if not isinstance(self.extensions, tuple):
            raise Invalid("checkpoint extensions must be a tuple of strings")
        for line in self.extensions:
            if not isinstance(line, str) or not line:
                raise Invalid("checkpoint extension lines must be non-empty strings")
            problem = _text_problem(line)
            if problem is not None:
                raise Invalid(f"checkpoint extension line {problem}")

    def body(self) -> bytes:
        """The note text: origin, decimal size, base64 root, extensions; each ending in \\n."""
        lines = [self.origin, str(self.tree_size), _b64encode(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines).encode("utf-8")

    @classmethod
    def parse_body(cls, body: bytes) -> Checkpoint:
        """Parse a checkpoint note text strictly.

        Raises :class:`~traceability.errors.VerificationError` unless ``body`` is valid
        UTF-8 of at least three non-empty newline-terminated lines with a non-empty
        origin, a canonical decimal tree size below 2**64 (no sign, no leading zeros),
        a canonical standard base64 root hash of exactly 32 bytes, and non-empty
        extension lines, with no ASCII control characters besides the newlines.
        """
        if not isinstance(body, bytes):
            raise VerificationError("checkpoint body must be bytes")
        text = _decode_note_text(body, "checkpoint body")
        if not text.endswith("\n"):
            raise VerificationError("checkpoint body does not end with a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise VerificationError(
                f"checkpoint body has {len(lines)} line(s); at least 3 are required"
            )
        if any(not line for line in lines):
            raise VerificationError("checkpoint body contains an empty line")
        origin, size_text, root_text, *extensions = lines
        if _DECIMAL.fullmatch(size_text) is None:
            raise VerificationError(f"checkpoint tree size is not canonical decimal: {size_text!r}")
        tree_size = int(size_text)
        if tree_size > _MAX_TREE_SIZE:
            raise VerificationError(f"checkpoint tree size does not fit in 64 bits: {size_text}")
        root_hash = _b64decode_strict(root_text)
        if root_hash is None:
            raise VerificationError(f"checkpoint root hash is not canonical base64: {root_text!r}")
        if len(root_hash) != _ROOT_HASH_LEN:
            raise VerificationError(
                "checkpoint root hash has the wrong length",
                expected=_ROOT_HASH_LEN,
                computed=len(root_hash),
            )
        try:
            return cls(origin, tree_size, root_hash, tuple(extensions))
        except Invalid as exc:  # defensive: the checks above should already cover this
            raise VerificationError(exc.detail) from exc


# --------------------------------------------------------------------------- signer


@dataclass(frozen=True)
class NoteSigner:
    """An Ed25519 signed-note signer: a key name and its private key.

    Raises :class:`~traceability.errors.Invalid` when ``name`` is not a valid key name.
    """

    name: str
    private_key: Ed25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        """Reject invalid key names and non-Ed25519 keys."""
        problem = _name_problem(self.name) if isinstance(self.name, str) else "not a string"
        if problem is not None:
            raise Invalid(f"invalid key name {self.name!r}: {problem}")
        if not isinstance(self.private_key, Ed25519PrivateKey):
            raise Invalid("private_key must be an Ed25519PrivateKey")

    @property
    def key_id(self) -> bytes:
        """The 4-byte key ID of this signer's public key."""
        return key_id_for(self.name, self.private_key.public_key())

    def verifier(self) -> NoteVerifier:
        """The verifier matching this signer."""
        public_key = self.private_key.public_key()
        return NoteVerifier(self.name, key_id_for(self.name, public_key), public_key)

    def verifier_key(self) -> str:
        """The verifier key string ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        return self.verifier().verifier_key()

    def to_signer_key(self) -> str:
        """The secret signer key string ``PRIVATE+KEY+<name>+<hex ID>+<base64(0x01 || seed)>``.

        Anyone holding it can sign as this key: store it like a password.
        """
        seed = self.private_key.private_bytes_raw()
        encoded = _b64encode(bytes([ALG_ED25519]) + seed)
        return f"{_PRIVATE_PREFIX}{self.name}+{self.key_id.hex()}+{encoded}"

    def sign_note(self, body: bytes) -> str:
        """Sign ``body`` and return the whole signed note text.

        ``body`` must be UTF-8 ending in a newline, without ASCII control characters
        other than newlines; otherwise :class:`~traceability.errors.Invalid` is raised.
        """
        if not isinstance(body, bytes):
            raise Invalid("note body must be bytes")
        if not body.endswith(b"\n"):
            raise Invalid("note body must end with a newline")
        try:
            text = _decode_note_text(body, "note body")
        except VerificationError as exc:
            raise Invalid(exc.detail) from exc
        signature = self.private_key.sign(body)
        blob = _b64encode(self.key_id + signature)
        return f"{text}\n{EM_DASH} {self.name} {blob}\n"

    @classmethod
    def generate(cls, name: str) -> NoteSigner:
        """A signer with a fresh random Ed25519 key."""
        return cls(name, Ed25519PrivateKey.generate())

    @classmethod
    def from_signer_key(cls, text: str) -> NoteSigner:
        """Parse a ``PRIVATE+KEY+...`` signer key string.

        Raises :class:`~traceability.errors.VerificationError` when the string is
        malformed, the algorithm is not Ed25519, or the key ID does not match the key.
        Error messages never include the secret key material.
        """
        if not isinstance(text, str) or not text.startswith(_PRIVATE_PREFIX):
            raise VerificationError("signer key does not start with PRIVATE+KEY+")
        parts = text[len(_PRIVATE_PREFIX) :].split("+", 2)
        if len(parts) != 3:
            raise VerificationError("malformed signer key")
        name, id_hex, key_b64 = parts
        problem = _name_problem(name)
        if problem is not None:
            raise VerificationError(f"malformed signer key: {problem}")
        if _HEX8.fullmatch(id_hex) is None:
            raise VerificationError("malformed signer key: key ID is not 8 hex digits")
        raw = _b64decode_strict(key_b64)
        if raw is None or len(raw) == 0:
            raise VerificationError("malformed signer key: key is not base64")
        if raw[0] != ALG_ED25519:
            raise VerificationError(f"signer key has unknown algorithm {raw[0]}")
        if len(raw) != 33:
            raise VerificationError("malformed signer key: Ed25519 seed is not 32 bytes")
        try:
            private_key = Ed25519PrivateKey.from_private_bytes(raw[1:])
        except ValueError as exc:
            raise VerificationError("malformed signer key: bad Ed25519 seed") from exc
        signer = cls(name, private_key)
        claimed = bytes.fromhex(id_hex)
        if signer.key_id != claimed:
            raise VerificationError(
                "signer key ID does not match the key",
                expected=id_hex.lower(),
                computed=signer.key_id.hex(),
            )
        return signer


# --------------------------------------------------------------------------- verifier


@dataclass(frozen=True)
class NoteVerifier:
    """An Ed25519 signed-note verifier: key name, 4-byte key ID and public key.

    Construction raises :class:`~traceability.errors.Invalid` for an invalid name and
    :class:`~traceability.errors.VerificationError` when ``key_id`` is not the key ID
    of ``name`` and ``public_key``.
    """

    name: str
    key_id: bytes
    public_key: Ed25519PublicKey

    def __post_init__(self) -> None:
        """Reject invalid names and key IDs that do not belong to the key."""
        problem = _name_problem(self.name) if isinstance(self.name, str) else "not a string"
        if problem is not None:
            raise Invalid(f"invalid key name {self.name!r}: {problem}")
        if not isinstance(self.public_key, Ed25519PublicKey):
            raise Invalid("public_key must be an Ed25519PublicKey")
        computed = key_id_for(self.name, self.public_key)
        if self.key_id != computed:
            raise VerificationError(
                "key ID does not match the verifier key",
                expected=self.key_id.hex() if isinstance(self.key_id, bytes) else self.key_id,
                computed=computed.hex(),
            )

    def verifier_key(self) -> str:
        """The verifier key string ``<name>+<hex key ID>+<base64(0x01 || public key)>``."""
        encoded = _b64encode(bytes([ALG_ED25519]) + self.public_key.public_bytes_raw())
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_verifier_key(cls, text: str) -> NoteVerifier:
        """Parse a ``<name>+<hex key ID>+<base64(0x01 || public key)>`` verifier key.

        Raises :class:`~traceability.errors.VerificationError` when the string is
        malformed, the algorithm is not Ed25519, or the key ID does not match the key.
        """
        if not isinstance(text, str):
            raise VerificationError("verifier key must be a string")
        parts = text.split("+", 2)
        if len(parts) != 3:
            raise VerificationError("malformed verifier key")
        name, id_hex, key_b64 = parts
        problem = _name_problem(name)
        if problem is not None:
            raise VerificationError(f"malformed verifier key: {problem}")
        if _HEX8.fullmatch(id_hex) is None:
            raise VerificationError("malformed verifier key: key ID is not 8 hex digits")
        raw = _b64decode_strict(key_b64)
        if raw is None or len(raw) == 0:
            raise VerificationError("malformed verifier key: key is not base64")
        if raw[0] != ALG_ED25519:
            raise VerificationError(f"verifier key has unknown algorithm {raw[0]}")
        if len(raw) != 33:
            raise VerificationError("malformed verifier key: Ed25519 key is not 32 bytes")
        try:
            public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
        except ValueError as exc:
            raise VerificationError("malformed verifier key: bad Ed25519 public key") from exc
        return cls(name, bytes.fromhex(id_hex), public_key)

    def verify_note(self, note: str | bytes) -> bytes:
        """Verify a signed note and return its text (the body, with its final newline).

        The note must be valid UTF-8 without ASCII control characters other than
        newline, with the body separated from the signature block by its last blank
        line, and every signature line well formed. Lines by other keys (a different
        name or key ID) are ignored; every line by this key must verify, and at least
        one must be present. Anything else raises
        :class:`~traceability.errors.VerificationError`.
        """
        if isinstance(note, str):
            try:
                raw = note.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise VerificationError("note is not valid UTF-8") from exc
        elif isinstance(note, bytes):
            raw = note
        else:
            raise VerificationError("note must be str or bytes")
        _decode_note_text(raw, "note")

        split = raw.rfind(b"\n\n")
        if split < 0:
            raise VerificationError("malformed note: no blank line before the signatures")
        body, sig_block = raw[: split + 1], raw[split + 2 :]
        if not sig_block or not sig_block.endswith(b"\n"):
            raise VerificationError("malformed note: signature block does not end with a newline")

        lines = sig_block[:-1].split(b"\n")
        if len(lines) > MAX_SIGNATURES:
            raise VerificationError(f"malformed note: more than {MAX_SIGNATURES} signatures")
        verified = 0
        for number, line in enumerate(lines, start=1):
            if not line.startswith(_SIG_PREFIX):
                raise VerificationError(
                    f"malformed note: signature line {number} does not start with '{EM_DASH} '"
                )
            name, sep, blob_text = line[len(_SIG_PREFIX) :].decode("utf-8").partition(" ")
            blob = _b64decode_strict(blob_text) if sep else None
            if blob is None or _name_problem(name) is not None or len(blob) < 5:
                raise VerificationError(f"malformed note: bad signature line {number}")
            if name != self.name or blob[:4] != self.key_id:
                continue  # another key: ignored, as the spec requires
            signature = blob[4:]
            try:
                if len(signature) != _ED25519_SIG_LEN:
                    raise InvalidSignature
                self.public_key.verify(signature, body)
            except InvalidSignature as exc:
                raise VerificationError(
                    f"invalid signature for key {self.name}+{self.key_id.hex()}"
                ) from exc
            verified += 1
        if verified == 0:
            raise VerificationError(f"note has no signature by key {self.name}+{self.key_id.hex()}")
        return body


# --------------------------------------------------------------------------- checkpoints


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """Sign a checkpoint and return the signed note text."""
    return signer.sign_note(checkpoint.body())


def verify_checkpoint(
    note: str | bytes, verifier: NoteVerifier, *, origin: str | None = None
) -> Checkpoint:
    """Verify a signed checkpoint note with ``verifier`` and parse its body.

    When ``origin`` is given the checkpoint's origin must equal it. Every failure
    raises :class:`~traceability.errors.VerificationError`.
    """
    body = verifier.verify_note(note)
    checkpoint = Checkpoint.parse_body(body)
    if origin is not None and checkpoint.origin != origin:
        raise VerificationError(
            "checkpoint origin does not match", expected=origin, computed=checkpoint.origin
        )
    return checkpoint


# --------------------------------------------------------------------------- key files


def write_signer_key_file(path: Path, signer: NoteSigner) -> None:
    """Write ``signer``'s secret signer key to a new file readable only by its owner.

    The file is created with mode 0o600 from the start (never wider, even briefly).
    Raises :class:`FileExistsError` when ``path`` already exists (including as a
    symbolic link); other OS errors propagate.
    """
    create_private_file(path, signer.to_signer_key() + "\n")


def read_signer_key_file(path: Path) -> NoteSigner:
    """Read a signer key file written by :func:`write_signer_key_file`.

    Raises :class:`~traceability.errors.Invalid` naming the file when it is not a
    regular file, when (on POSIX) its mode grants any group or other access, or when
    its content is not one valid signer key. The message never contains the key.
    OS errors such as a missing file propagate.
    """
    data = read_private_file(path, "signer key file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid(f"signer key file {path} is not valid UTF-8") from exc
    if text.endswith("\n"):
        text = text[:-1]
    try:
        return NoteSigner.from_signer_key(text)
    except VerificationError as exc:
        raise Invalid(f"signer key file {path} is malformed: {exc.detail}") from exc
