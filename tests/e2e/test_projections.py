"""A database edit of any projection the consumer page shows turns the page red and names the
item: the page renders from verified event payloads and compares the server's record with
them. The untouched page stays all green. Each test restores what it changed.

Also: verify.js and traceability/verify/bundle.py fed the same tampered bundles
(tests/traceability/vectors/bundle_tampers.json) fail at the same check, and the page
refuses an anchor in a contract other than the pinned one.
"""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Server
from playwright.sync_api import expect

from traceability.transparency.checkpoints import NoteVerifier
from traceability.verify import ChainPin, verify_bundle

WAIT_MS = 60_000
TAMPERS = Path(__file__).parents[1] / "traceability" / "vectors" / "bundle_tampers.json"


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


def _load_verified(server: Server, page: Any) -> None:
    page.goto(server.url("/r/p-sun"))
    page.wait_for_selector(".badge", timeout=WAIT_MS)
    expect(page.locator(".badge[data-state=pending]")).to_have_count(0, timeout=WAIT_MS)


@contextmanager
def edited(server: Server, table: str, column: str, where: str, value: Any) -> Iterator[Any]:
    """``UPDATE table SET column = value WHERE where`` (one row), restored afterwards."""
    database = server.data_dir / "sunledger.db"
    with sqlite3.connect(database) as db:
        rows = db.execute(f"SELECT rowid, {column} FROM {table} WHERE {where}").fetchall()
        assert len(rows) == 1, (table, where, rows)
        rowid, original = rows[0]
        db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (value, rowid))
    try:
        yield original
    finally:
        with sqlite3.connect(database) as db:
            db.execute(f"UPDATE {table} SET {column} = ? WHERE rowid = ?", (original, rowid))


def _one(server: Server, sql: str) -> Any:
    with sqlite3.connect(server.data_dir / "sunledger.db") as db:
        (value,) = db.execute(sql).fetchone()
    return value


def test_the_untouched_page_is_all_green(server: Server, page: Any) -> None:
    _load_verified(server, page)
    states = page.eval_on_selector_all(".badge", "els => els.map(e => e.dataset.state)")
    # "waiting": logged and proven in the log, its anchor not on chain yet (the regulator's
    # closing step of tests/e2e/test_pages.py, when it ran first). Nothing fails.
    failing = page.eval_on_selector_all(
        ".badge[data-state=fail]", "els => els.map(e => (e.dataset.item || '') + ': ' + e.title)"
    )
    assert states and set(states) <= {"ok", "waiting"}, (
        page.inner_text("#verify-summary"),
        failing,
    )
    assert states.count("ok") >= 8
    assert "bad" not in (page.locator("#verify-summary").get_attribute("class") or "")
    assert page.locator(".failed-items li").count() == 0
    # Rendered from the verified events: the grade, the inspection, a week of summaries.
    assert page.inner_text(".grade .letter") in ("A", "B", "C")
    assert page.inner_text("[data-role=inspection-result]") == "excellent"
    assert page.locator("svg.chart circle.mean").count() == 7
    # What no event states is labelled, never ticked.
    assert "from the registry, not proven" in page.inner_text(".hero")
    assert "not proven" in page.inner_text("[data-section=now]")


def _projection_cases(server: Server) -> list[tuple[str, str, str, str, Any, str]]:
    vision = server.seeded.vision_alert
    newest_day = _one(
        server, "SELECT max(day) FROM probe_day_summaries WHERE device_id = 'fr-sun-1'"
    )
    return [
        # (what, table, column, where, new value, the banner must name)
        ("grade letter", "grades", "grade", "premises_id = 'p-sun'", "C", "grade grade"),
        ("alert status", "alerts", "status", f"alert_id = '{vision}'", "closed", "status"),
        ("alert text", "alerts", "detail", f"alert_id = '{vision}'", "all fine", "description"),
        (
            "inspection result",
            "inspections",
            "result",
            "premises_id = 'p-sun'",
            "fair",
            "inspection result",
        ),
        (
            "summary value",
            "probe_day_summaries",
            "max",
            f"device_id = 'fr-sun-1' AND day = '{newest_day}'",
            -40.0,
            f"fr-sun-1 {newest_day} max",
        ),
        ("lot supplier", "lots", "supplier", "lot_code = 'L2026-07'", "Other Farm", "lot supplier"),
    ]


@pytest.mark.parametrize(
    "case",
    [
        "grade letter",
        "alert status",
        "alert text",
        "inspection result",
        "summary value",
        "lot supplier",
    ],
)
def test_an_edited_projection_turns_the_page_red_and_names_the_item(
    server: Server, page: Any, case: str
) -> None:
    cases = {c[0]: c for c in _projection_cases(server)}
    _what, table, column, where, value, named = cases[case]
    with edited(server, table, column, where, value):
        _load_verified(server, page)
        banner = page.locator("#verify-summary")
        assert "bad" in (banner.get_attribute("class") or "")
        failed = page.locator(".failed-items li[data-check=record_matches_log]")
        assert failed.count() == 1, banner.inner_text()
        text = failed.inner_text()
        assert named in text and "the record says" in text and "the log says" in text, text
        if table == "alerts":
            assert server.seeded.vision_alert in text
        assert page.locator(".badge[data-check=record_matches_log]").count() == 1
        # The page shows what the log says, not the edited value.
        if case == "grade letter":
            assert page.inner_text(".grade .letter") != "C"
        if case == "alert status":
            item = page.locator(f"li[data-alert-id='{server.seeded.vision_alert}']")
            assert item.get_attribute("data-status") == "open"
        if case == "alert text":
            item = page.locator(f"li[data-alert-id='{server.seeded.vision_alert}']")
            # The vision rule's fixed sentence, and the text the log holds folded below it
            # ("as logged"), never the edited one.
            sentence = item.locator("[data-role=alert-sentence]")
            assert sentence.inner_text() == "a kitchen worker without a hat"
            logged = item.locator("details[data-role=alert-logged]")
            assert logged.locator("summary").inner_text() == "as logged"
            assert logged.text_content() == "as loggeda cook without a hat at the stove"
            assert "all fine" not in item.inner_text()


# ---------------------------------------------------------------- the shared bundle vectors


def _at(value: Any, path: str) -> tuple[Any, Any]:
    keys: list[Any] = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        value = value[key]
    return value, keys[-1]


def _tampered(bundle: dict[str, Any], case: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(bundle)
    op = case.get("op")
    if op is None:
        return out
    parent, key = _at(out, case["path"])
    if op == "set":
        parent[key] = case["value"]
    elif op == "add":
        parent[key] = int(parent[key]) + int(case["value"])
    elif op == "flip_hex":
        text = str(parent[key])
        parent[key] = text[:-1] + ("0" if text[-1] != "0" else "1")
    elif op == "corrupt_signature":
        lines = str(parent[key]).split("\n")
        at = max(i for i, line in enumerate(lines) if line.startswith("\u2014 "))
        head, signature = lines[at].rsplit(" ", 1)
        middle = len(signature) // 2
        swapped = "A" if signature[middle] != "A" else "B"
        lines[at] = f"{head} {signature[:middle]}{swapped}{signature[middle + 1 :]}"
        parent[key] = "\n".join(lines)
    else:
        raise AssertionError(f"unknown op {op}")
    return out


def _js_verdicts(
    page: Any, bundles: list[dict[str, Any]], key: str, pinned: dict[str, Any] | None
) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = page.evaluate(
        """async ([bundles, key, pinned]) => {
            const v = await import('/static/js/verify.js');
            const c = await import('/static/js/chain.js');
            const verifier = await v.parseVerifierKey(key);
            const chain = c.jsonRpc('/v1/chain/rpc');
            const pin = pinned && { chainId: BigInt(pinned.chain_id), contract: pinned.contract };
            const out = [];
            for (const b of bundles) {
                const verdict = await v.verifyBundle(b, verifier, chain, undefined, pin);
                out.push({ ok: verdict.ok, failed: verdict.failed && verdict.failed.name,
                           checks: verdict.checks.map((x) => x.name) });
            }
            return out;
        }""",
        [bundles, key, pinned],
    )
    return result


def test_the_js_and_python_verifiers_agree_on_the_shared_vectors(server: Server, page: Any) -> None:
    cases = json.loads(TAMPERS.read_text())["cases"]
    bundle = httpx.get(server.url(f"/v1/proofs/{server.seeded.record_event}"), timeout=30).json()
    key = httpx.get(server.url("/v1/log/public-key"), timeout=30).text.strip()
    pinned = httpx.get(server.url("/v1/trust"), timeout=30).json()["chain"]
    bundles = [_tampered(bundle, case) for case in cases]
    page.goto(server.url("/kitchen"))
    js = _js_verdicts(page, bundles, key, pinned)
    verifier = NoteVerifier.from_verifier_key(key)
    pin = ChainPin.of(pinned["chain_id"], pinned["contract"])
    for case, tampered, verdict in zip(cases, bundles, js, strict=True):
        python = verify_bundle(tampered, verifier, None, pin=pin)  # the offline checks
        python_failed = None if python.failed is None else python.failed.name
        assert python_failed == case["expect"], (case["name"], python.failed)
        assert verdict["failed"] == case["expect"], (case["name"], verdict)
        if case["expect"] is None:
            assert verdict["ok"], verdict  # and the JS side checked the chain too
    # An anchor in a contract other than the pinned one is refused, and so is any anchor
    # when nothing is pinned (a bundle never chooses its own trust roots).
    other = _tampered(bundle, {"op": "set", "path": "anchor.contract", "value": "0x" + "11" * 20})
    forged, unpinned = _js_verdicts(page, [other], key, pinned) + _js_verdicts(
        page, [bundle], key, None
    )
    assert (forged["ok"], forged["failed"]) == (False, "anchor_pinned")
    assert verify_bundle(other, verifier, None, pin=pin).failed.name == "anchor_pinned"  # type: ignore[union-attr]
    assert (unpinned["ok"], unpinned["failed"]) == (False, "anchor_pinned")
    elsewhere = {**pinned, "contract": "0x" + "22" * 20}
    [moved] = _js_verdicts(page, [bundle], key, elsewhere)
    assert (moved["ok"], moved["failed"]) == (False, "anchor_pinned")
