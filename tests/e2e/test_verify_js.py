"""verify.js in Chromium against the Python side: the RFC 9162 inclusion vectors (valid and
tampered), RFC 8785 canonical bytes of awkward values, and Ed25519 signed notes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Server

from traceability.transparency.canonical import canonical_bytes
from traceability.transparency.checkpoints import Checkpoint, NoteSigner, sign_checkpoint

VECTORS = Path(__file__).parents[1] / "traceability" / "vectors" / "merkle_vectors.json"
WAIT_MS = 60_000


@pytest.fixture
def module_page(server: Server, browser: Any) -> Iterator[Any]:
    """A page of our origin, so ``import('/static/js/verify.js')`` loads the real module."""
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.goto(server.url("/kitchen"))
    yield page
    context.close()


def test_inclusion_vectors(module_page: Any) -> None:
    vectors = json.loads(VECTORS.read_text())["inclusion"]
    outcomes = module_page.evaluate(
        """async (vectors) => {
            const v = await import('/static/js/verify.js');
            const out = [];
            for (const c of vectors) {
                try {
                    const h = (x) => v.hexToBytes(x);
                    await v.verifyInclusion(c.index, c.tree_size, h(c.leaf_hash),
                                            c.proof.map(h), h(c.root));
                    out.push(true);
                } catch (err) {
                    out.push(false);
                }
            }
            return out;
        }""",
        vectors,
    )
    wrong = [
        (c["tree_size"], c["index"], c.get("tamper"))
        for c, ok in zip(vectors, outcomes, strict=True)
        if ok != c["valid"]
    ]
    assert not wrong, wrong
    assert sum(outcomes) == sum(1 for c in vectors if c["valid"]) > 0


AWKWARD = [
    {"b": 1, "a": [1.5, 0.1, -0.0, 1e21, 1e-7, 123456789012345, 4.0]},
    {"\u00e9": "x", "z": '\u2028 \u0007 " \\ /', "\U0001f600": 1, "\uff61": 2},
    {"payload": {"values": [{"type": "Temperature", "value": 4.2, "uom": "CEL"}]}},
    [None, True, False, "阳光", 2**53],
]


def test_canonical_bytes_match_python(module_page: Any) -> None:
    texts = module_page.evaluate(
        """async (values) => {
            const v = await import('/static/js/verify.js');
            return values.map((x) => v.canonicalize(x));
        }""",
        AWKWARD,
    )
    assert [t.encode() for t in texts] == [canonical_bytes(value) for value in AWKWARD]


def test_checkpoint_signatures(module_page: Any) -> None:
    signer = NoteSigner.generate("sunledger-log")
    other = NoteSigner.generate("sunledger-log")
    note = sign_checkpoint(Checkpoint("example/log", 42, bytes(range(32))), signer)
    forged = note.replace("\n42\n", "\n43\n")
    results = module_page.evaluate(
        """async ([key, notes]) => {
            const v = await import('/static/js/verify.js');
            const verifier = await v.parseVerifierKey(key);
            const out = [];
            for (const note of notes) {
                try {
                    const cp = await v.verifyCheckpoint(note, verifier);
                    out.push(`ok ${cp.origin} ${cp.treeSize}`);
                } catch (err) {
                    out.push(`fail ${err.message}`);
                }
            }
            return out;
        }""",
        [
            signer.verifier_key(),
            [note, forged, sign_checkpoint(Checkpoint("x", 1, b"\1" * 32), other)],
        ],
    )
    assert results[0] == "ok example/log 42"
    assert results[1].startswith("fail invalid signature")
    assert results[2].startswith("fail no signature by key")
