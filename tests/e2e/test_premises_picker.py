"""The premises picker (premises_picker.js) of the console and the kitchen in a real browser:
search as you type within what the key may see, by keyboard and by mouse, at 414 px.

A server of its own with a district of many premises (more than the picker lists at once),
a regulator of that district, a restaurant with one premises and one with three. Every
wait has a timeout and nothing asserts on timing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import _environment, phone_context, save_screenshot, serving
from playwright.sync_api import expect

from traceability.orgs.registry import Directory
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.db import transaction

WAIT_MS = 60_000
NARROW = {"width": 414, "height": 896}
EAST = [
    (f"e-{n:02d}", name, address)
    for n, (name, address) in enumerate(
        [(f"饺子馆 {n}", f"人民路 {n}号") for n in range(1, 13)]
        + [(f"Noodle Bar {n}", f"{n} Station Street") for n in range(1, 13)]
        + [("Harbour Grill", "8 Harbour Lane"), ("面包坊", "中山路 3号")]
    )
]


def _city(settings: Settings) -> dict[str, str]:
    engine, sessions, _log, _signer = open_platform(settings)
    directory = Directory()
    now = datetime.now(UTC)
    keys: dict[str, str] = {}
    with transaction(sessions) as session:
        for org_id, role, districts in (
            ("east-office", "regulator", ["east"]),
            ("city-works", "restaurant", []),
            ("solo", "restaurant", []),
            ("chain", "restaurant", []),
        ):
            directory.create_organisation(
                session, org_id=org_id, name=org_id, role=role, districts=districts, now=now
            )
            keys[org_id] = directory.issue_key(session, org_id, label="e2e", now=now).token
        premises = [(pid, "city-works", name, "east", address) for pid, name, address in EAST]
        premises += [
            ("w-01", "city-works", "饺子王 West", "west", "1 Harbour Lane"),
            ("s-01", "solo", "Solo Dumplings", "east", "5 Quay Street"),
            ("c-01", "chain", "Chain Canteen North", "west", "1 North Road"),
            ("c-02", "chain", "Chain Canteen South", "east", "2 South Road"),
            ("c-03", "chain", "Chain Canteen Airport", "west", "Terminal 2"),
        ]
        for n, (pid, org, name, district, address) in enumerate(premises):
            directory.add_premises(
                session,
                premises_id=pid,
                org_id=org,
                name=name,
                kind="restaurant",
                licence_number=f"JY9{n:013d}",
                licence_issued_on=date(2024, 1, 1),
                district=district,
                address=address,
                now=now,
            )
    engine.dispose()
    return keys


@pytest.fixture(scope="module")
def picker_server(
    tmp_path_factory: pytest.TempPathFactory, chromium_path: Path
) -> Iterator[tuple[str, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("picker-data")
    keys = _city(Settings(data_dir=data_dir, database_url=None))
    with serving(data_dir, _environment(data_dir)) as base:
        yield base, keys


@pytest.fixture
def page(browser_zh: Any) -> Iterator[Any]:
    # Chinese pages in a Chinese browser (its date inputs and file buttons), as in China.
    with phone_context(browser_zh, locale="zh-CN") as context:
        yield context.new_page()


def _sign_in(page: Any, base: str, path: str, key: str) -> None:
    page.goto(base + path)
    page.fill("#api-key", key)
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#desk:not([hidden])")


def _options(page: Any, listbox: str) -> list[str]:
    return list(
        page.eval_on_selector_all(
            f"#{listbox} [role=option]", "o => o.map(x => x.dataset.premisesId)"
        )
    )


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"the page is {width} px wide at {NARROW['width']} px"


def test_the_console_picker_searches_the_regulators_premises_by_keyboard_and_mouse(
    picker_server: tuple[str, dict[str, str]], page: Any
) -> None:
    base, keys = picker_server
    _sign_in(page, base, "/console", keys["east-office"])
    box = page.locator("#inspect-premises")
    expect(box).to_have_attribute("role", "combobox")
    expect(box).to_have_attribute("aria-expanded", "false")
    # The label names the input (an accessible name, not just text beside it).
    assert page.get_by_role("combobox", name="门店").count() == 2

    # Keyboard: focus opens the first matches; typing narrows them to the district's.
    box.focus()
    expect(box).to_have_attribute("aria-expanded", "true")
    assert len(_options(page, "inspect-premises-list")) == 8  # of 29: "type more"
    expect(page.locator("#inspect-premises-status")).to_contain_text("请输入更多文字")
    box.type("饺子")
    expect(page.locator("#inspect-premises-list [role=option]").first).to_contain_text("饺子馆")
    expect(page.locator("#inspect-premises-list [role=option]")).to_have_count(8)
    shown = page.inner_text("#inspect-premises-list")
    assert "饺子王 West" not in shown  # the west district's premises are not this regulator's
    assert "人民路" in shown and "east" in shown  # each match: name, address, district
    box.fill("")
    box.type("饺子馆 1")  # 饺子馆 1, 10, 11, 12 (in name order)
    expect(page.locator("#inspect-premises-list [role=option]")).to_have_count(4)
    box.press("ArrowDown")
    box.press("ArrowDown")
    second = page.locator("#inspect-premises-list [role=option]").nth(1)
    expect(second).to_have_attribute("aria-selected", "true")
    page.evaluate("document.getElementById('inspect').scrollIntoView()")
    _no_sideways_scroll(page)
    save_screenshot(page, "console-premises-picker.png")
    assert box.get_attribute("aria-activedescendant") == second.get_attribute("id")
    box.press("ArrowUp")
    box.press("ArrowUp")  # wraps round to the last
    expect(page.locator("#inspect-premises-list [role=option]").nth(3)).to_have_attribute(
        "aria-selected", "true"
    )
    box.press("Home")
    box.press("ArrowDown")
    chosen = second.get_attribute("data-premises-id")
    box.press("Enter")
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("饺子馆 10")
    form = page.locator("#inspect-form input[name=premises_id]")
    assert chosen == "e-09" and form.input_value() == "e-09"

    # Escape closes the list and keeps the pick; nothing matching says so.
    box.fill("west")
    expect(page.locator("#inspect-premises-status")).to_contain_text("没有")
    assert form.input_value() == ""  # the text no longer names the pick
    box.press("Escape")
    box.press("Escape")
    expect(box).to_have_value("")

    # Mouse, in English: the grade screen's picker, matched on the address.
    page.click("#lang")
    grade = page.locator("#grade-premises")
    expect(grade).to_have_attribute("placeholder", "Search by name, address or district")
    # A required picker stops the form until a premises is picked.
    page.fill("#grade-form [name=year]", "2025")
    page.click("#grade-form button[type=submit]")
    expect(page.locator("#grade-premises-status")).to_have_text(
        "Choose a premises from the list first"
    )
    expect(grade).to_have_attribute("aria-invalid", "true")
    assert page.locator("#grade-preview").is_hidden()
    grade.fill("harbour")
    option = page.locator("#grade-premises-list [role=option]", has_text="Harbour Grill")
    expect(page.locator("#grade-premises-list [role=option]")).to_have_count(1)
    expect(page.locator("#grade-premises-status")).to_have_text("1 premises found")
    _no_sideways_scroll(page)
    option.click()
    expect(grade).to_have_value("Harbour Grill")
    assert page.locator("#grade-form input[name=premises_id]").input_value() == "e-24"
    expect(page.locator("#grade-premises-status")).to_have_text("Picked: Harbour Grill (east)")
    page.click("#grade-form button[type=submit]")
    page.wait_for_selector("#grade-preview [data-grade]")
    assert "2025" in page.inner_text("#grade-preview")
    _no_sideways_scroll(page)


def test_the_kitchen_picks_a_single_premises_and_lets_a_chain_choose(
    picker_server: tuple[str, dict[str, str]], page: Any
) -> None:
    base, keys = picker_server
    _sign_in(page, base, "/kitchen", keys["solo"])
    expect(page.locator("#premises-search")).to_have_value("Solo Dumplings")
    page.wait_for_selector("#today li[data-record-type=morning_check]")
    assert page.locator("#premises").get_attribute("data-premises-id") == "s-01"
    page.click("#signout")

    _sign_in(page, base, "/kitchen", keys["chain"])
    box = page.locator("#premises-search")
    expect(box).to_have_value("")
    # Nothing to record against until a premises is picked.
    assert page.locator("#today").is_hidden() and page.locator("#forms").is_hidden()
    box.focus()
    expect(page.locator("#premises-search-list [role=option]")).to_have_count(3)
    assert _options(page, "premises-search-list") == ["c-01", "c-02", "c-03"]
    box.type("south")
    expect(page.locator("#premises-search-list [role=option]")).to_have_count(1)
    save_screenshot(page, "kitchen-premises-picker.png")
    box.press("Enter")  # the only match
    expect(box).to_have_value("Chain Canteen South")
    page.wait_for_selector("#today li[data-record-type=morning_check]")
    assert page.locator("#forms").is_visible()
    _no_sideways_scroll(page)
