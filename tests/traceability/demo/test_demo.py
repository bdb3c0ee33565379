"""``sunledger demo`` as a user runs it: a real process seeds the demo city, prints how to use
it, serves it with live data, and a second run or ``--reset`` behave as documented."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from local_ports import free_port
from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.demo.credentials import read_api_keys
from traceability.demo.scenario import load_scenario, parse_scenario
from traceability.errors import Invalid
from traceability.platform import open_platform
from traceability.settings import Settings
from traceability.storage.models import (
    AlertRow,
    AlertTransitionRow,
    AnchorRow,
    AttachmentRow,
    DeviceRow,
    EventRow,
    GradeRow,
    InspectionRow,
    PremisesRow,
)

BIN = Path(sys.executable).parent
SUNLEDGER = str(BIN / "sunledger")
SCENARIO = load_scenario()


def environment() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("SUNLEDGER_")}
    return {**base, "PATH": f"{BIN}{os.pathsep}{base.get('PATH', '')}"}


def sunledger(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SUNLEDGER, *args],
        capture_output=True,
        text=True,
        timeout=600,
        env=environment(),
        cwd=cwd,
    )


@dataclass
class Seeded:
    data: Path
    port: int
    run: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    data = tmp_path_factory.mktemp("demo-city")
    port = free_port()
    run = sunledger("demo", "--no-serve", "--data-dir", str(data), "--port", str(port))
    assert run.returncode == 0, run.stderr
    return Seeded(data, port, run)


def log_size(data: Path) -> int:
    _engine, sessions, log, _signer = open_platform(Settings(data_dir=data))
    with sessions() as session:
        return log.size(session)


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:
        body: bytes = response.read()
        return body


@pytest.fixture
def server(seeded: Seeded) -> Iterator[str]:
    """``sunledger serve`` on the seeded data directory, at the port the demo printed."""
    proc = subprocess.Popen(
        [SUNLEDGER, "serve", "--data-dir", str(seeded.data), "--port", str(seeded.port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=environment(),
    )
    base = f"http://127.0.0.1:{seeded.port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                get(f"{base}/healthz")
                break
            except OSError:
                assert proc.poll() is None, "the server exited"
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)


# --------------------------------------------------------------------------- the seeded city


@pytest.mark.slow
def test_the_city_is_seeded_through_the_services(seeded: Seeded) -> None:
    _engine, sessions, log, _signer = open_platform(Settings(data_dir=seeded.data))
    story = SCENARIO.story
    with sessions() as session:
        premises = list(session.execute(select(PremisesRow)).scalars())
        assert len(premises) == len(SCENARIO.premises) >= 10
        assert len({p.district for p in premises}) == 3
        kinds = {p.kind for p in premises}
        assert {"restaurant", "central_kitchen", "school_canteen"} <= kinds

        devices = list(session.execute(select(DeviceRow)).scalars())
        assert {"fridge", "freezer", "hot_holding", "dishwasher", "sample_fridge"} <= {
            d.kind for d in devices
        }
        assert all(d.last_seq > 0 for d in devices)  # every probe's signed readings got in

        alerts = list(session.execute(select(AlertRow)).scalars())
        fridge = [a for a in alerts if a.subject == f"device:{story.failing_fridge.device}"]
        assert [(a.source, a.rule, a.alert_class) for a in fridge] == [("probe", "cold_holding", 1)]
        # The one failing fridge is the only fridge that raised anything.
        fridges = {d.device_id for d in devices if d.kind == "fridge"}
        assert {a.subject.removeprefix("device:") for a in alerts} & fridges == {
            story.failing_fridge.device
        }
        closed = fridge[0]
        assert closed.status == "closed"
        steps = list(
            session.execute(
                select(AlertTransitionRow)
                .where(AlertTransitionRow.alert_id == closed.alert_id)
                .order_by(AlertTransitionRow.id)
            ).scalars()
        )
        assert [s.to_status for s in steps] == [
            "open",
            "acknowledged",
            "rectification_submitted",
            "closed",
        ]
        evidence = json.loads(steps[2].evidence)
        photo = session.get(AttachmentRow, bytes.fromhex(evidence[0]))
        assert photo is not None and photo.media_type == "image/png"
        assert steps[3].actor.startswith(SCENARIO.regulator_of("oldtown").org_id + "/")

        statuses = {a.status for a in alerts}
        assert "open" in statuses and "acknowledged" in statuses
        yellow = [a for a in alerts if a.escalation == "yellow"]
        assert [a.subject for a in yellow] == [f"device:{story.cooling_stall.device}"]
        pest = [a for a in alerts if a.rule == "pest_suspected"]
        assert [(a.source, a.alert_class, a.premises_id) for a in pest] == [
            ("vision", 1, "p-spice-wok")
        ]
        local = pest[0].started_at.astimezone(ZoneInfo(SCENARIO.timezone))
        assert local.strftime("%H:%M") >= story.pest.at and local.hour < 4  # the night
        breach = session.execute(
            select(EventRow.body).where(EventRow.event_id == pest[0].breach_event_id)
        ).scalar_one()
        hashes = json.loads(bytes(breach))["payload"]["evidence_sha256"]
        assert len(hashes) == 2  # the blurred snapshot and the contact sheet
        for digest in hashes:
            image = session.get(AttachmentRow, bytes.fromhex(digest))
            assert image is not None and image.media_type == "image/jpeg"
            assert image.uploaded_by == "vision:cam-spice-wok-kitchen"

        inspections = list(session.execute(select(InspectionRow)).scalars())
        assert len(inspections) >= len(SCENARIO.premises)
        grades = {g.premises_id: g for g in session.execute(select(GradeRow)).scalars()}
        assert set(grades) == {p.id for p in SCENARIO.premises}
        assert (
            grades["p-green-bowl"].grade is None and "new licence" in grades["p-green-bowl"].reason
        )
        assert {g.grade for g in grades.values()} >= {"A", "B"}

        anchors = list(session.execute(select(AnchorRow)).scalars())
        final = max(a.tree_size for a in anchors if a.status == "final")
        assert final == log.size(session)

        kinds_logged = set(session.execute(select(EventRow.kind).distinct()).scalars())
        assert {
            "probe_reading",
            "restaurant_record",
            "ingredient_receipt",
            "violation",
            "alert_transition",
            "inspection",
            "grade",
            "vision_observation",
        } <= kinds_logged
        names = {name for p in SCENARIO.premises for name in p.staff}
        spellings = {n.encode() for n in names} | {json.dumps(n).strip('"').encode() for n in names}
        for (body,) in session.execute(
            select(EventRow.body).where(EventRow.kind == "restaurant_record")
        ):
            assert not any(s in bytes(body) for s in spellings)


@pytest.mark.slow
def test_the_printout_has_the_pages_the_keys_and_a_proof_command(seeded: Seeded) -> None:
    out = seeded.run.stdout
    base = f"http://127.0.0.1:{seeded.port}"
    assert "events (" in out and "new this run" in out and "(0 new this run)" not in out
    for premises in SCENARIO.premises:
        assert f"{base}/r/{premises.id}" in out
    assert f"{base}/console" in out and f"{base}/kitchen" in out
    keys_file = seeded.data / "demo-keys.json"
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    keys = read_api_keys(seeded.data)
    assert keys[SCENARIO.demo_keys.console].token in out
    assert keys[SCENARIO.demo_keys.kitchen].token in out
    assert f"--rpc {base}/v1/chain/rpc" in out and "sunledger verify bundle.json" in out
    assert "--contract 0x" in out and "--chain-id " in out  # the roots are pinned
    assert "█" in out  # the QR code
    assert f"{base}/\n" in out  # the landing page's search
    assert ".venv/bin/sunledger" in out  # how to run the printed commands


@pytest.mark.slow
def test_the_printed_verify_command_verifies(seeded: Seeded, server: str, tmp_path: Path) -> None:
    command = next(
        line.strip() for line in seeded.run.stdout.splitlines() if "sunledger verify" in line
    )
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "verified on pinned contract" in done.stdout
    bundle = json.loads((tmp_path / "bundle.json").read_text())
    assert bundle["event"]["kind"] == "violation"
    assert bundle["event"]["payload"]["rule"] == "cold_holding"


@pytest.mark.slow
def test_a_second_run_reuses_the_city(seeded: Seeded) -> None:
    before = log_size(seeded.data)
    again = sunledger("demo", "--no-serve", "--data-dir", str(seeded.data))
    assert again.returncode == 0, again.stderr
    assert "(0 new this run)" in again.stdout
    assert "reusing it" in again.stderr
    assert read_api_keys(seeded.data)[SCENARIO.demo_keys.console].token in again.stdout
    assert log_size(seeded.data) == before


@pytest.mark.slow
def test_serving_keeps_live_data_coming_and_stops_the_server(seeded: Seeded) -> None:
    port = free_port()
    before = log_size(seeded.data)
    proc = subprocess.Popen(
        [SUNLEDGER, "demo", "--data-dir", str(seeded.data), "--port", str(port)]
        + ["--serve-seconds", "300"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment(),
    )
    try:
        grown = False
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not grown and proc.poll() is None:
            time.sleep(1)
            grown = log_size(seeded.data) > before + 10
        assert grown, "no live data reached the log"
        page = get(f"http://127.0.0.1:{port}/r/p-jade-dumpling")
        assert b"<html" in page.lower()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    assert "live readings accepted" in err
    # The server's routine JSON log lines go to a file, named in the printout.
    server_log = seeded.data / "demo-server.log"
    assert f"the server's log: {server_log}" in out
    assert '"level"' not in out + err and "anchor_tick" not in out + err
    assert server_log.stat().st_size > 0
    with pytest.raises(OSError):  # the demo stopped its server too
        get(f"http://127.0.0.1:{port}/healthz")
    _engine, sessions, _log, _signer = open_platform(Settings(data_dir=seeded.data))
    with sessions() as session:
        probes = session.execute(
            select(EventRow.recorded_at)
            .where(EventRow.kind == "probe_reading")
            .where(EventRow.leaf_index >= before)
        ).all()
    assert probes  # live readings, signed by the seeded devices' keys, were accepted


@pytest.mark.slow
def test_the_demo_process_opens_its_stores_once(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One platform per process (as tests/api/test_one_platform.py has it for the API):
    ``sunledger demo`` prints its facts and runs the live probes and cameras through the
    one it opened; the served site is a process of its own, with its own."""
    from typer.testing import CliRunner

    from traceability.entrypoints.cli.app import app
    from traceability.transparency.log import TransparencyLog

    for name in [k for k in os.environ if k.startswith("SUNLEDGER_")]:
        monkeypatch.delenv(name)
    opened: list[str] = []  # every platform opening initialises the log (a no-op when it exists)
    initialise = TransparencyLog.initialise

    def counted(self: TransparencyLog, session: Session) -> None:
        opened.append(threading.current_thread().name)
        initialise(self, session)

    monkeypatch.setattr(TransparencyLog, "initialise", counted)
    port = str(free_port())
    done = CliRunner().invoke(
        app, ["demo", "--data-dir", str(seeded.data), "--port", port, "--serve-seconds", "5"]
    )
    assert done.exit_code == 0, done.output
    assert "live readings accepted" in done.output and "reusing it" in done.output
    assert opened == ["MainThread"]  # not a second time in the cameras' thread


# --------------------------------------------------------------------------- reset


@pytest.mark.slow
def test_reset_starts_over_and_leaves_other_files_alone(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "demo-city.json").write_text("{}")  # a stale marker: unusable
    refused = sunledger("demo", "--no-serve", "--data-dir", str(tmp_path))
    assert refused.returncode == 2 and "--reset" in refused.stderr
    done = sunledger("demo", "--no-serve", "--reset", "--data-dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert "(0 new this run)" not in done.stdout and "new this run" in done.stdout
    assert (tmp_path / "notes.txt").read_text() == "mine"
    assert json.loads((tmp_path / "demo-city.json").read_text())["premises"] == len(
        SCENARIO.premises
    )


# --------------------------------------------------------------------------- the scenario


def test_a_bad_scenario_is_named_key_by_key() -> None:
    raw = json.loads(SCENARIO.model_dump_json())
    raw["premises"][0]["devices"][0]["kind"] = "toaster"
    with pytest.raises(Invalid, match=r"premises\[0\]\.devices\[0\]\.kind: 'toaster'"):
        parse_scenario(raw)
    raw = json.loads(SCENARIO.model_dump_json())
    raw["premises"][1]["district"] = "atlantis"
    raw["story"]["failing_fridge"]["device"] = raw["premises"][0]["devices"][1]["id"]
    with pytest.raises(Invalid) as caught:
        parse_scenario(raw)
    assert "premises[1].district: 'atlantis' is not a district" in caught.value.detail
    assert "story.failing_fridge.device" in caught.value.detail and "not a fridge" in (
        caught.value.detail
    )
    raw = json.loads(SCENARIO.model_dump_json())
    raw["story"]["pest"]["day"] = 0
    with pytest.raises(Invalid, match=r"story\.pest\.day"):
        parse_scenario(raw)


def test_a_scenario_file_is_checked_before_anything_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "city.json"
    bad.write_text('{"format": "sunledger-demo-scenario/1"}')
    data = tmp_path / "data"
    done = sunledger("demo", "--no-serve", "--scenario", str(bad), "--data-dir", str(data))
    assert done.returncode == 2 and f"{bad}: city: Field required" in done.stderr
    assert not (data / "sunledger.db").exists()


@pytest.mark.slow
def test_the_bureau_witnessed_the_city_and_the_offline_proof_verifies(
    seeded: Seeded, tmp_path: Path
) -> None:
    out = seeded.run.stdout
    assert "witnessed by the City Market Supervision Bureau" in out
    command = next(line.strip() for line in out.splitlines() if "--format tlog-proof" in line)
    command = command.split(": ", 1)[1]
    done = subprocess.run(
        ["bash", "-c", command],
        capture_output=True,
        text=True,
        timeout=120,
        env=environment(),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "witnessed by market-supervision.demo/witness (quorum 1 of 1)" in done.stdout
    assert (tmp_path / "event.tlog-proof").read_text().startswith("c2sp.org/tlog-proof@v1\n")
