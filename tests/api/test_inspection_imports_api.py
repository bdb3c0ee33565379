"""Importing inspection history over the admin and regulator API."""

from __future__ import annotations

from pathlib import Path

from seeded_city import City
from sqlalchemy import func, select

from traceability.storage.models import EventRow, InspectionRow, PremisesRow

FILES = Path(__file__).parents[1] / "traceability" / "inspections" / "inspection_files"


def _counts(city: City) -> tuple[int, int, int]:
    with city.app.state.platform.sessions() as session:
        return tuple(  # type: ignore[return-value]
            session.execute(select(func.count()).select_from(m)).scalar_one()
            for m in (EventRow, InspectionRow, PremisesRow)
        )


def test_an_admin_imports_an_nyc_file_twice_and_the_second_changes_nothing(city: City) -> None:
    body = (FILES / "nyc_dohmh_cp1252.csv").read_bytes()
    params = {"format": "nyc", "district": "d1", "encoding": "cp1252", "name": "nyc.csv"}
    first = city.client.post(
        "/v1/admin/imports/inspections", params=params, content=body, headers=city.headers("admin")
    )
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["loaded"], report["refused"], report["scheme"]) == (4, 1, "us-nyc")
    [refused] = report["refused_rows"]
    assert refused["where"] == "nyc.csv line 9" and "rating 'Q'" in refused["reason"]
    assert "SUSHI Q" in refused["row"]
    after = _counts(city)
    again = city.client.post(
        "/v1/admin/imports/inspections", params=params, content=body, headers=city.headers("admin")
    )
    assert again.status_code == 200 and again.json()["loaded"] == 0
    assert _counts(city) == after


def test_a_wrong_encoding_is_a_422_naming_the_byte_and_nothing_is_stored(city: City) -> None:
    before = _counts(city)
    answer = city.client.post(
        "/v1/admin/imports/inspections",
        params={"format": "nyc", "district": "d1", "name": "nyc.csv"},
        content=(FILES / "nyc_dohmh_cp1252.csv").read_bytes(),
        headers=city.headers("admin"),
    )
    assert answer.status_code == 422
    assert "nyc.csv is not valid utf-8: byte offset" in answer.json()["detail"]
    assert _counts(city) == before


def test_a_regulator_imports_only_into_its_districts(city: City) -> None:
    body = (FILES / "lives_flat.csv").read_bytes()
    mine = city.client.post(
        "/v1/regulator/imports/inspections",
        params={"format": "lives", "district": "d1", "name": "flat.csv"},
        content=body,
        headers=city.headers("reg-1"),
    )
    assert mine.status_code == 200 and mine.json()["loaded"] == 4
    with city.app.state.platform.sessions() as session:
        orgs = set(session.execute(select(InspectionRow.regulator_org)).scalars())
    assert orgs == {"reg-1"}  # the flat file names no authority: the importing regulator
    theirs = city.client.post(
        "/v1/regulator/imports/inspections",
        params={"format": "lives", "district": "d2", "name": "flat.csv"},
        content=body,
        headers=city.headers("reg-1"),
    )
    assert theirs.status_code == 403


def test_the_public_reads_a_lives_zip_and_fhrs_establishments(city: City) -> None:
    import io
    import zipfile

    imported = city.client.post(
        "/v1/admin/imports/inspections",
        params={"format": "fhrs", "district": "d1", "name": "fhrs.json"},
        content=(FILES / "fhrs_north_norfolk.json").read_bytes(),
        headers=city.headers("admin"),
    )
    assert imported.status_code == 200 and imported.json()["loaded"] == 3
    page = city.client.get(
        "/v1/public/open-data/fhrs/establishments",
        params={"district": "d1", "pageSize": 4, "pageNumber": 2},
    )
    assert page.status_code == 200
    meta = page.json()["meta"]
    # p-1 (a seeded premises in d1) and the 6 establishments.
    assert (meta["totalCount"], meta["totalPages"], meta["itemCount"]) == (7, 2, 3)
    bundle = city.client.get("/v1/public/open-data/lives.zip", params={"scheme": "uk-fhrs"})
    assert bundle.status_code == 200 and bundle.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(bundle.content)).namelist()
    assert "inspections.csv" in names and "legend.csv" in names
    unknown = city.client.get("/v1/public/open-data/lives.zip", params={"scheme": "fr"})
    assert unknown.status_code == 422 and "not one of" in unknown.json()["detail"]


def test_an_imported_premises_has_a_public_record(city: City) -> None:
    imported = city.client.post(
        "/v1/admin/imports/inspections",
        params={"format": "nyc", "district": "d1", "encoding": "cp1252", "name": "nyc.csv"},
        content=(FILES / "nyc_dohmh_cp1252.csv").read_bytes(),
        headers=city.headers("admin"),
    )
    assert imported.status_code == 200
    record = city.client.get("/v1/public/restaurants/nyc-50005678")
    assert record.status_code == 200, record.text
    body = record.json()
    assert body["premises"]["licence"]["number"] is None
    latest = body["latest_inspection"]
    assert (latest["scheme"], latest["rating"], latest["score"]) == ("us-nyc", "Z", 18.0)
    assert latest["violations"][0]["code"] == "08A"
