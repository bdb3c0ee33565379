"""The trust file (``sunledger-trust/1``): the roots a verifier pins.

A verifier that takes the log's key, the chain and the contract from a proof
bundle trusts whoever wrote the bundle. The trust file names them once, out of
band: the log's origin and note verifier key, the chain id and the anchor
contract (and the log id, SHA-256 of the origin, as it is anchored), and the
witness policy (``quorum`` 0 and no keys: none). The platform publishes its own
at ``GET /v1/trust``; ``sunledger verify --trust FILE`` reads one.

Pure: no database, no web, no chain. ``docs/trust-file.md`` describes the format.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from eth_utils.address import to_checksum_address

from traceability.errors import Invalid, SunledgerError
from traceability.transparency.checkpoints import NoteVerifier

__all__ = ["TRUST_FORMAT", "ChainPin", "TrustConfig", "parse_contract", "parse_trust"]

TRUST_FORMAT = "sunledger-trust/1"
_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_HEX32 = re.compile(r"^[0-9a-f]{64}$")


def parse_contract(value: object, where: str = "contract") -> str:
    """A contract address, checksummed; a mixed-case address must carry a valid checksum."""
    if not isinstance(value, str) or not _ADDRESS.match(value):
        raise Invalid(f"{where} must be an address 0x + 40 hex digits, found {value!r}")
    checksummed = to_checksum_address(value)
    body = value[2:]
    if body != body.lower() and body != body.upper() and value != checksummed:
        raise Invalid(f"{where} {value} has a wrong EIP-55 checksum (expected {checksummed})")
    return checksummed


@dataclass(frozen=True)
class ChainPin:
    """The chain and anchor contract a verifier trusts, whatever a bundle says."""

    chain_id: int
    contract: str
    """Checksummed address."""

    @classmethod
    def of(cls, chain_id: object, contract: object) -> ChainPin:
        if isinstance(chain_id, bool) or not isinstance(chain_id, int) or chain_id < 1:
            raise Invalid(f"chain_id must be a positive integer, found {chain_id!r}")
        return cls(chain_id, parse_contract(contract))


@dataclass(frozen=True)
class TrustConfig:
    """A parsed trust file."""

    origin: str
    public_key: str
    """The note verifier key, ``<name>+<key id hex>+<base64 key>``."""
    chain: ChainPin
    witnesses: dict[str, Any] = field(default_factory=lambda: {"quorum": 0, "keys": []})
    """Kept as given (its policy is applied by whoever adds witnesses)."""

    @property
    def log_id(self) -> bytes:
        return hashlib.sha256(self.origin.encode("utf-8")).digest()

    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_verifier_key(self.public_key)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": TRUST_FORMAT,
            "log": {"origin": self.origin, "public_key": self.public_key},
            "chain": {
                "chain_id": self.chain.chain_id,
                "contract": self.chain.contract,
                "log_id": self.log_id.hex(),
            },
            "witnesses": self.witnesses,
        }


def _object(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        found = "nothing" if value is None else f"a JSON {type(value).__name__}"
        raise Invalid(f"{where} must be a JSON object, found {found}")
    return value


def _witnesses(value: object) -> dict[str, Any]:
    if value is None:
        return {"quorum": 0, "keys": []}
    raw = _object(value, "witnesses")
    quorum = raw.get("quorum", 0)
    keys = raw.get("keys", [])
    if isinstance(quorum, bool) or not isinstance(quorum, int) or quorum < 0:
        raise Invalid(f"witnesses.quorum must be an integer >= 0, found {quorum!r}")
    if not isinstance(keys, list):
        raise Invalid(f"witnesses.keys must be a list, found {keys!r}")
    if quorum > len(keys):
        raise Invalid(f"witnesses.quorum {quorum} is more than the {len(keys)} keys listed")
    return {**raw, "quorum": quorum, "keys": keys}


def parse_trust(raw: object) -> TrustConfig:
    """Parse a trust file (its text or its decoded JSON); ``Invalid`` names the bad key."""
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            raise Invalid(f"the trust file is not JSON: {exc}") from None
    top = _object(raw, "the trust file")
    if top.get("format") != TRUST_FORMAT:
        raise Invalid(f"format must be {TRUST_FORMAT!r}, found {top.get('format')!r}")
    log = _object(top.get("log"), "log")
    chain = _object(top.get("chain"), "chain")
    origin = log.get("origin")
    if not isinstance(origin, str) or not origin or "\n" in origin:
        raise Invalid(f"log.origin must be a one-line string, found {origin!r}")
    public_key = log.get("public_key")
    if not isinstance(public_key, str):
        raise Invalid(f"log.public_key must be a note verifier key, found {public_key!r}")
    try:
        NoteVerifier.from_verifier_key(public_key.strip())
    except SunledgerError as exc:
        raise Invalid(f"log.public_key: {exc.detail}") from None
    try:
        pin = ChainPin.of(chain.get("chain_id"), chain.get("contract"))
    except Invalid as exc:
        raise Invalid(f"chain.{exc.detail}") from None
    config = TrustConfig(origin, public_key.strip(), pin, _witnesses(top.get("witnesses")))
    log_id = chain.get("log_id")
    if log_id is not None:
        if not isinstance(log_id, str) or not _HEX32.match(log_id.lower()):
            raise Invalid(f"chain.log_id must be 64 hex digits, found {log_id!r}")
        if log_id.lower() != config.log_id.hex():
            raise Invalid(
                f"chain.log_id {log_id} is not SHA-256 of log.origin {origin!r} "
                f"({config.log_id.hex()})"
            )
    return config
