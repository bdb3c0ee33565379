"""The trust file (sunledger-trust/1): parsed strictly, errors name the key, witnesses kept."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest

from traceability.errors import Invalid
from traceability.transparency.checkpoints import NoteSigner
from traceability.verify import TRUST_FORMAT, parse_trust

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ORIGIN = "sunledger.local/log"


def trust(**changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "format": TRUST_FORMAT,
        "log": {
            "origin": ORIGIN,
            "public_key": NoteSigner.generate("sunledger-log").verifier_key(),
        },
        "chain": {
            "chain_id": 31337,
            "contract": CONTRACT,
            "log_id": hashlib.sha256(ORIGIN.encode()).hexdigest(),
        },
        "witnesses": {"quorum": 0, "keys": []},
    }
    for path, value in changes.items():
        where = raw
        *parents, last = path.split("__")
        for part in parents:
            where = where[part]
        if value is ...:
            del where[last]
        else:
            where[last] = value
    return raw


def test_a_trust_file_round_trips() -> None:
    raw = trust()
    config = parse_trust(json.dumps(raw))
    assert config.to_json() == raw
    assert config.chain.chain_id == 31337 and config.chain.contract == CONTRACT
    assert config.verifier().name == "sunledger-log"
    lower = parse_trust(trust(chain__contract=CONTRACT.lower()))
    assert lower.chain.contract == CONTRACT  # shown checksummed


def test_witnesses_are_kept_as_given_and_may_be_absent() -> None:
    policy = {"quorum": 1, "keys": ["witness+0102+AAAA"], "note": "kept"}
    assert parse_trust(trust(witnesses=policy)).to_json()["witnesses"] == policy
    assert parse_trust(trust(witnesses=...)).witnesses == {"quorum": 0, "keys": []}


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"format": "sunledger-trust/2"}, "format"),
        ({"log": ...}, "log must be a JSON object"),
        ({"log__origin": "two\nlines"}, "log.origin"),
        ({"log__public_key": "not a key"}, "log.public_key"),
        ({"chain__chain_id": "31337"}, "chain.chain_id"),
        ({"chain__chain_id": 0}, "chain.chain_id"),
        ({"chain__contract": "0x1234"}, "chain.contract"),
        ({"chain__contract": "0x5fbDB2315678afecb367f032d93F642f64180aa3"}, "checksum"),
        ({"chain__log_id": "00" * 32}, "chain.log_id"),
        ({"witnesses": {"quorum": 2, "keys": ["a"]}}, "witnesses.quorum"),
        ({"witnesses": {"quorum": -1, "keys": []}}, "witnesses.quorum"),
    ],
)
def test_a_bad_trust_file_names_the_key(changes: dict[str, Any], named: str) -> None:
    with pytest.raises(Invalid, match=named.replace(".", r"\.")):
        parse_trust(trust(**changes))


def test_not_json_is_refused() -> None:
    with pytest.raises(Invalid, match="not JSON"):
        parse_trust("{")
