"""The regulator console and the kitchen in a real browser (issue 17), on a server of their
own: these tests log inspections, grades, records and alerts that would change what the
consumer-page tests in test_pages.py see.

One test per page, each checking several things on one page load; every wait has a
timeout and nothing asserts on timing.
"""

from __future__ import annotations

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
NARROW = {"width": 414, "height": 896}


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory: pytest.TempPathFactory, chromium_path: Path) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("desk-data")
    env = _environment(data_dir)
    settings = Settings(data_dir=data_dir, database_url=None)
    keys, probe_key = register_city(settings)
    with serving(data_dir, env) as base:
        yield Server(base, data_dir, env, seed_over_http(base, settings, keys, probe_key))


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    made = browser.new_context(viewport=NARROW)
    made.set_default_timeout(WAIT_MS)
    errors: list[str] = []
    made.on("page", lambda tab: tab.on("pageerror", lambda exc: errors.append(str(exc))))
    yield made
    made.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"the page is {width} px wide at {NARROW['width']} px"


def test_the_console_records_an_inspection_and_a_grade_at_414_px(
    desk_server: Server, context: Any
) -> None:
    server = desk_server
    rectified, vision = server.seeded.rectified_alert, server.seeded.vision_alert
    page = context.new_page()
    page.goto(server.url("/console"))
    page.fill("#api-key", server.seeded.keys["district-east"])
    page.click("#signin button[type=submit]")
    row = page.locator(f"#queue tr[data-alert-id='{rectified}']")
    row.wait_for()
    # Names, not ids; rules in words (Chinese by default).
    assert row.locator("td[data-premises-id]").inner_text() == "Sunny Noodles"
    assert "留样重量不足" in row.inner_text()
    # The live indicator says connected, in either language.
    expect(page.locator("#live")).to_have_attribute("data-state", "on")
    assert page.inner_text("#live") == "已连接"
    page.click("#lang")
    assert page.inner_text("#live") == "connected"
    assert "Sample under the minimum weight" in row.inner_text()
    _no_sideways_scroll(page)
    save_screenshot(page, "console-414-queue.png")

    # Only the steps the status allows: an open alert may be acknowledged or sent back for
    # rectification; a submitted rectification may be closed or reopened.
    page.locator(f"#queue tr[data-alert-id='{vision}']").click()
    page.wait_for_selector("#detail [data-action]")
    assert sorted(
        page.eval_on_selector_all("#detail [data-action]", "b => b.map(x => x.dataset.action)")
    ) == [
        "acknowledge",
        "request-rectification",
    ]
    row.click()
    page.wait_for_selector("#detail [data-action=close]")
    assert sorted(
        page.eval_on_selector_all("#detail [data-action]", "b => b.map(x => x.dataset.action)")
    ) == [
        "close",
        "reopen",
    ]
    page.fill("#note", "sample retention checked on site")
    page.click("#detail [data-action=close]")
    page.wait_for_selector("#detail-status[data-status=closed]")
    # The live stream reloads the queue and the pane; the step's outcome stays.
    expect(page.locator("#live")).to_have_attribute("data-last-status", "closed")
    page.wait_for_selector("#detail-status[data-status=closed]")
    expect(page.locator("#action-result")).to_have_text("✓ Close: done and logged")
    assert page.eval_on_selector_all(
        "#detail [data-action]", "b => b.map(x => x.dataset.action)"
    ) == ["reopen"]
    _no_sideways_scroll(page)
    save_screenshot(page, "console-414.png")

    # An inspection with a failed key item: the preview shows what will be logged first.
    # The premises is searched for and picked (premises_picker.js).
    page.fill("#inspect-premises", "sunny")
    expect(page.locator("#inspect-premises-list [role=option]")).to_have_count(1)
    page.press("#inspect-premises", "Enter")
    expect(page.locator("#inspect-premises")).to_have_value("Sunny Noodles")
    page.fill("#inspect-form [name=score]", "95")
    page.fill("#inspect-items .item-row:nth-child(1) [name=item]", "Staff health certificates")
    page.uncheck("#inspect-items .item-row:nth-child(1) [name=passed]")
    page.check("#inspect-items .item-row:nth-child(1) [name=key]")
    page.fill("#inspect-items .item-row:nth-child(1) [name=finding]", "one expired")
    page.click("#inspect-add")
    page.fill("#inspect-items .item-row:nth-child(2) [name=item]", "Cold chain")
    page.check("#inspect-items .item-row:nth-child(2) [name=key]")
    assert page.is_disabled("#inspect-submit")
    page.click("#inspect-form button[type=submit]")
    page.wait_for_selector("#inspect-preview [data-result=fair]")
    assert page.locator("#inspect-preview [data-alert-class='2']").count() == 1
    payload = page.inner_text("#inspect-preview [data-role=payload]")
    assert '"result": "fair"' in payload and "Staff health certificates" in payload
    assert '"inspector_org": "district-east"' in payload
    # An edit makes the preview stale: it must be previewed again.
    page.fill("#inspect-form [name=score]", "96")
    assert page.is_disabled("#inspect-submit")
    page.wait_for_selector("#inspect-preview [data-stale]")
    page.click("#inspect-form button[type=submit]")
    page.wait_for_selector("#inspect-preview:not(.stale) [data-result=fair]")
    # The preview names the premises from the picker's choice.
    assert page.inner_text("#inspect-preview [data-role=inspect-premises]").startswith(
        "Sunny Noodles · "
    )
    page.locator("#inspect-preview").scroll_into_view_if_needed()
    _no_sideways_scroll(page)
    save_screenshot(page, "console-inspection-preview.png")
    page.click("#inspect-submit")
    expect(page.locator("#inspect-result")).to_contain_text("Logged (entry")
    expect(page.locator("#inspect-result")).to_contain_text("alert")
    # The key item's alert is in the queue, under the premises' name.
    new = page.locator("#queue tr", has_text="Key item failed at an official inspection")
    expect(new).to_have_count(1)
    assert "Sunny Noodles" in new.inner_text()

    # The year's grade: preview (rests on the inspections of the year), then log it.
    year = datetime.now(UTC).astimezone(PREMISES_ZONE).year
    page.fill("#grade-premises", "riverside")  # the address
    page.click("#grade-premises-list [role=option] >> text=Sunny Noodles")
    expect(page.locator("#grade-premises")).to_have_value("Sunny Noodles")
    page.fill("#grade-form [name=year]", str(year))
    page.click("#grade-form button[type=submit]")
    page.wait_for_selector("#grade-preview [data-grade]")
    preview = page.inner_text("#grade-preview")
    assert f'"year": {year}' in preview
    assert page.inner_text("#grade-preview [data-role=grade-premises]").startswith(
        f"Sunny Noodles · {year}"
    )
    grade = page.get_attribute("#grade-preview [data-grade]", "data-grade")
    page.locator("#grade-preview").scroll_into_view_if_needed()
    _no_sideways_scroll(page)
    save_screenshot(page, "console-grade-preview.png")
    page.click("#grade-submit")
    expect(page.locator("#grade-result")).to_contain_text("Logged (entry")
    assert (grade or "no grade") in page.inner_text("#grade-result")


def test_the_kitchen_has_seven_forms_and_says_when_a_record_raises_an_alert(
    desk_server: Server, context: Any
) -> None:
    server = desk_server
    page = context.new_page()
    page.goto(server.url("/kitchen"))
    page.fill("#api-key", server.seeded.keys["sunny-noodles"])
    page.click("#signin button[type=submit]")
    page.wait_for_selector("#today li[data-record-type=morning_check]")
    # The restaurant's one premises is picked for it (premises_picker.js).
    assert page.input_value("#premises-search") == "Sunny Noodles"
    forms = page.locator("#forms form[data-record-type]")
    assert forms.count() == 7
    # Plain words in both languages, never a raw key such as weight_g.
    zh_labels = page.eval_on_selector_all(
        "#forms label > span:first-child", "s => s.map(x => x.textContent)"
    )
    assert "重量（克） *" in zh_labels and "晨检人" in zh_labels
    page.click("details[data-record-type=sample_retention] summary")
    page.locator("#form-sample_retention").scroll_into_view_if_needed()
    save_screenshot(page, "kitchen-form-zh.png")
    page.click("#lang")
    labels = page.eval_on_selector_all(
        "#forms label > span:first-child", "s => s.map(x => x.textContent)"
    )
    assert "Weight (grams) *" in labels and "Checked by" in labels
    assert not [text for text in labels if "_" in text], labels

    # A light sample: the page says at once that it raised an alert, and lists it.
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
    raised = form.locator(".raised-alert")
    raised.wait_for()
    assert "This record raised an alert" in raised.inner_text()
    assert raised.locator("li[data-rule=sample_underweight]").count() == 1
    alert_id = raised.locator("li").get_attribute("data-alert-id")
    listed = page.locator(f"#alerts li[data-alert-id='{alert_id}']")
    listed.wait_for()
    assert "Sample under the minimum weight" in listed.inner_text()
    # Its times in the premises' zone (Asia/Shanghai), named, as the API's instants say.
    alert = httpx.get(
        server.url(f"/v1/alerts/{alert_id}"),
        headers={"Authorization": f"Bearer {server.seeded.keys['sunny-noodles']}"},
        timeout=30,
    ).json()
    opened, due = local_minute(alert["opened_at"]), local_minute(alert["due_at"])
    expect(raised.locator("[data-role=due]")).to_have_text(f" · due {due}")
    expect(listed.locator("[data-role=alert-times]")).to_have_text(f"opened {opened} · due {due}")
    # A handler without a valid certificate, through the morning-check form.
    page.click("details[data-record-type=morning_check] summary")
    morning = page.locator("#form-morning_check")
    morning.locator("[name=checked_by]").fill("Manager Wang")
    morning.locator(".item-row [name=name]").fill("Cook Zhao")
    morning.locator("button[type=submit]").click()
    morning.locator(".raised-alert li[data-rule=health_certificate_invalid]").wait_for()
    _no_sideways_scroll(page)
    form.scroll_into_view_if_needed()
    save_screenshot(page, "kitchen-alert-raised.png")

    # A bad field is shown next to the field, in words.
    page.click("details[data-record-type=waste_oil] summary")
    oil = page.locator("#form-waste_oil")
    oil.locator("[name=collector]").fill("City Oil Recycling")
    oil.locator("[name=collector_licence]").fill("WO-1")
    oil.locator("button[type=submit]").click()
    expect(oil.locator("[data-field=quantity] .field-error")).to_contain_text("Quantity")

    # The CSV template's legend, and every problem of a file in one answer.
    page.select_option("#csv select[name=record_type]", "sample_retention")
    page.click("#legend-box summary")
    page.wait_for_selector("#legend tr[data-column=weight_g]")
    assert "Weight (grams)" in page.inner_text("#legend tr[data-column=weight_g]")
    assert "YYYY-MM-DD" in page.inner_text("#legend tr[data-column=date]")
    day = yesterday.date().isoformat()
    tomorrow = (yesterday + timedelta(days=2)).date().isoformat()
    csv = (
        "date,dish,meal,weight_g,time_in,removed_at,fridge,person\n"
        f"{day},=1+1,lunch,150,{day} 11:00,,sample-fridge-1,Cook Li\n"
        f"{day},Soup,brunch,150,{day} 11:05,,sample-fridge-1,Cook Li\n"
        f"{tomorrow},Rice,lunch,150,{day} 11:10,,sample-fridge-1,Cook Li\n"
        f"05/12/2026,Buns,lunch,150,{day} 11:15,,sample-fridge-1,Cook Li\n"
    )
    page.set_input_files(
        "#csv input[name=file]",
        files=[{"name": "samples.csv", "mimeType": "text/csv", "buffer": csv.encode()}],
    )
    page.click("#csv button[type=submit]")
    page.wait_for_selector("#csv-errors li")
    found = page.eval_on_selector_all(
        "#csv-errors li", "l => l.map(x => [Number(x.dataset.row), x.dataset.column])"
    )
    assert found == [[2, "dish"], [3, "meal"], [4, "date"], [5, "date"]], found
    assert "YYYY-MM-DD" in page.inner_text("#csv-errors li[data-row='5']")
    assert "“05/12/2026”" in page.inner_text("#csv-errors li[data-row='5']")
    assert "nothing was stored" in page.inner_text("#csv-result")
    _no_sideways_scroll(page)
    page.locator("#csv-result").scroll_into_view_if_needed()
    save_screenshot(page, "kitchen-csv-errors.png")
