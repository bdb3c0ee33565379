"""What the console and kitchen pages rely on (issue 17): CSV files reported whole in one
answer, the date forms spreadsheets write, the template's example row and legend, the
previews of an inspection and a grade, and the names of the premises a key reaches."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from seeded_city import City
from test_restaurants import ZONE, counts, post_csv, record_day, sample_csv

from traceability.records.csv_columns import CellProblem, read_cell
from traceability.records.schemas import RECORD_TYPES


def test_a_csv_file_gets_every_problem_in_one_answer(city: City) -> None:
    day = record_day()
    tomorrow = (datetime.now(ZONE).date() + timedelta(days=1)).isoformat()
    data = sample_csv(
        # A formula cell used to hide every other problem of the file.
        f"{day},=HYPERLINK(1),lunch,150,{day} 00:05,,fridge-1,Li",
        f"{day},Rice,elevenses,150,{day} 00:06,,fridge-1,Li",
        # A future date used to show only once everything else was right.
        f"{tomorrow},Soup,dinner,150,{day} 00:07,,fridge-1,Li",
        f"05/12/2026,Tofu,dinner,150,{day} 00:08,,fridge-1,Li",
        f"{day},Noodles,dinner,heavy,46361,,fridge-1,Li",
        f"{day.isoformat().replace('-', '/')},Buns,breakfast,150,{day} 00:09,,fridge-1,Li",
    )
    before = counts(city)
    answer = post_csv(city, "sample_retention", data)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert "nothing was stored" in body["detail"]
    found = [(r["row"], r["column"], r["value"]) for r in body["rows"]]
    assert found == [
        (2, "dish", "=HYPERLINK(1)"),
        (3, "meal", "elevenses"),
        (4, "date", tomorrow),
        (5, "date", "05/12/2026"),
        (6, "weight_g", "heavy"),
        (6, "time_in", "46361"),
    ], found
    reasons = {(r["row"], r["column"]): r["reason"] for r in body["rows"]}
    assert "in the future" in reasons[(4, "date")]
    assert "ambiguous" in reasons[(5, "date")] and "YYYY-MM-DD" in reasons[(5, "date")]
    assert "serial number" in reasons[(6, "time_in")] and "2026-12-05" in reasons[(6, "time_in")]
    # Row 7 (year-first with slashes) is fine, and nothing of the file was stored.
    assert all(r["row"] != 7 for r in body["rows"])
    assert counts(city) == before
    # Each row's problem has a code and parameters the pages translate (docs/design.md).
    assert (body["code"], body["params"]) == ("csv.problems", {"count": 6})
    coded = {(r["row"], r["column"]): (r["code"], r["params"]) for r in body["rows"]}
    assert coded[(2, "dish")] == (
        "csv.formula_cell",
        {"char": "=", "start": "=HYPERLINK(1)"},
    )
    assert coded[(3, "meal")][0] == "field.literal_error"
    assert coded[(4, "date")] == (
        "record.date_in_future",
        {"date": tomorrow, "today": datetime.now(ZONE).date().isoformat()},
    )
    assert coded[(5, "date")] == ("csv.date_ambiguous", {"value": "05/12/2026"})
    assert coded[(6, "weight_g")][0] == "field.number"
    assert coded[(6, "time_in")] == ("csv.date_serial", {"guess": "2026-12-05"})


def test_dates_in_the_forms_spreadsheets_write_are_read(city: City) -> None:
    day = record_day()
    slashes = f"{day.year}/{day.month}/{day.day}"
    chinese = f"{day.year}年{day.month}月{day.day}日"
    data = sample_csv(
        f"{slashes},Mapo tofu,lunch,150,{slashes} 0:05,,fridge-1,Li",
        f"{chinese},Rice,dinner,150,{day.isoformat()}T00:06,,fridge-1,Li",
    )
    answer = post_csv(city, "sample_retention", data)
    assert answer.status_code == 201, answer.text
    assert [r["record_date"] for r in answer.json()["records"]] == [day.isoformat()] * 2
    entry = city.client.get(f"/v1/log/entries/{answer.json()['records'][0]['leaf_index']}").json()[
        "event"
    ]
    local = datetime(day.year, day.month, day.day, 0, 5, tzinfo=ZONE)
    assert entry["payload"]["fields"]["time_in"].startswith(
        local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")
    )


@pytest.mark.parametrize(
    ("kind", "text", "read"),
    [
        ("date", "2026-12-05", "2026-12-05"),
        ("date", "2026/12/5", "2026-12-05"),
        ("date", "2026.12.05", "2026-12-05"),
        ("date", "2026年12月5日", "2026-12-05"),
        ("datetime", "2026/12/5 9:30", "2026-12-05T09:30"),
        ("datetime", "2026-12-05T09:30:15+08:00", "2026-12-05T09:30:15+08:00"),
        ("bool", "TRUE", "true"),
        ("bool", "否", "false"),
    ],
)
def test_cells_are_read_as_spreadsheets_write_them(kind: str, text: str, read: str) -> None:
    assert read_cell(kind, text) == read  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "text", "says"),
    [
        ("date", "05/12/2026", "YYYY-MM-DD"),
        ("date", "12/05/2026", "ambiguous"),
        ("date", "46361", "2026-12-05"),
        ("date", "2026-02-30", "not a day of the calendar"),
        ("date", "next Tuesday", "YYYY-MM-DD"),
        ("datetime", "2026-12-05", "no time of day"),
        ("datetime", "2026-12-05 25:00", "not a time of day"),
        ("datetime", "lunchtime", "YYYY-MM-DD HH:MM"),
        ("bool", "maybe", "true or false"),
    ],
)
def test_unreadable_cells_say_what_to_write(kind: str, text: str, says: str) -> None:
    with pytest.raises(CellProblem, match=says):
        read_cell(kind, text)  # type: ignore[arg-type]


def test_every_template_has_an_example_row_a_legend_and_imports(city: City) -> None:
    yesterday = record_day().isoformat()
    for record_type in RECORD_TYPES:
        template = city.client.get(f"/v1/records/csv-templates/{record_type}")
        assert template.status_code == 200
        header, example = template.text.splitlines()
        legend = city.client.get(f"/v1/records/csv-templates/{record_type}/legend").json()
        assert legend["header"] == header and legend["example"] == example
        assert [c["column"] for c in legend["columns"]] == header.split(",")
        assert any(c["required"] for c in legend["columns"])
        date_column = next(c for c in legend["columns"] if c["column"] == "date")
        assert date_column["kind"] == "date" and date_column["format"] == "YYYY-MM-DD"
        # The template as downloaded is refused: its example row is not a record.
        before = counts(city)
        answer = post_csv(city, record_type, template.content)
        assert answer.status_code == 422, answer.text
        assert answer.json()["rows"][0]["row"] == 2
        assert "example row" in answer.json()["rows"][0]["reason"]
        assert counts(city) == before
        # Written over (another day), the example is a valid record of its type.
        filled = template.text.replace("2026-12-01", yesterday).encode()
        answer = post_csv(city, record_type, filled)
        assert answer.status_code == 201, (record_type, answer.text)
        assert answer.json()["alerts_opened"] == [], record_type
    meal = next(
        c
        for c in city.client.get("/v1/records/csv-templates/sample_retention/legend").json()[
            "columns"
        ]
        if c["column"] == "meal"
    )
    assert meal["kind"] == "choice" and meal["choices"] == ["breakfast", "lunch", "dinner", "other"]


def test_a_json_record_with_a_bad_date_says_the_format(city: City) -> None:
    answer = city.client.post(
        "/v1/premises/p-1/records",
        json={
            "record_type": "waste_oil",
            "record": {
                "date": "05/12/2026",
                "oil_type": "frying_oil",
                "quantity": 3,
                "unit": "kg",
                "collector": "City Oil Recycling",
                "collector_licence": "WO-1",
                "collected_at": "yesterday",
            },
        },
        headers=city.headers("rest-1"),
    )
    assert answer.status_code == 422
    fields = {f["field"]: f["reason"] for f in answer.json()["fields"]}
    assert "YYYY-MM-DD" in fields["date"]
    assert "YYYY-MM-DD HH:MM" in fields["collected_at"]


def test_the_inspection_preview_is_what_gets_logged(city: City) -> None:
    today = datetime.now(ZONE).date()
    submission = {
        "inspected_on": today.isoformat(),
        "score": 95,
        "items": [
            {"item": "cold chain", "passed": True, "key": True},
            {"item": "staff certificates", "passed": False, "key": True, "finding": "1 expired"},
            {"item": "floor", "passed": True},
        ],
        "findings": "certificate to renew",
    }
    reg = city.headers("reg-1")
    before = counts(city)
    preview = city.client.post(
        "/v1/regulator/premises/p-1/inspections/preview", json=submission, headers=reg
    )
    assert preview.status_code == 200, preview.text
    planned = preview.json()
    # A failed key item caps 95 points at fair, and opens a class 2 alert.
    assert planned["result"] == "fair" and planned["result_zh"] == "一般"
    assert planned["alert"]["class"] == 2
    assert planned["alert"]["key_items_failed"] == ["staff certificates"]
    assert counts(city) == before
    recorded = city.client.post(
        "/v1/regulator/premises/p-1/inspections", json=submission, headers=reg
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["alert_id"] is not None
    entry = city.client.get(f"/v1/log/entries/{recorded.json()['leaf_index']}").json()["event"]
    assert entry["payload"] == planned["payload"]
    # The preview refuses what recording refuses.
    future = {**submission, "inspected_on": (today + timedelta(days=2)).isoformat()}
    refused = city.client.post(
        "/v1/regulator/premises/p-1/inspections/preview", json=future, headers=reg
    )
    assert refused.status_code == 422 and "after today" in refused.json()["detail"]
    other = city.client.post(
        "/v1/regulator/premises/p-2/inspections/preview", json=submission, headers=reg
    )
    assert other.status_code == 403


def test_the_grade_preview_is_the_decision_and_stores_nothing(city: City) -> None:
    today = datetime.now(ZONE).date()
    reg = city.headers("reg-1")
    for score in (95, 80):
        answer = city.client.post(
            "/v1/regulator/premises/p-1/inspections",
            json={
                "inspected_on": today.isoformat(),
                "score": score,
                "items": [{"item": "hygiene", "passed": True}],
            },
            headers=reg,
        )
        assert answer.status_code == 201, answer.text
    before = counts(city)
    preview = city.client.get(
        f"/v1/regulator/premises/p-1/grades/{today.year}/preview", headers=reg
    )
    assert preview.status_code == 200, preview.text
    planned = preview.json()
    assert planned["grade"] == "A", planned
    assert sorted(i["result"] for i in planned["inspections"]) == ["excellent", "good"]
    assert planned["replaces"] is None
    assert counts(city) == before
    decided = city.client.post(f"/v1/regulator/premises/p-1/grades/{today.year}", headers=reg)
    assert decided.status_code == 201, decided.text
    entry = city.client.get(f"/v1/log/entries/{decided.json()['leaf_index']}").json()["event"]
    assert entry["payload"] == {**planned["payload"], "decided_by": "reg-1"}
    again = city.client.get(f"/v1/regulator/premises/p-1/grades/{today.year}/preview", headers=reg)
    assert again.json()["replaces"]["event_id"] == decided.json()["event_id"]


def test_keys_see_the_names_of_the_premises_they_reach(city: City) -> None:
    regulator = city.client.get("/v1/me/premises", headers=city.headers("reg-1")).json()
    assert [(p["premises_id"], p["name"]) for p in regulator["items"]] == [
        ("p-1", "Restaurant p-1")
    ]
    admin = city.client.get("/v1/me/premises", headers=city.headers("admin")).json()
    assert [p["premises_id"] for p in admin["items"]] == ["p-1", "p-2"]
    own = city.client.get("/v1/me/premises", headers=city.headers("rest-2")).json()
    assert [p["premises_id"] for p in own["items"]] == ["p-2"]
    assert json.dumps(own).count("licence_issued_on") == 1
    assert date.fromisoformat(own["items"][0]["licence_issued_on"])


def test_a_bad_cell_of_a_grouped_record_is_reported_once(city: City) -> None:
    day = record_day().isoformat()
    expiry = (record_day() + timedelta(days=30)).isoformat()
    header = "date,checked_at,checked_by,staff_name,health_certificate_expiry,excluded_reason"
    data = "\n".join(
        [
            header,
            f"{day},{day} 07:00,Boss,Zhang Wei,{expiry},",
            f"{day},7 o'clock,Boss,Wang Fang,{expiry},",
        ]
    ).encode()
    answer = post_csv(city, "morning_check", data)
    assert answer.status_code == 422
    assert [(r["row"], r["column"], r["value"]) for r in answer.json()["rows"]] == [
        (3, "checked_at", "7 o'clock")
    ]


def test_the_pickers_search_only_the_premises_a_key_reaches(city: City) -> None:
    def searched(key: str, q: str) -> list[str]:
        answer = city.client.get("/v1/me/premises", params={"q": q}, headers=city.headers(key))
        assert answer.status_code == 200, answer.text
        return [p["premises_id"] for p in answer.json()["items"]]

    assert searched("admin", "RESTAURANT") == ["p-1", "p-2"]
    assert searched("admin", "p-2 road") == ["p-2"]
    assert searched("reg-1", "restaurant") == ["p-1"]  # a regulator: their districts only
    assert searched("reg-1", "p-2") == []
    assert searched("rest-2", "restaurant") == ["p-2"]  # a restaurant: its own
    assert searched("rest-2", "p-1") == []
    bad = city.client.get("/v1/me/premises", params={"q": "a\x00"}, headers=city.headers("admin"))
    assert bad.status_code == 422 and "q" in bad.json()["detail"]
