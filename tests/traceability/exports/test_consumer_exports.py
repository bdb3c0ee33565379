"""Open data in consumers' formats: a LIVES bundle that round-trips, FHRS establishments."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from traceability.exports import fhrs, lives, open_data
from traceability.inspections.history import HistoryImport, ImportOptions
from traceability.inspections.importers.reading import read_bytes, read_path
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.transparency.log import TransparencyLog

FILES = Path(__file__).parents[1] / "inspections" / "inspection_files"
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
PROOFS = "https://ledger.example/v1/proofs/"


@pytest.fixture
def platform(settings: Settings) -> Iterator[tuple[sessionmaker[Session], TransparencyLog]]:
    engine, sessions, log, _signer = open_platform(settings)
    yield sessions, log
    engine.dispose()


def _import(
    platform: tuple[sessionmaker[Session], TransparencyLog], fmt: str, path: Path, scheme: str
) -> None:
    sessions, log = platform
    options = ImportOptions(scheme=scheme, source=fmt, district="d1", org_id=f"imported-{fmt}")
    with transaction(sessions) as session:
        HistoryImport(log).run(session, path.name, read_path(fmt, path, "utf-8"), options, NOW)


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def _file(name: str) -> list[dict[str, str]]:
    return _rows((FILES / "lives_sf" / name).read_text(encoding="utf-8"))


def test_a_lives_bundle_round_trips(
    platform: tuple[sessionmaker[Session], TransparencyLog],
) -> None:
    _import(platform, "lives", FILES / "lives_sf", "us-lives")
    sessions, log = platform
    with sessions() as session:
        tables = lives.lives_tables(
            session,
            scheme="us-lives",
            source="lives",
            district="d1",
            proof_base=PROOFS,
            municipality="San Francisco",
            feed_date=NOW.date(),
        )
    bundle = zipfile.ZipFile(io.BytesIO(lives.lives_zip(tables)))
    assert sorted(bundle.namelist()) == sorted(lives.COLUMNS_OF)
    out = {name: _rows(bundle.read(name).decode("utf-8")) for name in bundle.namelist()}

    # Businesses: the same rows and fields (the refused nameless one aside).
    business_fields = lives.BUSINESS_COLUMNS[:-1]
    want = [{k: r[k] for k in business_fields} for r in _file("businesses.csv") if r["business_id"]]
    got = [{k: r[k] for k in business_fields} for r in out["businesses.csv"]]
    assert sorted(got, key=lambda r: r["business_id"]) == sorted(
        want, key=lambda r: r["business_id"]
    )
    # Inspections: the same rows, less the repeated one and the two refused.
    fields = ("business_id", "score", "date", "type")
    source_rows = Counter(tuple(r[k] for k in fields) for r in _file("inspections.csv"))
    source_rows -= Counter(
        {("31", "96", "20130428", "Routine - Unscheduled"): 1,  # the duplicate
         ("99", "90", "20150101", "Routine - Unscheduled"): 1,  # unknown business
         ("31", "abc", "20140101", "Routine - Unscheduled"): 1}  # not a number
    )  # fmt: skip
    assert Counter(tuple(r[k] for k in fields) for r in out["inspections.csv"]) == source_rows
    # Violations: the same rows, less the one naming no inspection.
    fields = ("business_id", "date", "code", "description")
    source_violations = Counter(tuple(r[k] for k in fields) for r in _file("violations.csv"))
    source_violations -= Counter(
        {("45", "20180101", "103120", "Moderate risk food holding temperature"): 1}
    )
    assert Counter(tuple(r[k] for k in fields) for r in out["violations.csv"]) == source_violations
    assert out["legend.csv"] == _file("legend.csv") or sorted(
        (r["minimum_score"], r["maximum_score"], r["description"]) for r in out["legend.csv"]
    ) == sorted(
        (r["minimum_score"], r["maximum_score"], r["description"]) for r in _file("legend.csv")
    )
    assert out["feed_info.csv"][0]["municipality_name"] == "San Francisco"
    # Every inspection and violation row is proof-linked to its logged event.
    for row in out["inspections.csv"] + out["violations.csv"]:
        assert row["proof_link"] == PROOFS + row["event_id"]
    # Importing the exported bundle changes nothing: the same inspections, already there.
    again = read_bytes("lives", "lives.zip", lives.lives_zip(tables), "utf-8")
    options = ImportOptions(
        scheme="us-lives", source="lives", district="d1", org_id="imported-lives"
    )
    with transaction(sessions) as session:
        report = HistoryImport(log).run(session, "lives.zip", again, options, NOW)
    assert report.loaded == 0 and report.premises_added == 0 and not report.refused
    assert len(report.skipped) == len(out["inspections.csv"])


def test_fhrs_establishments_page_with_totals(
    platform: tuple[sessionmaker[Session], TransparencyLog],
) -> None:
    _import(platform, "fhrs", FILES / "fhrs_north_norfolk.json", "uk-fhrs")
    sessions, _log = platform
    with sessions() as session:
        first = fhrs.establishments(
            session, page_number=1, page_size=2, district="d1", source="fhrs",
            proof_base=PROOFS, now=NOW,
        )  # fmt: skip
        last = fhrs.establishments(
            session, page_number=4, page_size=2, district="d1", source="fhrs",
            proof_base=PROOFS, now=NOW,
        )  # fmt: skip
    # 6 establishments, each a premises (2 had their inspection refused, 1 awaits one).
    assert first["meta"]["totalCount"] == 6 and first["meta"]["totalPages"] == 3
    assert first["meta"]["itemCount"] == 2 and last["establishments"] == []
    with sessions() as session:
        whole = fhrs.establishments(
            session, page_number=1, page_size=10, district="d1", source="fhrs",
            proof_base=PROOFS, now=NOW,
        )  # fmt: skip
    by_id = {e["FHRSID"]: e for e in whole["establishments"]}
    awaiting = by_id["1402001"]  # registered, never inspected
    assert (awaiting["RatingValue"], awaiting["event_id"]) == ("AwaitingInspection", None)
    crown = by_id["254719"]
    assert (crown["RatingValue"], crown["RatingDate"], crown["LocalAuthorityName"]) == (
        "5",
        "2019-07-10T00:00:00",
        "North Norfolk",
    )
    assert crown["scores"] == {"Hygiene": 0.0, "Structural": 5.0, "ConfidenceInManagement": 0.0}
    assert crown["geocode"] == {"longitude": "0.913", "latitude": "52.859"}
    assert crown["proof_link"] == PROOFS + crown["event_id"]
    assert by_id["1004210"]["RatingValue"] == "Exempt"
    json.dumps(first)  # plain JSON


def test_the_open_data_csv_carries_the_new_fields(
    platform: tuple[sessionmaker[Session], TransparencyLog],
) -> None:
    _import(platform, "lives", FILES / "lives_sf", "us-lives")
    sessions, _log = platform
    with sessions() as session:
        records = open_data.inspection_records(session, offset=0, limit=100, proof_base=PROOFS)
    routine = next(
        r
        for r in records
        if r["inspection_date"] == "2014-07-29" and r["premises_id"] == "lives-10"
    )
    assert (routine["city"], routine["postal_code"], routine["rating"], routine["scheme"]) == (
        "San Francisco",
        "94104",
        "Good",
        "us-lives",
    )
    assert routine["violation_codes"] == "103129;103144" and routine["violation_count"] == 2
    assert routine["longitude"] == pytest.approx(-122.403816)
    assert routine["proof_link"] == PROOFS + routine["event_id"]
