"""The pages in a real browser against a real server: the consumer page verifies in the
browser, a tampered record turns it red, the regulator closes an alert in the console,
and the kitchen's CSV upload shows a bad row's error.

Every wait has a timeout; nothing asserts on timing. The tests run in file order on one
server (the tamper test restores the record it changed).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from conftest import Server, save_screenshot
from playwright.sync_api import expect
from seeded_kitchen import GTIN, LOT, anchor

from traceability.chain.json_rpc import JsonRpc, RpcAnchorReader
from traceability.transparency.checkpoints import NoteVerifier
from traceability.verify import parse_trust, verify_bundle

WAIT_MS = 60_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VERIFIED = re.compile(r"verified on chain (\d+) at block (\d+)")


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _english(page: Any) -> None:
    page.add_init_script("localStorage.setItem('sunledger.lang', 'en')")


def _wait_verified(page: Any) -> None:
    """Until no badge on the page is still verifying."""
    page.wait_for_selector(".badge", timeout=WAIT_MS)
    expect(page.locator(".badge[data-state=pending]")).to_have_count(0, timeout=WAIT_MS)


def _python_verdict(server: Server, event_id: str) -> Any:
    bundle = httpx.get(server.url(f"/v1/proofs/{event_id}"), timeout=30).json()
    key = httpx.get(server.url("/v1/log/public-key"), timeout=30).text.strip()
    pin = parse_trust(httpx.get(server.url("/v1/trust"), timeout=30).json()).chain
    return verify_bundle(
        bundle,
        NoteVerifier.from_verifier_key(key),
        RpcAnchorReader(JsonRpc(server.url("/v1/chain/rpc"))),
        pin=pin,
    )


def test_the_consumer_page_verifies_the_record_in_the_browser(server: Server, page: Any) -> None:
    event_id = server.seeded.record_event
    page.goto(server.url("/r/p-sun"))
    # Chinese by default.
    page.wait_for_selector("#premises-name", timeout=WAIT_MS)
    assert page.evaluate("document.documentElement.lang") == "zh-CN"
    assert "此刻" in page.inner_text("[data-section=now] h2")
    _wait_verified(page)
    # Plain words on the badge; the chain and block are technical details (text_content).
    zh_badge = page.text_content(f"li[data-event-id='{event_id}'] .badge")
    assert "真实" in page.inner_text(f"li[data-event-id='{event_id}'] .badge")
    assert re.search(r"已在链 \d+ 区块 \d+ 验证", zh_badge), zh_badge

    # Switch to English: remembered across a reload.
    page.click("#lang")
    page.reload()
    _wait_verified(page)
    badge = page.locator(f"li[data-event-id='{event_id}'] .badge")
    assert badge.get_attribute("data-state") == "ok"
    found = VERIFIED.search(badge.text_content())
    assert found is not None, badge.text_content()

    # The browser read the same chain and block the Python verifier reads.
    verdict = _python_verdict(server, event_id)
    assert verdict.ok, verdict.failed
    receipt_check = next(c for c in verdict.checks if c.name == "anchor_transaction")
    assert f"block {found.group(2)}" in receipt_check.detail
    chain_id = int(
        httpx.post(
            server.url("/v1/chain/rpc"),
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
            timeout=30,
        ).json()["result"],
        16,
    )
    assert int(found.group(1)) == chain_id

    # Every item shown is verified, and the page says which RPC it used.
    states = page.eval_on_selector_all(".badge", "els => els.map(e => e.dataset.state)")
    assert len(states) >= 5 and set(states) == {"ok"}, page.inner_text("#verify-summary")
    assert "This record is authentic" in page.inner_text("#verify-summary")
    # The RPC used is in the "how is this checked?" panel (closed until the reader opens it).
    assert page.text_content("#rpc-used").endswith("/v1/chain/rpc")
    # Grade A with its face, the fridge's chart with its 8 °C limit drawn, no names.
    assert page.inner_text(".grade .letter") == "A"
    assert page.locator("svg.chart line.threshold.max").count() == 1
    assert page.locator("svg.chart text.threshold-label").text_content() == "limit 8 °C"
    assert page.locator("svg.chart circle.mean").count() == 7
    body = page.inner_text("body")
    for name in ("Cook Li", "Cook Zhao", "Manager Wang"):
        assert name not in body
    # The vision alert's evidence is not served publicly (yet): no broken image is left.
    broken = page.eval_on_selector_all(
        "img", "els => els.filter(e => e.complete && e.naturalWidth === 0).length"
    )
    assert broken == 0
    save_screenshot(page, "consumer.png")


def test_the_lot_page_shows_the_verified_journey(server: Server, page: Any) -> None:
    _english(page)
    page.goto(server.url(f"/01/{GTIN}/10/{LOT}"))
    _wait_verified(page)
    # The receipt, and the purchase record it names (its production date and shelf life).
    received = page.locator("[data-step=received] .badge")
    expect(received).to_have_count(2, timeout=WAIT_MS)
    expect(page.locator("[data-step=received] .badge[data-state=ok]")).to_have_count(
        2, timeout=WAIT_MS
    )
    assert VERIFIED.search(received.first.text_content())
    for step in ("stored", "used"):
        assert "not recorded yet" in page.inner_text(f"[data-step={step}]")


def test_a_tampered_record_shows_which_check_failed(server: Server, page: Any) -> None:
    event_id = server.seeded.record_event
    database = server.data_dir / "sunledger.db"
    with sqlite3.connect(database) as db:
        (original,) = db.execute(
            "SELECT body FROM events WHERE event_id = ?", (event_id,)
        ).fetchone()
        # One byte of the logged event: the last digit of its occurred_at year.
        body = bytes(original)
        at = body.index(b'"occurred_at":"') + len(b'"occurred_at":"') + 3
        tampered = body[:at] + (b"1" if body[at : at + 1] != b"1" else b"2") + body[at + 1 :]
        assert tampered != bytes(original)
        db.execute("UPDATE events SET body = ? WHERE event_id = ?", (tampered, event_id))
    try:
        _english(page)
        page.goto(server.url("/r/p-sun"))
        _wait_verified(page)
        badge = page.locator(f"li[data-event-id='{event_id}'] .badge")
        assert badge.get_attribute("data-state") == "fail"
        assert badge.get_attribute("data-check") == "leaf_hash"
        assert "leaf hash" in badge.inner_text()
        banner = page.locator("#verify-summary")
        assert "bad" in (banner.get_attribute("class") or "")
        assert "NOT be confirmed" in banner.inner_text() and "leaf hash" in banner.inner_text()
        # The diner is told what to do: whom to contact.
        assert "12315" in banner.locator("[data-role=what-to-do]").inner_text()
        # The Python verifier agrees on the failed check.
        assert _python_verdict(server, event_id).failed.name == "leaf_hash"
        # The other items still verify.
        ok = page.locator(".badge[data-state=ok]").count()
        assert ok >= 4
        save_screenshot(page, "consumer-tampered.png")
    finally:
        with sqlite3.connect(database) as db:
            db.execute("UPDATE events SET body = ? WHERE event_id = ?", (original, event_id))


def test_the_regulator_closes_an_alert_and_the_consumer_sees_it(
    server: Server, browser: Any
) -> None:
    alert_id = server.seeded.rectified_alert
    context = browser.new_context(viewport=DESKTOP)
    context.set_default_timeout(WAIT_MS)
    context.add_init_script("localStorage.setItem('sunledger.lang', 'en')")
    try:
        console = context.new_page()
        console.goto(server.url("/console"))
        console.fill("#api-key", server.seeded.keys["district-east"])
        console.click("#signin button[type=submit]")
        row = console.locator(f"#queue tr[data-alert-id='{alert_id}']")
        row.wait_for(timeout=WAIT_MS)
        assert row.get_attribute("data-status") == "rectification_submitted"
        # Filters: class 3 hides this class 2 alert and shows the vision one.
        console.select_option("#filters select[name=class]", "3")
        expect(console.locator(f"#queue tr[data-alert-id='{alert_id}']")).to_have_count(
            0, timeout=WAIT_MS
        )
        expect(console.locator("#queue tr")).to_have_count(1, timeout=WAIT_MS)
        assert console.locator("#queue tr").get_attribute("data-alert-id") == (
            server.seeded.vision_alert
        )
        console.select_option("#filters select[name=class]", "")
        row.wait_for(timeout=WAIT_MS)
        console.wait_for_selector("#live.on", timeout=WAIT_MS)
        row.click()
        console.wait_for_selector("#detail [data-action=close]", timeout=WAIT_MS)
        # The rectification photo is shown (fetched with the key).
        console.wait_for_selector("#detail .thumbs img", timeout=WAIT_MS)
        save_screenshot(console, "console.png")
        console.fill("#note", "sample retention checked on site")
        console.click("#detail [data-action=close]")
        console.wait_for_selector("#detail-status[data-status=closed]", timeout=WAIT_MS)
        # The stream delivered the step too.
        expect(console.locator("#live")).to_have_attribute(
            "data-last-status", "closed", timeout=WAIT_MS
        )

        consumer = context.new_page()
        consumer.set_viewport_size({"width": 390, "height": 844})
        consumer.goto(server.url("/r/p-sun"))
        item = consumer.locator(f"li[data-alert-id='{alert_id}']")
        item.wait_for(timeout=WAIT_MS)
        # The status is the fold of the alert's verified transitions, rendered once they
        # verified (the closing step is logged but not anchored yet: it waits for the chain).
        expect(item).to_have_attribute("data-status", "closed", timeout=WAIT_MS)
        assert "closed" in item.locator("[data-role=alert-status]").inner_text()
        assert item.locator("li[data-to-status=closed]").count() == 1
        # Not every item is confirmed yet: the banner is amber and says how many are, never
        # "all authentic"; once anchored, it is green.
        banner = consumer.locator("#verify-summary")
        expect(banner).to_have_class(re.compile("waiting"), timeout=WAIT_MS)
        assert "✓" not in banner.inner_text() and "wait for the chain" in banner.inner_text()
        anchor(server.data_dir, server.env)
        consumer.reload()
        expect(consumer.locator(".badge[data-state=pending]")).to_have_count(0, timeout=WAIT_MS)
        expect(banner).to_have_class(re.compile(r"\bok\b"), timeout=WAIT_MS)
        assert "This record is authentic" in banner.inner_text()
    finally:
        context.close()


def test_the_kitchen_sees_the_error_of_its_bad_csv_row(server: Server, page: Any) -> None:
    _english(page)
    page.set_viewport_size(DESKTOP)
    page.goto(server.url("/kitchen"))
    page.fill("#api-key", server.seeded.keys["sunny-noodles"])
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#today li[data-record-type=morning_check][data-done]", timeout=WAIT_MS)
    today = page.evaluate(
        "(() => { const d = new Date(); const p = n => String(n).padStart(2, '0');"
        " return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`; })()"
    )
    csv = (
        "date,dish,meal,weight_g,time_in,removed_at,fridge,person\n"
        f"{today},Fried rice,lunch,150,{today}T00:05,,sample-fridge-1,Cook Li\n"
        f"{today},Soup,brunch,150,{today}T00:10,,sample-fridge-1,Cook Li\n"
    )
    page.select_option("#csv select[name=record_type]", "sample_retention")
    page.set_input_files(
        "#csv input[name=file]",
        files=[{"name": "samples.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    page.click("#csv button[type=submit]")
    error = page.locator("#csv-errors li[data-row='3']")
    error.wait_for(timeout=WAIT_MS)
    assert error.get_attribute("data-column") == "meal"
    assert "row 3" in error.inner_text() and "meal" in error.inner_text()
    assert page.locator("#csv-errors li").count() == 1
    assert page.locator("#csv-ok").count() == 0
    save_screenshot(page, "kitchen-csv.png")
