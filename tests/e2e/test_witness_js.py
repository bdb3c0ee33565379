"""witness.js in Chromium against cosignatures made by the Python witness: pinned
witnesses are found and labelled, a missed quorum is reported, a forged line fails."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Server

from traceability import merkle
from traceability.transparency.checkpoints import Checkpoint, NoteSigner, sign_checkpoint
from traceability.witnessing.cosignature import CosignatureSigner, signature_lines

WAIT_MS = 60_000


@pytest.fixture
def module_page(server: Server, browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(server.url("/kitchen"))
    yield page
    context.close()


def test_witness_js_checks_cosignatures_against_the_pinned_policy(module_page: Any) -> None:
    log = NoteSigner.generate("city.example/log")
    bureau = CosignatureSigner.generate("bureau.example/witness")
    consumers = CosignatureSigner.generate("consumers.example/witness")
    absent = CosignatureSigner.generate("press.example/witness")
    note = sign_checkpoint(Checkpoint("city.example/log", 3, merkle.root([bytes(32)] * 3)), log)
    body, _ = signature_lines(note)
    cosigned = note + bureau.cosign(body, 1_780_000_000) + "\n"
    cosigned += consumers.cosign(body, 1_780_000_001) + "\n"
    line = bureau.cosign(body, 1_780_000_002)
    raw = bytearray(base64.b64decode(line.split(" ")[2]))
    raw[30] ^= 1
    forged = note + f"— bureau.example/witness {base64.b64encode(bytes(raw)).decode()}\n"

    def key(signer: CosignatureSigner, label: str) -> dict[str, str]:
        return {"name": signer.name, "vkey": signer.verifier.vkey(), "label": label}

    policy = {
        "quorum": 2,
        "keys": [
            key(bureau, "City Market Supervision Bureau"),
            key(consumers, "Consumer Association"),
            key(absent, "The Evening Paper"),
        ],
    }
    results = module_page.evaluate(
        """async ([cosigned, forged, plain, policy]) => {
            const w = await import('/static/js/witness.js');
            const strict = {...policy, quorum: 3};
            return [await w.witnessedBy(cosigned, policy), await w.witnessedBy(cosigned, strict),
                    await w.witnessedBy(forged, policy), await w.witnessedBy(plain, policy)];
        }""",
        [cosigned, forged, note, policy],
    )
    met, strict, bad, plain = results
    assert met["met"] is True
    assert met["labels"] == ["City Market Supervision Bureau", "Consumer Association"]
    assert strict["met"] is False and len(strict["labels"]) == 2
    assert bad["met"] is False and "invalid cosignature by witness bureau" in bad["error"]
    assert plain["met"] is False and plain["labels"] == []
