"""What a page shows without proof is labelled, never ticked (issue 14, item 1), and the
consumer page fails closed.

An attacker's view of the public pages, in Debian's Chromium: a database edit of the
projection behind the landing list's grade and problems changes the list, but the list
never ticks or colours those values and says they are the platform's report, not yet
checked; an omission the browser cannot see (alerts moved off the record) leaves "no open
alerts" without a tick; a snapshot row edited to look recent fails its item; and when the
trust file, the chain, the witness policy or the anchors are missing or different, the
consumer page shows "not confirmed" or "waiting", never green. Each test restores what it
changed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from conftest import Server, phone_context, save_screenshot
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from playwright.sync_api import expect
from seeded_kitchen import PREMISES, RIVER

WAIT_MS = 90_000
PHONE = {"width": 390, "height": 844}
# Words that read as a proof.
PROOF_WORDS = re.compile(r"✓|(?<!not )verified|record is authentic|已核验|此记录真实")


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    with phone_context(browser, viewport=PHONE, timeout_ms=WAIT_MS, english=True) as made:
        yield made


@contextmanager
def rows_set(server: Server, table: str, column: str, where: str, value: Any) -> Iterator[int]:
    """``UPDATE table SET column = value WHERE where`` (at least one row), each row restored
    to its own value afterwards; yields how many rows changed."""
    database = server.data_dir / "sunledger.db"
    with sqlite3.connect(database) as db:
        rows = db.execute(f"SELECT rowid, {column} FROM {table} WHERE {where}").fetchall()
        assert rows, (table, where)
        db.executemany(
            f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [(value, r) for r, _ in rows]
        )
    try:
        yield len(rows)
    finally:
        with sqlite3.connect(database) as db:
            db.executemany(
                f"UPDATE {table} SET {column} = ? WHERE rowid = ?", [(v, r) for r, v in rows]
            )


def _one(server: Server, sql: str) -> Any:
    with sqlite3.connect(server.data_dir / "sunledger.db") as db:
        (value,) = db.execute(sql).fetchone()
    return value


def _settled(page: Any) -> None:
    page.wait_for_selector(".badge", timeout=WAIT_MS)
    expect(page.locator(".badge[data-state=pending]")).to_have_count(0, timeout=WAIT_MS)
    expect(page.locator("#verify-summary")).to_have_class(
        re.compile("ok|bad|waiting"), timeout=WAIT_MS
    )


# ---------------------------------------------------------------- the landing list


def test_the_landing_list_labels_an_edited_grade_and_problems_as_unchecked(
    server: Server, context: Any
) -> None:
    """``UPDATE grades SET grade='A'`` and every open alert of the river premises closed:
    the list shows what the tables say, but as the platform's report, never ticked or in
    the grade's colours; the place's own page then shows the log's truth, in red."""
    sun_grade = _one(server, f"SELECT grade FROM grades WHERE premises_id = '{PREMISES}'")
    forged = "A" if sun_grade != "A" else "B"
    page = context.new_page()
    with (
        rows_set(server, "grades", "grade", f"premises_id = '{PREMISES}'", forged),
        rows_set(
            server, "alerts", "status", f"premises_id = '{RIVER}' AND status != 'closed'", "closed"
        ) as closed,
    ):
        assert closed >= 2
        page.goto(server.url("/"))
        page.wait_for_selector("#places li", timeout=WAIT_MS)
        results = page.locator("#results")
        # The forged values are there (the list is the tables'), labelled, never ticked.
        sun = page.locator(f"#places li[data-premises-id={PREMISES}]")
        river = page.locator(f"#places li[data-premises-id={RIVER}]")
        assert sun.locator("[data-role=place-grade]").inner_text() == forged
        assert river.locator("[data-role=place-problems]").inner_text() == (
            "the platform reports no open alerts"
        )
        assert not PROOF_WORDS.search(results.inner_text()), results.inner_text()
        assert page.locator("#results .ok-text, #results .badge, #results .ok").count() == 0
        for item in (sun, river):
            assert item.locator("[data-proven=false]").count() >= 3
            assert "not yet checked" in item.locator("[data-role=place-unchecked]").inner_text()
            letter = item.locator("[data-role=place-grade]")
            assert "reported" in (letter.get_attribute("class") or "")
            assert letter.evaluate("e => getComputedStyle(e).backgroundColor") == (
                "rgba(0, 0, 0, 0)"
            )
        assert "reported by the platform, not yet checked" in page.inner_text("#unchecked")
        assert "open the place to check it" in page.inner_text("#unchecked")
        # In Chinese too.
        page.click("#lang")
        expect(page.locator("#unchecked")).to_contain_text("尚未核对", timeout=WAIT_MS)
        assert "平台报告" in river.locator("[data-role=place-problems]").inner_text()
        assert not PROOF_WORDS.search(results.inner_text()), results.inner_text()
        page.click("#lang")
        expect(page.locator("#unchecked")).to_contain_text("not yet checked", timeout=WAIT_MS)
        # The place's page checks: the alerts the table closed are open in the log.
        river.locator("a").click()
        page.wait_for_url(re.compile(rf"/r/{RIVER}$"), timeout=WAIT_MS)
        _settled(page)
        assert "bad" in (page.get_attribute("#verify-summary", "class") or "")
        assert page.locator(".failed-items li[data-check=record_matches_log]").count() >= 2
        assert int(page.get_attribute("#problems", "data-open") or 0) >= 2


# ---------------------------------------------------------------- the consumer page


def test_no_open_alerts_is_not_ticked_when_the_alerts_are_off_the_record(
    server: Server, context: Any
) -> None:
    """An omission the browser cannot see (the premises' alerts moved off its record):
    "no open alerts" is said as the platform's view, without a tick."""
    page = context.new_page()
    with rows_set(server, "alerts", "premises_id", f"premises_id = '{PREMISES}'", "p-elsewhere"):
        page.goto(server.url(f"/r/{PREMISES}"))
        _settled(page)
        problems = page.locator("#problems")
        assert problems.get_attribute("data-open") == "0"
        assert "No open alerts" in problems.inner_text()
        assert not PROOF_WORDS.search(problems.inner_text()), problems.inner_text()
        assert "not proven" in problems.locator("[data-proven=false]").inner_text()
        assert problems.evaluate("e => getComputedStyle(e.querySelector('h2')).color") != (
            "rgb(27, 127, 59)"  # --ok
        )


def test_a_snapshot_edited_to_look_recent_is_not_ticked(server: Server, context: Any) -> None:
    sha = server.seeded.snapshot_sha256
    taken = str(_one(server, f"SELECT taken_at FROM kitchen_snapshots WHERE sha256 = '{sha}'"))
    hour = "00" if taken[11:13] != "00" else "01"
    page = context.new_page()
    with rows_set(
        server, "kitchen_snapshots", "taken_at", f"sha256 = '{sha}'", taken[:11] + hour + taken[13:]
    ):
        page.goto(server.url(f"/r/{PREMISES}"))
        _settled(page)
        figure = page.locator("figure.snapshot[data-camera-id='cam-sun-2']")
        tick = figure.locator("[data-role=image-hash]")
        expect(tick).to_have_attribute("data-state", "fail", timeout=WAIT_MS)
        assert "differs from the log" in tick.inner_text()
        failed = page.locator(".failed-items li[data-check=record_matches_log]")
        assert failed.count() == 1 and "snapshot taken_at" in failed.inner_text()
        assert figure.locator("[data-role=taken-at]").inner_text() != "…"
    # Untouched (a fresh context: the record is cacheable for 30 s): ticked, the time is the
    # event's, the camera's name labelled.
    fresh = page.context.browser.new_context(viewport=PHONE)
    fresh.set_default_timeout(WAIT_MS)
    fresh.add_init_script("try { localStorage.setItem('sunledger.lang', 'en') } catch {}")
    page = fresh.new_page()
    page.goto(server.url(f"/r/{PREMISES}"))
    figure = page.locator("figure.snapshot[data-camera-id='cam-sun-2']")
    expect(figure.locator("[data-role=image-hash]")).to_have_attribute(
        "data-state", "ok", timeout=WAIT_MS
    )
    assert "not proven" in figure.locator("figcaption [data-proven=false]").inner_text()
    assert figure.locator("[data-role=taken-at]").inner_text() != "…"
    fresh.close()


# ---------------------------------------------------------------- failing closed


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # closed again: nothing listens there


def _trust_with(server: Server, change: Callable[[dict[str, Any]], None]) -> str:
    import httpx

    trust = httpx.get(server.url("/v1/trust"), timeout=30).json()
    change(trust)
    return json.dumps(trust)


def _other_witness(trust: dict[str, Any]) -> None:
    """A witness policy naming a key that never cosigned this log."""
    name = "witness.example"
    raw = bytes([0x04]) + Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    key_id = hashlib.sha256(name.encode() + b"\n" + raw).digest()[:4].hex()
    vkey = f"{name}+{key_id}+{base64.b64encode(raw).decode()}"
    trust["witnesses"] = {"quorum": 1, "keys": [{"name": name, "vkey": vkey, "label": "Elsewhere"}]}


def without_blocks(page: Any, path: str, names: tuple[str, ...]) -> None:
    """Serve ``path`` without the data blocks ``names`` (``<script id="data-…">``): the page
    then asks the API for them, where the test's routes answer."""
    wanted = "|".join(names)
    block = re.compile(
        rf'<script type="application/json" id="data-({wanted})">.*?</script>\n?', re.S
    )

    def handle(route: Any) -> None:
        answer = route.fetch()
        route.fulfill(response=answer, body=block.sub("", answer.text()))

    page.route(lambda url: url.endswith(path) or f"{path}?" in url, handle)


def _strip_anchors(route: Any) -> None:
    answer = route.fetch()
    body = answer.json()
    for bundle in (body.get("bundles") or {}).values():
        bundle["anchor"] = None
    route.fulfill(response=answer, body=json.dumps(body))


def _other_chain_rpc(route: Any) -> None:
    """The RPC as it is, except that it says it serves chain 5 (single calls and batches)."""
    sent = json.loads(route.request.post_data or "{}")
    calls = sent if isinstance(sent, list) else [sent]
    if not any(c.get("method") == "eth_chainId" for c in calls):
        route.continue_()
        return
    answer = route.fetch()
    got = answer.json()
    answers = got if isinstance(got, list) else [got]
    asked = {c.get("id"): c.get("method") for c in calls}
    for reply in answers:
        if asked.get(reply.get("id")) == "eth_chainId":
            reply.pop("error", None)
            reply["result"] = "0x5"
    body = answers if isinstance(got, list) else answers[0]
    route.fulfill(response=answer, body=json.dumps(body))


FAILURES = {
    # name: (what the page is given, the check every item must fail)
    "trust file answers 500": ("trust500", "anchor_pinned"),
    "trust file names another contract": ("contract", "anchor_pinned"),
    "trust file names another chain": ("chain", "anchor_pinned"),
    "chain RPC unreachable": ("rpc-down", "chain_unreachable"),
    "chain RPC serves another chain": ("rpc-other", "chain_id"),
    "witness policy not met": ("witness", "cosignatures"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_the_consumer_page_fails_closed(server: Server, context: Any, case: str) -> None:
    how, check = FAILURES[case]
    page = context.new_page()
    path = f"/r/{PREMISES}"
    # The page carries its trust file; served without it, the page asks /v1/trust.
    without_blocks(page, path, ("trust",))
    if how == "trust500":
        page.route("**/v1/trust", lambda r: r.fulfill(status=500, body="{}"))
    elif how in ("contract", "chain", "witness"):
        changes: dict[str, Callable[[dict[str, Any]], None]] = {
            "contract": lambda t: t["chain"].update(contract="0x" + "11" * 20),
            "chain": lambda t: t["chain"].update(chain_id=int(t["chain"]["chain_id"]) + 1),
            "witness": _other_witness,
        }
        body = _trust_with(server, changes[how])
        page.route(
            "**/v1/trust",
            lambda r: r.fulfill(status=200, content_type="application/json", body=body),
        )
    elif how == "rpc-down":
        path += f"?rpc=http://127.0.0.1:{_closed_port()}/"
    elif how == "rpc-other":
        page.route("**/v1/chain/rpc", _other_chain_rpc)
    page.goto(server.url(path))
    _settled(page)
    banner = page.locator("#verify-summary")
    assert "bad" in (banner.get_attribute("class") or ""), banner.inner_text()
    states = page.eval_on_selector_all(".badge", "els => els.map(e => e.dataset.state)")
    assert states and set(states) == {"fail"}, states
    checks = page.eval_on_selector_all(".badge[data-check]", "els => els.map(e => e.dataset.check)")
    assert set(checks) == {check}, checks
    # Nothing is rendered from an unconfirmed event, and nothing reads as a proof.
    assert page.inner_text(".grade .letter") == "…"
    assert "…" in page.inner_text("[data-section=inspection]")
    assert page.locator("#problems li[data-verified=true]").count() == 0
    assert not PROOF_WORDS.search(page.inner_text("#page")), page.inner_text("#page")
    if how == "trust500":
        assert "every anchor is refused" in page.text_content("#pinned-contract")


def test_public_config_unreadable_shows_a_load_error(server: Server, context: Any) -> None:
    page = context.new_page()
    without_blocks(page, f"/r/{PREMISES}", ("config",))
    page.route("**/v1/public/config", lambda r: r.fulfill(status=500, body="{}"))
    page.goto(server.url(f"/r/{PREMISES}"))
    expect(page.locator("[data-role=load-error]")).to_be_visible(timeout=WAIT_MS)
    assert "Server error (500)" in page.inner_text("[data-role=load-error]")
    assert not PROOF_WORDS.search(page.inner_text("#page"))


def test_anchors_withheld_make_the_page_wait_never_green(server: Server, context: Any) -> None:
    """Bundles without their anchor (a server that withholds them): each item waits for the
    chain, the banner is amber and counts what it confirmed, and no problem line is ticked."""
    page = context.new_page()
    without_blocks(page, f"/r/{RIVER}", ("proofs",))
    page.route("**/v1/proofs?*", _strip_anchors)
    page.goto(server.url(f"/r/{RIVER}"))
    _settled(page)
    banner = page.locator("#verify-summary")
    assert "waiting" in (banner.get_attribute("class") or ""), banner.inner_text()
    assert not PROOF_WORDS.search(banner.inner_text()), banner.inner_text()
    assert "0 of" in banner.inner_text()
    states = page.eval_on_selector_all(".badge", "els => els.map(e => e.dataset.state)")
    assert states and set(states) == {"waiting"}, states
    lines = page.locator("#problems li.problem")
    assert lines.count() >= 2
    assert page.locator("#problems li[data-verified=waiting]").count() == lines.count()
    assert not PROOF_WORDS.search(page.inner_text("#problems"))
    # "Waiting" is marked by a ring drawn in CSS, not an emoji that some fonts lack.
    assert "⏳" not in page.inner_text("#page")
    ring = page.eval_on_selector(
        ".badge.waiting",
        "b => { const s = getComputedStyle(b, '::before');"
        " return [s.content, s.borderTopStyle, s.borderRightColor, parseFloat(s.width)]; }",
    )
    assert ring[0] == '""' and ring[1] == "solid" and ring[3] > 0, ring
    assert ring[2] == "rgba(0, 0, 0, 0)", ring  # the gap that makes it a pending ring
    assert (
        page.locator("#problems li[data-verified=waiting] .waiting-mark").count() == lines.count()
    )
    save_screenshot(page, "consumer-waiting.png")
