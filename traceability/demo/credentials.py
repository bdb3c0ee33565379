"""The demo's secrets in its data directory: the API keys it issued and its probes' keys.

An API key is shown once, when it is issued; the demo keeps the keys it issued
in ``demo-keys.json`` (mode 0600) so that a second run can print them again.
The probes' and gateways' Ed25519 private keys live in ``demo-device-keys.json``
(0600, the simulator's keys-file format), so the live simulator signs with the
keys the seeded devices were registered with.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from traceability.errors import Invalid
from traceability.private_files import create_private_file, read_private_file
from traceability.simulator.fleet import read_keys_file, write_keys_file

API_KEYS_FILE = "demo-keys.json"
DEVICE_KEYS_FILE = "demo-device-keys.json"
FORMAT = "sunledger-demo-keys/1"


@dataclass(frozen=True)
class DemoApiKey:
    org_id: str
    role: str
    token: str


def write_api_keys(data_dir: Path, keys: Iterable[DemoApiKey]) -> Path:
    """Create ``demo-keys.json`` (0600 from the start); ``FileExistsError`` if it exists."""
    path = data_dir / API_KEYS_FILE
    document = {
        "format": FORMAT,
        "keys": [{"org_id": k.org_id, "role": k.role, "token": k.token} for k in keys],
    }
    create_private_file(path, json.dumps(document, indent=1) + "\n")
    return path


def read_api_keys(data_dir: Path) -> dict[str, DemoApiKey]:
    """The demo's API keys by organisation; ``Invalid`` naming the file when it is unusable."""
    path = data_dir / API_KEYS_FILE
    try:
        content = read_private_file(path, "demo keys file")
    except FileNotFoundError:
        raise Invalid(
            f"{path} is missing: the demo keys cannot be shown again (run with --reset)"
        ) from None
    try:
        document = json.loads(content)
        if document.get("format") != FORMAT:
            raise ValueError(document.get("format"))
        return {
            entry["org_id"]: DemoApiKey(entry["org_id"], entry["role"], entry["token"])
            for entry in document["keys"]
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        raise Invalid(f"{path} is not a {FORMAT} document (run with --reset)") from None


def device_keys(data_dir: Path, owners: Iterable[str]) -> dict[str, Ed25519PrivateKey]:
    """The private keys of ``owners`` (devices and gateways), made at random on first use."""
    path = data_dir / DEVICE_KEYS_FILE
    wanted = list(owners)
    if path.exists() or path.is_symlink():
        raw = read_keys_file(path)
        missing = [owner for owner in wanted if owner not in raw]
        if missing:
            raise Invalid(f"{path} has no key for {missing[0]} (run with --reset)")
    else:
        raw = {owner: secrets.token_bytes(32) for owner in wanted}
        write_keys_file(path, raw)
    return {owner: Ed25519PrivateKey.from_private_bytes(raw[owner]) for owner in wanted}
