"""Server messages on the Chinese pages (issue 17): sign-in errors, validation errors of the
kitchen's CSV report, alert descriptions (the console's, and a diner's of a camera alert) and
the console's local times, in a real browser.

The API answers each error with a code and parameters beside its English ``detail``
(traceability/messages.py); the pages translate the code. A server of its own: the kitchen
test logs a record that raises an alert.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import Server, phone_context, save_screenshot, seeded_server
from playwright.sync_api import expect
from seeded_kitchen import PREMISES, PREMISES_ZONE, local_minute, log_light_sample

from traceability.inspections.service import inspection_alert_detail
from traceability.records.checks import RecordPolicy, record_findings
from traceability.records.schemas import PurchaseInspection

WAIT_MS = 60_000
PHONE = {"width": 414, "height": 896}
UNKNOWN_KEY = "slk_0123456789abcdef_" + "x" * 43


@pytest.fixture(scope="module")
def zh_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Server]:
    with seeded_server(tmp_path_factory, "messages-data") as server:
        yield server


@pytest.fixture
def context(browser_zh: Any) -> Iterator[Any]:
    # A Chinese browser: date inputs, file buttons and number formats as in China.
    with phone_context(browser_zh, locale="zh-CN") as made:
        yield made


def test_the_kitchen_says_sign_in_and_csv_errors_in_chinese(
    zh_server: Server, context: Any
) -> None:
    server = zh_server
    page = context.new_page()
    page.goto(server.url("/kitchen"))
    assert page.evaluate("navigator.language") == "zh-CN"
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
    form = log_light_sample(page)
    yesterday = datetime.now(UTC).astimezone(PREMISES_ZONE) - timedelta(days=1)
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


def test_a_diner_reads_a_camera_alert_in_chinese_with_the_logged_text_folded(
    zh_server: Server, context: Any
) -> None:
    server = zh_server
    page = context.new_page()
    page.goto(server.url(f"/r/{PREMISES}"))
    page.wait_for_selector(".badge", timeout=WAIT_MS)
    expect(page.locator(".badge[data-state=pending]")).to_have_count(0, timeout=WAIT_MS)
    # A camera rule logs no numbers: its fixed sentence, worded from the verified breach's
    # rule, and the English the log holds, folded below it and labelled.
    item = page.locator(f"li[data-alert-id='{server.seeded.vision_alert}']")
    expect(item.locator("[data-role=alert-sentence]")).to_have_text("后厨人员未戴帽子")
    assert item.locator("[data-role=alert-description]").get_attribute("data-localised") == "true"
    logged = item.locator("details[data-role=alert-logged]")
    assert logged.locator("summary").inner_text() == "账本记录的原文（英文）"
    assert logged.text_content() == "账本记录的原文（英文）a cook without a hat at the stove"
    assert "without a hat" not in item.inner_text()  # folded away until opened
    item.scroll_into_view_if_needed()
    save_screenshot(page, "consumer-vision-alert-zh.png")

    # The rules that name things: the sentence from the text the platform logs for them
    # (the record check's and the inspection's own wording), in both languages.
    received = PurchaseInspection.model_validate(
        {
            "date": "2026-12-01",
            "supplier": "绿源蔬菜配送",
            "supplier_licence": "JY1234",
            "supplier_certificate_expiry": "2026-11-30",
            "product": "鸡蛋",
            "lot_code": "L-7",
            "quantity": 10,
            "unit": "kg",
            "receiver": "王芳",
        }
    )
    (expired,) = [
        f.detail
        for f in record_findings(received, PREMISES, RecordPolicy())
        if f.rule == "supplier_certificate_expired"
    ]
    inspected = inspection_alert_detail(
        date(2026, 11, 2), "district-east", "e-9", ["从业人员健康管理", "冷藏设施"], []
    )
    cases = [
        ("supplier_certificate_expired", f"{expired} (record e-1)"),
        ("inspection_key_item", inspected),
        ("no_mask", "no_mask seen by mask_hog_logreg for 20 s or more in prep-1"),
    ]
    said = page.evaluate(
        """async (cases) => {
            const m = await import("/static/js/messages.js");
            const i18n = await import("/static/js/i18n.js");
            const out = {};
            for (const [rule, text] of cases) out[rule] = m.alertSentence({ rule }, String, text);
            out.lang = i18n.lang();
            return out;
        }""",
        cases,
    )
    assert said == {
        "supplier_certificate_expired": "2026-12-01 收货的“鸡蛋”（批号 L-7）"
        "来自供货商“绿源蔬菜配送”，其证照已于 2026-11-30 过期",
        "inspection_key_item": "2026-11-02 的监督检查中关键项不合格：从业人员健康管理、冷藏设施",
        "no_mask": "后厨人员未戴口罩",
        "lang": "zh",
    }
