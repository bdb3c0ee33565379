"""可视 on the consumer page: the latest kitchen snapshot with its local time and a tick the
browser computed (the event verified, the image's bytes hashed with WebCrypto to the
event's hash); a hash that does not match is never ticked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from conftest import Server, save_screenshot
from playwright.sync_api import expect

WAIT_MS = 60_000


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.set_default_timeout(WAIT_MS)
    context.add_init_script("localStorage.setItem('sunledger.lang', 'en')")
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_the_snapshot_is_shown_with_a_tick_computed_in_the_browser(
    server: Server, page: Any
) -> None:
    sha = server.seeded.snapshot_sha256
    page.goto(server.url("/r/p-sun"))
    figure = page.locator("figure.snapshot[data-camera-id='cam-sun-2']")
    tick = figure.locator("[data-role=image-hash]")
    expect(tick).not_to_have_attribute("data-state", "pending", timeout=WAIT_MS)
    assert tick.get_attribute("data-state") == "ok", tick.inner_text()
    assert figure.locator("img").get_attribute("data-sha256") == sha
    caption = figure.locator("figcaption").inner_text()
    assert "Hot kitchen" in caption and "local time" in caption
    assert figure.locator("[data-role=no-recent]").count() == 0
    figure.scroll_into_view_if_needed()
    save_screenshot(page, "consumer-snapshot.png")

    # The same check against a hash the event does not name: not ticked.
    verdict = page.evaluate(
        """async (sha) => {
            const m = await import('/static/js/snapshots.js');
            const proofs = await import('/static/js/proofcheck.js');
            const board = new proofs.ProofBoard(await proofs.openVerifier(), null);
            const verify = (id) => board.verify(id);
            const record = await (await fetch('/v1/public/restaurants/p-sun')).json();
            const cam = record.snapshots.cameras.find((c) => c.camera_id === 'cam-sun-2');
            const got = await m.fetchHashed(cam.latest.url);
            const ok = await m.judgeSnapshot(cam.latest, got, verify);
            const wrong = { ...got, sha256: '0'.repeat(64) };
            const forged = await m.judgeSnapshot(cam.latest, wrong, verify);
            return [got.sha256 === sha, ok[0], forged[0]];
        }""",
        sha,
    )
    assert verdict == [True, "ok", "fail"]
