"""Inspection schemes and the import of inspection history (issue 18), on both databases.

The fixture files in inspection_files/ were written from the published layouts: LIVES
1.0 (businesses, inspections, violations, legend, feed_info) and its flattened form,
the FHRS API's establishments JSON, and NYC DOHMH's open-data columns (cp1252 here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from traceability import merkle
from traceability.errors import Invalid
from traceability.inspections import grades
from traceability.inspections.history import HistoryImport, ImportOptions, ImportReport
from traceability.inspections.importers.reading import read_bytes, read_path
from traceability.orgs.registry import Directory
from traceability.platform import open_platform
from traceability.projections.audit import audit_projections
from traceability.records import RecordChecks
from traceability.rules.schemes import SCHEMES, load_scheme
from traceability.settings import Settings
from traceability.storage.db import transaction
from traceability.storage.models import (
    AlertRow,
    EventRow,
    InspectionRow,
    PremisesExternalIdRow,
    PremisesRow,
)
from traceability.transparency.events import parse_event_input
from traceability.transparency.log import TransparencyLog

FILES = Path(__file__).parent / "inspection_files"
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)

# -------------------------------------------------------------------- schemes (pure)


def test_every_shipped_scheme_loads() -> None:
    for name in SCHEMES:
        assert load_scheme(name).name == name
    with pytest.raises(Invalid, match="not one of"):
        load_scheme("fr")


@pytest.mark.parametrize("score", [100.0, 90.0, 89.99, 75.0, 74.99, 0.0])
@pytest.mark.parametrize("key_failed", [False, True])
def test_the_cn_scheme_rates_as_todays_rules(score: float, key_failed: bool) -> None:
    cn = load_scheme("cn")
    assert cn.rating(score=score, key_item_failed=key_failed) == grades.inspection_result(
        score, key_failed
    )


def test_nyc_takes_the_departments_grade_and_knows_pending() -> None:
    nyc = load_scheme("us-nyc")
    assert nyc.score.direction == "lower_is_better"
    assert [nyc.band_of(s) for s in (0, 13, 14, 27, 28, 90)] == ["A", "A", "B", "B", "C", "C"]
    # The grade is the Department's, as given: 12 points with a pending grade stays Z.
    assert nyc.rating(score=12, authority_rating="Z") == "Z"
    assert nyc.rating(score=31, authority_rating=None) is None
    with pytest.raises(Invalid, match="rating 'Q'"):
        nyc.rating(score=9, authority_rating="Q")


def test_lives_bands_and_fhrs_ratings() -> None:
    lives = load_scheme("us-lives")
    assert [lives.rating(score=s) for s in (100, 91, 90, 86, 85, 71, 70, 0)] == [
        "Good", "Good", "Adequate", "Adequate", "Needs Improvement", "Needs Improvement",
        "Poor", "Poor",
    ]  # fmt: skip
    assert lives.rating(score=None) is None  # a follow-up: unrated
    fhrs = load_scheme("uk-fhrs")
    assert fhrs.rating(score=None, authority_rating="AwaitingInspection") == "AwaitingInspection"
    assert fhrs.rating(score=None, authority_rating="Exempt") == "Exempt"
    fhrs.check_sub_scores({"hygiene": 25, "structural": 0, "confidence_in_management": 30})
    with pytest.raises(Invalid, match="hygiene 30"):
        fhrs.check_sub_scores({"hygiene": 30})


def test_old_inspection_events_stay_valid() -> None:
    old = {
        "kind": "inspection",
        "subject": "premises:p-1",
        "occurred_at": "2026-01-01T00:00:00Z",
        "payload": {"inspector_org": "reg-1", "items": [], "score": 91, "result": "excellent"},
    }
    parse_event_input(old)


# -------------------------------------------------------------------- reading files


def test_a_wrong_encoding_names_the_byte_offset_and_line() -> None:
    data = (FILES / "nyc_dohmh_cp1252.csv").read_bytes()
    with pytest.raises(Invalid) as caught:
        read_bytes("nyc", "nyc.csv", data, "utf-8")
    offset = data.index("É".encode("cp1252"))
    assert f"byte offset {offset} (line 2)" in caught.value.detail
    assert "--encoding cp1252" in caught.value.detail
    parsed = read_bytes("nyc", "nyc.csv", data, "cp1252")
    assert parsed.businesses["50001234"].name == "CAFÉ DU MONDE NYC"


def test_a_file_without_a_required_column_is_refused_whole() -> None:
    with pytest.raises(Invalid, match="lacks the column"):
        read_bytes("csv", "x.csv", b"business_id,inspection_date\n1,2020-01-01\n", "utf-8")


# -------------------------------------------------------------------- importing


@dataclass
class Town:
    sessions: sessionmaker[Session]
    log: TransparencyLog

    def run(
        self,
        fmt: str,
        path: Path,
        *,
        encoding: str = "utf-8",
        scheme: str | None = None,
        window: int = 30,
        now: datetime = NOW,
    ) -> ImportReport:
        parsed = read_path(fmt, path, encoding)
        options = ImportOptions(
            scheme=scheme or {"lives": "us-lives", "fhrs": "uk-fhrs", "nyc": "us-nyc"}[fmt],
            source=fmt,
            district="d1",
            org_id=f"imported-{fmt}",
            alert_window_days=window,
        )
        with transaction(self.sessions) as session:
            return HistoryImport(self.log).run(session, path.name, parsed, options, now)

    def count(self, model: type[object]) -> int:
        with self.sessions() as session:
            return int(session.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def town(settings: Settings) -> Iterator[Town]:
    engine, sessions, log, _signer = open_platform(settings)
    yield Town(sessions, log)
    engine.dispose()


def _reasons(rows: list[object]) -> list[str]:
    return [f"{r.where}: {r.reason}" for r in rows]  # type: ignore[attr-defined]


def test_a_lives_bundle_loads_with_its_awkward_rows(town: Town) -> None:
    report = town.run("lives", FILES / "lives_sf")
    # 10 inspection lines: 1 duplicate, 1 of an unknown business, 1 with a bad score.
    assert report.loaded == 7, _reasons(report.refused)
    assert report.historical == 7 and report.alerts_opened == 0
    assert _reasons(report.skipped) == [
        "inspections.csv line 7: duplicate of inspections.csv line 6"
    ]
    refused = _reasons(report.refused)
    assert any("businesses.csv line 6: id is missing" in r for r in refused)
    assert any(r.startswith("inspections.csv line 10: business 99 is not") for r in refused)
    assert any("inspections.csv line 11: score 'abc' is not a number" in r for r in refused)
    assert any("violations.csv line 7: no inspection of business 45 on 2018-01-01" in r
               for r in refused)  # fmt: skip
    assert all(r.row for r in report.refused)  # each refusal carries its row
    assert report.premises_added == 4
    with town.sessions() as session:
        rows = {
            (r.premises_id, r.inspected_on.isoformat(), r.inspection_type): r
            for r in session.execute(select(InspectionRow)).scalars()
        }
        # Unscored follow-ups and complaints are kept, unrated.
        follow_up = rows[("lives-10", "2014-08-07", "Reinspection/Followup")]
        assert (follow_up.score, follow_up.rating, follow_up.result) == (None, None, None)
        routine = rows[("lives-10", "2014-07-29", "Routine - Unscheduled")]
        assert (routine.score, routine.rating, routine.scheme) == (92.0, "Good", "us-lives")
        assert [v["code"] for v in json.loads(routine.violations)] == ["103129", "103144"]
        # Two inspections of one business on one day: the violations go to the scored one.
        same_day = [r for k, r in rows.items() if k[:2] == ("lives-24", "2016-01-05")]
        assert len(same_day) == 2
        cited = {r.inspection_type: len(json.loads(r.violations)) for r in same_day}
        assert cited == {"Routine - Unscheduled": 2, "Complaint": 0}
        cafe = session.get(PremisesRow, "lives-24")
        assert cafe is not None
        assert (cafe.name, cafe.city, cafe.postal_code, cafe.phone) == (
            "Café Réunion, Bistro", "San Francisco", "94104", None,
        )  # fmt: skip
        assert cafe.latitude == pytest.approx(37.792888) and cafe.inspection_only
        assert (cafe.licence_number, cafe.licence_issued_on, cafe.scheme) == (
            None,
            None,
            "us-lives",
        )
        assert cafe.org_id == "imported-lives"
        noodles = session.get(PremisesRow, "lives-45")
        assert noodles is not None and noodles.address == "" and noodles.postal_code is None
        external = session.get(PremisesExternalIdRow, ("lives", "24"))
        assert external is not None and external.premises_id == "lives-24"
        # Every imported inspection is a logged event with a valid inclusion proof.
        event = session.execute(
            select(EventRow).where(EventRow.event_id == routine.event_id)
        ).scalar_one()
        payload = json.loads(event.body)["payload"]
        assert payload["historical"] is True and payload["scheme"] == "us-lives"
        assert payload["source"] == {
            "format": "lives",
            "business_id": "10",
            "inspection_id": None,
        }
        size = town.log.size(session)
        proof = town.log.inclusion_proof(session, event.leaf_index, size)
        merkle.verify_inclusion(
            event.leaf_index, size, merkle.leaf_hash(event.body), proof.hashes, proof.root_hash
        )
        assert audit_projections(session, size).ok
    assert town.count(AlertRow) == 0


def test_importing_the_same_file_again_changes_nothing(town: Town) -> None:
    first = town.run("lives", FILES / "lives_sf")
    counts = [town.count(m) for m in (EventRow, InspectionRow, PremisesRow, AlertRow)]
    with town.sessions() as session:
        size, root = town.log.size(session), town.log.root(session)
    again = town.run("lives", FILES / "lives_sf")
    assert again.loaded == 0 and again.premises_added == 0
    assert len(again.skipped) == first.loaded + len(first.skipped)
    assert sum("already imported" in s.reason for s in again.skipped) == first.loaded
    assert len(again.refused) == len(first.refused)
    assert [town.count(m) for m in (EventRow, InspectionRow, PremisesRow, AlertRow)] == counts
    with town.sessions() as session:
        assert (town.log.size(session), town.log.root(session)) == (size, root)


def test_only_recent_inspections_open_alerts(town: Town, tmp_path: Path) -> None:
    recent = (NOW - timedelta(days=5)).date().isoformat()
    old = (NOW - timedelta(days=400)).date().isoformat()
    path = tmp_path / "recent.csv"
    path.write_text(
        "business_id,business_name,inspection_date,inspection_type,score,violation_code,"
        "violation_description,violation_risk_category\n"
        f"7,Noodle Bar,{recent},routine,70,K1,rodents in store room,key\n"
        f"7,Noodle Bar,{old},routine,72,K1,rodents in store room,key\n"
        f"8,Tea House,{recent},routine,95,G4,label missing,general\n",
        encoding="utf-8",
    )
    parsed = read_path("csv", path, "utf-8")
    options = ImportOptions(scheme="cn", source="csv", district="d1", org_id="imp")
    with transaction(town.sessions) as session:
        report = HistoryImport(town.log).run(session, "recent.csv", parsed, options, NOW)
    assert (report.loaded, report.historical, report.alerts_opened) == (3, 1, 1)
    with town.sessions() as session:
        [alert] = session.execute(select(AlertRow)).scalars()
        assert (alert.premises_id, alert.alert_class, alert.rule) == (
            "csv-7",
            2,
            "inspection_violation",
        )
        assert "K1" in alert.detail
        # The cn scheme's result is kept for cn inspections (a key item... none here: bands).
        results = {
            r.inspected_on.isoformat(): r.result
            for r in session.execute(select(InspectionRow)).scalars()
            if r.premises_id == "csv-7"
        }
        assert results == {recent: "fair", old: "fair"}
        assert audit_projections(session, town.log.size(session)).ok


def test_inspection_only_premises_raise_no_daily_record_alerts(town: Town) -> None:
    town.run("lives", FILES / "lives_sf")
    with transaction(town.sessions) as session:
        Directory().add_premises(
            session,
            premises_id="kitchen-1",
            org_id="imported-lives",
            name="A kitchen that keeps records",
            kind="restaurant",
            licence_number="JY1000000001",
            licence_issued_on=date(2020, 1, 1),
            district="d1",
            address="2 Road",
            now=NOW,
        )
    later = NOW + timedelta(days=2)
    with transaction(town.sessions) as session:
        opened = RecordChecks().tick(session, town.log, later)
    with town.sessions() as session:
        where = {session.get(AlertRow, a).premises_id for a in opened}  # type: ignore[union-attr]
    assert where == {"kitchen-1"}


def test_fhrs_ratings_sub_scores_and_establishments_awaiting_inspection(town: Town) -> None:
    report = town.run("fhrs", FILES / "fhrs_north_norfolk.json")
    assert report.loaded == 3
    assert _reasons(report.skipped) == [
        "fhrs_north_norfolk.json establishment 3: no inspection yet "
        "(RatingValue AwaitingInspection, no RatingDate)"
    ]
    refused = _reasons(report.refused)
    assert len(refused) == 2
    assert "establishment 5: rating '7' is not one of scheme uk-fhrs's" in refused[0]
    assert "establishment 6: sub-score hygiene 30 is outside 0-25" in refused[1]
    with town.sessions() as session:
        rows = {r.premises_id: r for r in session.execute(select(InspectionRow)).scalars()}
        crown = rows["fhrs-254719"]
        assert (crown.rating, crown.authority_rating, crown.regulator_org) == (
            "5",
            "5",
            "North Norfolk",
        )
        assert json.loads(crown.sub_scores or "null") == {
            "hygiene": 0.0,
            "structural": 5.0,
            "confidence_in_management": 0.0,
        }
        assert rows["fhrs-1004210"].rating == "Exempt" and rows["fhrs-1004210"].sub_scores is None
        awaiting = session.get(PremisesRow, "fhrs-1402001")  # registered, not inspected
        assert awaiting is not None and awaiting.city == "Cromer"
        crown_premises = session.get(PremisesRow, "fhrs-254719")
        assert crown_premises is not None
        assert crown_premises.business_type == "Pub/bar/nightclub"
        assert crown_premises.address == "High Street, Little Snoring, Fakenham"
        assert audit_projections(session, town.log.size(session)).ok


def test_nyc_rows_per_violation_become_inspections(town: Town) -> None:
    report = town.run("nyc", FILES / "nyc_dohmh_cp1252.csv", encoding="cp1252")
    assert report.loaded == 4
    skipped = _reasons(report.skipped)
    assert "nyc_dohmh_cp1252.csv line 4: duplicate of nyc_dohmh_cp1252.csv line 3" in skipped
    assert any("line 8: not inspected yet" in s for s in skipped)
    [refused] = _reasons(report.refused)
    assert "line 9: rating 'Q' is not one of scheme us-nyc's" in refused
    with town.sessions() as session:
        rows = sorted(
            session.execute(select(InspectionRow)).scalars(),
            key=lambda r: (r.premises_id, r.inspected_on, r.inspection_type or ""),
        )
        cafe = rows[0]
        assert (cafe.premises_id, cafe.score, cafe.rating) == ("nyc-50001234", 12.0, "A")
        assert json.loads(cafe.violations)[0] == {
            "code": "04L",
            "description": "Evidence of mice or live mice in establishment’s food or "
            "non-food areas.",
            "risk_category": "Critical",
        }
        assert len(json.loads(cafe.violations)) == 2
        smoke = rows[1]
        assert (smoke.inspection_type, smoke.score, smoke.rating) == (
            "Smoke-Free Air Act / Initial Inspection",
            None,
            None,
        )
        pizza = [r for r in rows if r.premises_id == "nyc-50005678"]
        assert [(r.score, r.rating) for r in pizza] == [(31.0, None), (18.0, "Z")]
        premises = session.get(PremisesRow, "nyc-50005678")
        assert premises is not None
        assert (premises.latitude, premises.city, premises.address) == (
            None,
            "Brooklyn",
            "216 BEDFORD AVENUE",
        )
        assert session.get(PremisesRow, "nyc-50009999") is not None  # registered, not inspected
        assert audit_projections(session, town.log.size(session)).ok


def test_a_refused_file_stores_nothing(town: Town, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for name in ("businesses.csv", "inspections.csv", "violations.csv"):
        (bundle / name).write_bytes((FILES / "lives_sf" / name).read_bytes())
    (bundle / "legend.csv").write_text(
        "minimum_score,maximum_score,description\n0,100,Pass\n", encoding="utf-8"
    )
    before = [town.count(m) for m in (EventRow, InspectionRow, PremisesRow)]
    with pytest.raises(Invalid, match="legend.csv bands"):
        town.run("lives", bundle)
    assert [town.count(m) for m in (EventRow, InspectionRow, PremisesRow)] == before


def test_the_flattened_lives_form(town: Town) -> None:
    report = town.run("lives", FILES / "lives_flat.csv")
    assert (report.loaded, len(report.refused)) == (4, 0)
    with town.sessions() as session:
        rows = {
            r.inspected_on.isoformat(): r for r in session.execute(select(InspectionRow)).scalars()
        }
        assert rows["2015-09-14"].rating == "Needs Improvement"
        assert rows["2015-09-14"].authority_rating == "Needs Improvement"
        assert [v["risk_category"] for v in json.loads(rows["2015-09-14"].violations)] == [
            "High Risk",
            "Low Risk",
        ]
        assert rows["2015-09-28"].score is None


def test_the_import_command_reports_per_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from traceability.entrypoints.cli.app import app

    for key in [k for k in __import__("os").environ if k.startswith("SUNLEDGER_")]:
        monkeypatch.delenv(key)
    runner = CliRunner()
    args = ["import", "inspections", str(FILES / "nyc_dohmh_cp1252.csv"), "--format", "nyc"]
    args += ["--district", "bk", "--data-dir", str(tmp_path)]
    wrong = runner.invoke(app, args)
    assert wrong.exit_code == 2
    assert "is not valid utf-8: byte offset" in wrong.output
    assert "(nothing was stored)" in wrong.output
    done = runner.invoke(app, [*args, "--encoding", "cp1252"])
    assert done.exit_code == 0, done.output
    assert "4 loaded (4 historical, 0 alert(s) opened), 2 skipped, 1 refused" in done.output
    assert "refused: nyc_dohmh_cp1252.csv line 9: rating 'Q'" in done.output
    again = runner.invoke(app, [*args, "--encoding", "cp1252", "--json"])
    assert again.exit_code == 0
    report = json.loads(again.output)
    assert report["loaded"] == 0 and report["skipped"] == 6


def test_the_audit_names_a_changed_rating_or_violation_of_an_imported_inspection(
    town: Town,
) -> None:
    town.run("nyc", FILES / "nyc_dohmh_cp1252.csv", encoding="cp1252")
    with transaction(town.sessions) as session:
        row = session.execute(select(InspectionRow).where(InspectionRow.rating == "Z")).scalar_one()
        row.rating = "A"  # a better grade than the Department gave
        row.violations = "[]"  # and its violation gone
        row.historical = False
        tampered = row.event_id
    with town.sessions() as session:
        report = audit_projections(session, town.log.size(session))
    named = {(f.table, f.key, f.field) for f in report.findings}
    assert named == {
        ("inspections", tampered, "rating"),
        ("inspections", tampered, "violations"),
        ("inspections", tampered, "historical"),
    }


def test_an_import_into_another_district_cannot_add_to_known_premises(town: Town) -> None:
    town.run("lives", FILES / "lives_flat.csv")  # into d1
    parsed = read_path("lives", FILES / "lives_flat.csv", "utf-8")
    for item in parsed.inspections:
        item.inspection_type = "Complaint"  # other inspections of the same businesses
    options = ImportOptions(
        scheme="us-lives", source="lives", district="d2", org_id="imported-lives"
    )
    before = town.count(InspectionRow)
    with transaction(town.sessions) as session:
        report = HistoryImport(town.log).run(session, "flat.csv", parsed, options, NOW)
    assert report.loaded == 0 and len(report.refused) == 4
    assert "business 101 is premises lives-101 in district d1, not d2" in report.refused[0].reason
    assert town.count(InspectionRow) == before
