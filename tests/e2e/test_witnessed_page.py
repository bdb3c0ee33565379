"""The consumer page of a log with a witness: the browser checks the bureau's cosignature
and says who witnessed; each item links a tlog-proof that verifies offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Server, _environment, save_screenshot, serving
from playwright.sync_api import expect
from seeded_kitchen import anchor, register_city, seed_over_http

from traceability.demo.witness import WITNESS_LABEL, start_witness, with_witness
from traceability.settings import Settings
from traceability.transparency.checkpoints import NoteVerifier
from traceability.verify import verify_tlog_proof
from traceability.witnessing.policy import WitnessPolicy

WAIT_MS = 60_000


@pytest.fixture(scope="module")
def witnessed_server(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: Path
) -> Iterator[tuple[Server, str]]:
    data_dir = tmp_path_factory.mktemp("e2e-witnessed")
    settings = Settings(data_dir=data_dir, database_url=None)
    keys, probe_key = register_city(settings)
    bureau = start_witness(settings)
    witnessed = with_witness(settings, bureau)
    env = _environment(data_dir)
    env["SUNLEDGER_WITNESSES"] = json.dumps([w.model_dump() for w in witnessed.witnesses])
    env["SUNLEDGER_WITNESS_QUORUM"] = "1"
    try:
        with serving(data_dir, env) as base:
            seeded = seed_over_http(base, settings, keys, probe_key)
            anchor(data_dir, env)  # anchors, then collects the bureau's cosignature
            yield Server(base, data_dir, env, seeded), bureau.signer.verifier.vkey()
    finally:
        bureau.stop()


def test_the_consumer_page_shows_who_witnessed_and_offers_the_tlog_proof(
    witnessed_server: tuple[Server, str], browser: Any
) -> None:
    server, vkey = witnessed_server
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script("localStorage.setItem('sunledger.lang', 'en')")
    page.goto(server.url("/r/p-sun"))
    page.wait_for_selector(".badge", timeout=WAIT_MS)
    expect(page.locator(".badge[data-state=pending]")).to_have_count(0, timeout=WAIT_MS)
    banner = page.locator("#verify-summary .witness")
    expect(banner).to_have_attribute("data-witnessed", "true")
    expect(banner).to_contain_text(f"witnessed by {WITNESS_LABEL}")
    assert page.locator(".badge.ok .witness[data-witnessed=true]").count() > 0
    links = page.locator("a.tlog-proof")
    # One per proof badge (a snapshot's image-hash tick is not a proof badge).
    assert links.count() == page.locator(".badge:not([data-role=image-hash])").count()
    save_screenshot(page, "consumer-witnessed.png")
    href = links.first.get_attribute("href")
    context.close()
    assert not errors, errors

    proof = httpx.get(server.url(href or ""), timeout=30).text
    key = NoteVerifier.from_verifier_key(
        httpx.get(server.url("/v1/log/public-key"), timeout=30).text.strip()
    )
    verdict = verify_tlog_proof(proof, key, WitnessPolicy.of_vkeys([vkey]))
    assert verdict.ok, verdict.checks
