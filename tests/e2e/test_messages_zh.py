"""Server messages on the Chinese pages (issue 17): sign-in errors, validation errors of the
kitchen's CSV report, alert descriptions and the console's local times, in a real browser.

The API answers each error with a code and parameters beside its English ``detail``
(traceability/messages.py); the pages translate the code. A server of its own: the kitchen
test logs a record that raises an alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Server, _environment, save_screenshot, serving
from playwright.sync_api import expect
from seeded_kitchen import PREMISES_ZONE, local_minute, register_city, seed_over_http

from traceability.settings import Settings

WAIT_MS = 60_000
PHONE = {"width": 414, "height": 896}
UNKNOWN_KEY = "slk_0123456789abcdef_" + "x" * 43


@pytest.fixture(scope="module")
def zh_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("messages-data")
    env = _environment(data_dir)
    settings = Settings(data_dir=data_dir, database_url=None)
    keys, probe_key = register_city(settings)
    with serving(data_dir, env) as base:
        yield Server(base, data_dir, env, seed_over_http(base, settings, keys, probe_key))


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(viewport=PHONE)
    made.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    made.on("page", lambda tab: tab.on("pageerror", lambda exc: errors.append(str(exc))))
    yield made
    made.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_the_kitchen_says_sign_in_and_csv_errors_in_chinese(
    zh_server: Server, context: Any
) -> None:
    server = zh_server
    page = context.new_page()
    page.goto(server.url("/kitchen"))
    # An unknown key: the 401's code, in Chinese (the English detail is not shown).
    page.fill("#api-key", UNKNOWN_KEY)
    page.click("#signin button[type=submit]")
    expect(page.locator("#signin-error")).to_have_text(
        "API 密钥 0123456789abcdef 无效，请检查是否输入正确"
    )
    page.fill("#api-key", server.seeded.keys["sunny-noodles"])
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#today li[data-record-type=morning_check]")

    # A light sample: the raised alert is worded in Chinese from its measurements.
    page.click("details[data-record-type=sample_retention] summary")
    form = page.locator("#form-sample_retention")
    form.locator("[name=dish]").fill("Braised tofu")
    form.locator("[name=weight_g]").fill("100")
    form.locator("[name=fridge]").fill("sample-fridge-1")
    form.locator("[name=person]").fill("Cook Li")
    yesterday = (datetime.now(UTC).astimezone(PREMISES_ZONE) - timedelta(days=1)).replace(
        hour=11, minute=30
    )
    page.evaluate(
        "([day, time]) => { const f = document.getElementById('form-sample_retention');"
        " f.elements.date.value = day; f.elements.time_in.value = time; }",
        [yesterday.date().isoformat(), yesterday.strftime("%Y-%m-%dT%H:%M")],
    )
    form.locator("button[type=submit]").click()
    raised = form.locator(".raised-alert li[data-rule=sample_underweight]")
    raised.wait_for()
    expect(raised.locator("[data-role=alert-sentence]")).to_have_text(
        "留样 100 克，少于规定的 125 克"
    )
    listed = page.locator("#alerts [data-role=alert-sentence]", has_text="留样 100 克")
    listed.first.wait_for()
    # Its times in the premises' zone (Asia/Shanghai), named: not UTC sliced from the API.
    alert_id = raised.get_attribute("data-alert-id")
    alert = httpx.get(
        server.url(f"/v1/alerts/{alert_id}"),
        headers={"Authorization": f"Bearer {server.seeded.keys['sunny-noodles']}"},
        timeout=30,
    ).json()
    opened, due = local_minute(alert["opened_at"]), local_minute(alert["due_at"])
    expect(raised.locator("[data-role=due]")).to_have_text(f" · 整改期限 {due}")
    times = page.locator(f"#alerts li[data-alert-id='{alert_id}'] [data-role=alert-times]")
    expect(times).to_have_text(f"发现 {opened} · 整改期限 {due}")

    # A CSV file's row report: every reason in Chinese, from the rows' codes.
    day = yesterday.date().isoformat()
    tomorrow = (yesterday + timedelta(days=2)).date().isoformat()
    csv = (
        "date,dish,meal,weight_g,time_in,removed_at,fridge,person\n"
        f"{day},=1+1,lunch,150,{day} 11:00,,sample-fridge-1,Cook Li\n"
        f"{day},Soup,brunch,150,{day} 11:05,,sample-fridge-1,Cook Li\n"
        f"{tomorrow},Rice,lunch,150,{day} 11:10,,sample-fridge-1,Cook Li\n"
        f"05/12/2026,Buns,lunch,-5,{day} 11:15,,sample-fridge-1,Cook Li\n"
    )
    page.select_option("#csv select[name=record_type]", "sample_retention")
    page.set_input_files(
        "#csv input[name=file]",
        files=[{"name": "samples.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    page.click("#csv button[type=submit]")
    page.wait_for_selector("#csv-errors li")
    rows = {
        (int(row), column): text
        for row, column, text in page.eval_on_selector_all(
            "#csv-errors li",
            "l => l.map(x => [x.dataset.row, x.dataset.column, x.textContent])",
        )
    }
    assert "可能被表格软件当作公式执行" in rows.get((2, "dish"), ""), rows
    assert "须为以下之一" in rows[(3, "meal")]
    assert f"{tomorrow} 是将来的日期" in rows[(4, "date")]
    assert "日和月的顺序不明确" in rows[(5, "date")] and "YYYY-MM-DD" in rows[(5, "date")]
    assert "须大于 0" in rows[(5, "weight_g")]
    report = page.inner_text("#csv-result")
    # No English reason is left in the Chinese report.
    for english in ("nothing was stored", "formula", "ambiguous", "in the future", "Input should"):
        assert english not in report, english
    page.locator("#csv-result").scroll_into_view_if_needed()
    save_screenshot(page, "kitchen-csv-errors-zh.png")


def test_the_console_words_alerts_and_times_in_chinese_and_local_time(
    zh_server: Server, context: Any
) -> None:
    server = zh_server
    page = context.new_page()
    page.goto(server.url("/console"))
    page.fill("#api-key", "not-a-key")
    page.click("#signin button[type=submit]")
    expect(page.locator("#signin-error")).to_contain_text("API 密钥格式不对")
    page.fill("#api-key", server.seeded.keys["district-east"])
    page.click("#signin button[type=submit]")
    rectified = server.seeded.rectified_alert
    row = page.locator(f"#queue tr[data-alert-id='{rectified}']")
    row.wait_for()
    # The queue's deadline in the premises' zone (Asia/Shanghai), named, not UTC.
    due = row.locator("td").nth(5).inner_text()
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} GMT\+8", due), due
    row.click()
    sentence = page.locator("#detail [data-role=alert-sentence]")
    expect(sentence).to_have_text("留样 90 克，少于规定的 125 克")
    # The English as logged is there, folded away and labelled.
    logged = page.locator("#detail [data-role=alert-logged]")
    assert logged.locator("summary").inner_text() == "账本记录的原文（英文）"
    times = page.inner_text("#detail [data-role=detail-times]")
    assert times.count("GMT+8") == 2 and "UTC" not in times, times
    timeline = page.inner_text("#detail .timeline")
    assert "GMT+8" in timeline and "UTC" not in timeline, timeline
    save_screenshot(page, "console-alert-zh.png")
    # In English the same alert reads in English, from the same numbers.
    page.click("#lang")
    expect(sentence).to_have_text("food sample of 90 g, under the 125 g required")
