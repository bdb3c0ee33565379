"""chain.js embeds rootAt's function selector (WebCrypto has no Keccak): check it against
the committed ABI, and check verify.js's check names against the Python verifier's."""

from __future__ import annotations

import json
import re
from pathlib import Path

from eth_utils.crypto import keccak

from traceability.verify import CHECKS

ROOT = Path(__file__).parents[2]
STATIC = ROOT / "mobile_web" / "static" / "js"


def _signature(entry: dict[str, object]) -> str:
    inputs = entry["inputs"]
    assert isinstance(inputs, list)
    return f"{entry['name']}({','.join(str(i['type']) for i in inputs)})"


def test_root_at_selector_matches_the_committed_abi() -> None:
    artifact = json.loads((ROOT / "contracts" / "build" / "CheckpointAnchor.json").read_text())
    (root_at,) = [
        e for e in artifact["abi"] if e.get("type") == "function" and e["name"] == "rootAt"
    ]
    assert _signature(root_at) == "rootAt(bytes32,uint64)"
    assert [o["type"] for o in root_at["outputs"]] == ["bytes32"]
    selector = keccak(text=_signature(root_at))[:4].hex()
    found = re.search(r'ROOT_AT_SELECTOR = "([0-9a-f]{8})"', (STATIC / "chain.js").read_text())
    assert found is not None, "chain.js no longer declares ROOT_AT_SELECTOR"
    assert found.group(1) == selector


def test_the_browser_runs_the_python_verifiers_checks_in_order() -> None:
    text = (STATIC / "verify.js").read_text()
    block = re.search(r"export const CHECKS = \[(.*?)\];", text, re.S)
    assert block is not None
    names = re.findall(r'"(\w+)"', block.group(1))
    assert names == list(CHECKS)
