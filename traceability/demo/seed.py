"""Seeding the demo city: a week of history, ending now, through the platform's own services.

Nothing is written behind the services' backs. Organisations, premises and
keys go through the directory; probes and gateways through the device
registry with real Ed25519 keys; readings are generated from the simulator's
curves and signed by each premises' gateway, then verified and judged by
``ProbeIntake`` (so the failing fridge's class 1 alert comes from the rules,
not from the demo); records go through the record book (names only as
commitments); alerts move through the alert desk; inspections and grades
through the inspections service; the pest event is found by the vision
checker in a generated night clip; anchoring is the worker's tick on the
embedded chain.

The week is replayed in time order on a simulated clock that ends at the real
"now": every service is handed the simulated instant as its ``now``, so the
log, the alerts and the pages look like a week that really happened. Readings
are uploaded hourly per premises. Story steps that answer an alert (the
restaurant acknowledging, submitting evidence, the regulator closing) are
scheduled when the alert is opened.

A finished seeding writes ``demo-city.json``; a second run finds it and seeds
nothing. A seeding that stopped half-way is detected and refused (``--reset``).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from traceability.alerts import repository as alert_repo
from traceability.alerts.escalation import escalate_overdue
from traceability.alerts.lifecycle import AlertDesk
from traceability.attachments import AttachmentStore
from traceability.demo import clips
from traceability.demo import repository as demo_repo
from traceability.demo.credentials import DemoApiKey, device_keys, write_api_keys
from traceability.demo.scenario import Premises, Scenario
from traceability.devices.intake import ProbeIntake, parse_submission
from traceability.devices.registry import DeviceRegistry
from traceability.errors import Invalid, SunledgerError
from traceability.inspections.schemas import InspectionSubmission
from traceability.inspections.service import Inspections
from traceability.orgs import repository as org_repository
from traceability.orgs.registry import Directory, Principal
from traceability.platform import Platform
from traceability.public_record.day_summaries import DaySummaries
from traceability.records.service import RecordBook
from traceability.settings import Settings
from traceability.simulator.curves import (
    COOLING_STALL,
    FAILING_FRIDGE,
    HOT_HOLDING_DROP,
    Curve,
    Fault,
    curve_for,
)
from traceability.simulator.fleet import Fleet, Restaurant, SimDevice, SimGateway
from traceability.simulator.run import rfc3339_ms
from traceability.storage.db import transaction
from traceability.transparency.events import InspectionItem

log = logging.getLogger(__name__)

MARKER_FILE = "demo-city.json"
MARKER_FORMAT = "sunledger-demo-city/1"
CLIPS_DIR = "demo-clips"
DATA_FILES = (
    "sunledger.db",
    "sunledger.db-wal",
    "sunledger.db-shm",
    "log-signing.key",
    "embedded-chain.jsonl",
    "celerybeat-schedule",
    MARKER_FILE,
    "demo-keys.json",
    "demo-device-keys.json",
)
"""The demo's files in the data directory (``--reset`` removes these and ``demo-clips/``)."""

WEEK = timedelta(days=7)
UPLOAD_EVERY = timedelta(hours=1)
# Seconds between readings, by device kind. Cycle probes (dishwasher rinse, core probe)
# are read often while active (above the threshold) and every BASE_GAP otherwise: the
# rules prove "85 °C held 40 s" or "core 70 °C reached" only from readings.
STEP: dict[str, float] = {
    "fridge": 300,
    "sample_fridge": 300,
    "freezer": 600,
    "hot_holding": 600,
    "room": 600,
}
ACTIVE: dict[str, tuple[float, float]] = {
    # kind: (step while active, active above °C)
    "dishwasher": (15, 58.0),
    "core_probe": (30, 30.0),
    "disinfection_cabinet": (60, 45.0),
}
BASE_GAP = 300.0
CAMERA_RULES = ["tamper", "motion", "pest", "offline", "faces"]


# --------------------------------------------------------------------------- results


@dataclass
class SeedSummary:
    """What a seeding did (or, for a city seeded before, what the marker says)."""

    seeded_at: str
    premises: int = 0
    districts: int = 0
    devices: int = 0
    cameras: int = 0
    readings: int = 0
    records: int = 0
    inspections: int = 0
    grades: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    vision: str = "not run"
    events: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def marker(data_dir: Path) -> SeedSummary | None:
    """The summary a finished seeding left in ``data_dir``, if any."""
    path = data_dir / MARKER_FILE
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.pop("format") != MARKER_FORMAT:
            raise ValueError
        return SeedSummary(**document)
    except (ValueError, TypeError, KeyError):
        raise Invalid(f"{path} is not a {MARKER_FORMAT} file (run with --reset)") from None


def reset(data_dir: Path) -> list[str]:
    """Remove the demo's files from ``data_dir`` (nothing else); return what was removed."""
    removed = []
    for name in DATA_FILES:
        path = data_dir / name
        if path.exists() or path.is_symlink():
            path.unlink()
            removed.append(name)
    clip_dir = data_dir / CLIPS_DIR
    if clip_dir.is_dir():
        for kind in clips.CLIPS:
            (clip_dir / f"{kind}.avi").unlink(missing_ok=True)
        for leftover in clip_dir.glob(".*.partial.avi"):
            leftover.unlink()
        try:
            clip_dir.rmdir()
            removed.append(CLIPS_DIR + "/")
        except OSError:
            pass  # someone else's file is in there: leave it
    return removed


def clip_path(data_dir: Path, kind: str) -> Path:
    return data_dir / CLIPS_DIR / f"{kind}.avi"


def _stable(*parts: object) -> int:
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big")


def demo_fleet(scenario: Scenario, data_dir: Path) -> Fleet:
    """The scenario's probes and gateways as a simulator fleet, with the demo's keys."""
    owners = [d.id for p in scenario.premises for d in p.devices]
    owners += [gateway_id(p.id) for p in scenario.premises]
    keys = device_keys(data_dir, owners)
    restaurants = []
    for premises in scenario.premises:
        devices = tuple(
            SimDevice(
                device_id=d.id,
                premises_id=premises.id,
                role=d.id,
                kind=d.kind,
                location=d.location,
                profile=scenario.profile,
                curve_seed=_stable("demo-curve", d.id),
                private_key=keys[d.id],
            )
            for d in premises.devices
        )
        gateway = SimGateway(gateway_id(premises.id), premises.id, keys[gateway_id(premises.id)])
        restaurants.append(Restaurant(premises.id, devices, gateway))
    return Fleet(tuple(restaurants), scenario.profile, 0)


def gateway_id(premises_id: str) -> str:
    return f"{premises_id}-gw"[:64]


def camera_config(
    scenario: Scenario, premises: Premises, camera_id: str, data_dir: Path
) -> dict[str, Any]:
    """A camera's checker configuration (what ``sunledger vision run`` reads)."""
    _premises, camera = scenario.camera(camera_id)
    return {
        "camera_id": camera.id,
        "premises_id": premises.id,
        "name": camera.name,
        "source": str(clip_path(data_dir, "day")),
        "timezone": scenario.timezone,
        "sample_fps": clips.SAMPLE_FPS,
        "opening_hours": list(camera.opening_hours),
        "zones": clips.ZONES,
        "rules": CAMERA_RULES,
    }


# --------------------------------------------------------------------------- probes


class ProbeFeed:
    """One probe's readings over simulated time, from its curve."""

    def __init__(self, device: SimDevice, curve: Curve, start: float) -> None:
        self.device = device
        self.curve = curve
        if device.kind in ACTIVE:
            self.step, self.active_above = ACTIVE[device.kind]
        else:
            self.step, self.active_above = STEP.get(device.kind, 600.0), math.inf
        offset = device.curve_seed % int(self.step)
        self.t = math.ceil((start - offset) / self.step) * self.step + offset
        self.last = -math.inf
        self.between_cycles = False

    def until(self, end: float) -> Iterator[dict[str, Any]]:
        """Unsigned readings (gateway batch form) measured before ``end``."""
        while self.t < end:
            t = self.t
            self.t += self.step
            if self.curve.silent(t):
                continue
            values = self.curve.values(t)
            if self.active_above != math.inf:
                idle = values[0].value <= self.active_above
                # Switched on between two cycles: a cycle the week starts in the middle of
                # would be judged on its tail alone.
                self.between_cycles = self.between_cycles or idle
                if not self.between_cycles or (idle and t - self.last < BASE_GAP):
                    continue
            self.last = t
            yield self.device.reading(round(t * 1_000_000), rfc3339_ms(t), values)


# --------------------------------------------------------------------------- seeding


Action = Callable[[datetime], None]


class CitySeeder:
    """Replays the scenario's week into the platform (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        scenario: Scenario,
        *,
        now: datetime | None = None,
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.settings = settings
        self.scenario = scenario
        self.now = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
        self.start = self.now - WEEK
        self.zone = ZoneInfo(scenario.timezone)
        self.today = self.now.astimezone(self.zone).date()
        self.on_progress = on_progress
        self.data_dir = settings.data_dir
        self.platform = Platform.open(settings)
        self.sessions, self.log, self.signer = (
            self.platform.sessions,
            self.platform.log,
            self.platform.signer,
        )
        self.directory = Directory()
        self.intake = ProbeIntake(self.log, self.signer)
        self.day_summaries = DaySummaries(self.log)
        self.records = RecordBook(self.log)
        self.desk = AlertDesk(self.log)
        self.attachments = AttachmentStore()
        self.inspections = Inspections(self.log)
        self.summary = SeedSummary(seeded_at=self.now.isoformat())
        self.tokens: dict[str, DemoApiKey] = {}
        self._queue: list[tuple[datetime, int, str, Action]] = []
        self._order = 0
        self._feeds: dict[str, list[ProbeFeed]] = {}
        self._story_alerts: dict[str, str] = {}
        self._unexpected: list[str] = []

    # -- the clock ----------------------------------------------------------

    def at(self, day: int, hhmm: str) -> datetime:
        """Local ``hh:mm`` on ``day`` (0 today, -1 yesterday) as an aware UTC instant."""
        hour, minute = (int(x) for x in hhmm.split(":"))
        local = datetime.combine(self.today + timedelta(days=day), time(hour, minute), self.zone)
        return local.astimezone(UTC)

    def schedule(self, when: datetime, label: str, action: Action) -> None:
        """Run ``action(when)`` at ``when`` if that lies inside the week (else drop it)."""
        if self.start <= when <= self.now:
            self._order += 1
            heapq.heappush(self._queue, (when, self._order, label, action))

    def principal(self, session: Session, org_id: str, now: datetime) -> Principal:
        return self.directory.authenticate(session, self.tokens[org_id].token, now)

    # -- the whole run ------------------------------------------------------

    def run(self) -> SeedSummary:
        began = datetime.now(UTC)
        for kind in clips.CLIPS:
            clips.write_clip(clip_path(self.data_dir, kind), kind)
        with self.sessions() as session:
            before = self.log.size(session)
        self._register()
        self._last_year()
        self._plan_readings()
        self._plan_records()
        self._plan_inspections()
        self._plan_pest()
        self._plan_anchors()
        total = len(self._queue) + 2
        done = 0
        while self._queue:
            when, _order, label, action = heapq.heappop(self._queue)
            try:
                action(when)
            except SunledgerError as exc:
                raise Invalid(f"demo step {label!r} at {when.isoformat()}: {exc.detail}") from exc
            done += 1
            total = max(total, done + len(self._queue) + 2)
            if self.on_progress is not None:
                self.on_progress(done, total)
        with transaction(self.sessions) as session:
            escalated = escalate_overdue(session, self.log, self.now)
        self.summary.alerts["escalated"] = len(escalated)
        self._anchor(self.now)
        with transaction(self.sessions) as session:
            self.log.checkpoint(session, self.signer)
            after = self.log.size(session)
            self.summary.alerts.update(demo_repo.alert_counts(session))
        if self.on_progress is not None:
            self.on_progress(total, total)
        self.summary.events = after - before
        self.summary.seconds = round((datetime.now(UTC) - began).total_seconds(), 1)
        if self._unexpected:
            log.warning("probe alerts outside the story: %s", ", ".join(self._unexpected))
        document = {"format": MARKER_FORMAT, **self.summary.to_json()}
        (self.data_dir / MARKER_FILE).write_text(json.dumps(document, indent=1) + "\n")
        return self.summary

    # -- who is who ---------------------------------------------------------

    def _register(self) -> None:
        scenario = self.scenario
        setup = self.start - timedelta(days=1)
        fleet = demo_fleet(scenario, self.data_dir)
        registry = DeviceRegistry()
        with transaction(self.sessions) as session:
            if org_repository.premises(session, scenario.premises[0].id) is not None:
                raise Invalid(
                    f"the database in {self.data_dir} already holds demo premises but no "
                    f"{MARKER_FILE}: an earlier seeding stopped half-way (run with --reset)"
                )
            orgs: list[tuple[str, str, str, list[str]]] = [
                (d.regulator.org_id, d.regulator.name, "regulator", [d.id])
                for d in scenario.districts
            ]
            orgs.append((scenario.auditor.org_id, scenario.auditor.name, "auditor", []))
            orgs += [(o.org_id, o.name, "restaurant", []) for o in scenario.organisations]
            for org_id, name, role, districts in orgs:
                self.directory.create_organisation(
                    session, org_id=org_id, name=name, role=role, districts=districts, now=setup
                )
                issued = self.directory.issue_key(session, org_id, label="demo", now=self.now)
                self.tokens[org_id] = DemoApiKey(org_id, role, issued.token)
            for p in scenario.premises:
                self.directory.add_premises(
                    session,
                    premises_id=p.id,
                    org_id=p.org,
                    name=p.name,
                    kind=p.kind,
                    licence_number=p.licence,
                    licence_issued_on=self.today - timedelta(days=p.licence_age_days),
                    licence_expires_on=self.today
                    - timedelta(days=p.licence_age_days)
                    + timedelta(days=5 * 365),
                    district=p.district,
                    address=p.address,
                    timezone=scenario.timezone,
                    first_shift=p.first_shift,
                    now=setup,
                )
            for restaurant in fleet.restaurants:
                for device in restaurant.devices:
                    registry.register_device(
                        session,
                        device_id=device.device_id,
                        premises_id=device.premises_id,
                        location=device.location,
                        kind=device.kind,
                        profile=device.profile,
                        public_key=device.public_key,
                        now=setup,
                    )
                registry.register_gateway(
                    session,
                    gateway_id=restaurant.gateway.gateway_id,
                    premises_id=restaurant.premises_id,
                    public_key=restaurant.gateway.public_key,
                    now=setup,
                )
            self.summary.cameras = self._register_cameras(session, setup)
        write_api_keys(self.data_dir, self.tokens.values())
        self.fleet = fleet
        self.summary.premises = len(scenario.premises)
        self.summary.districts = len(scenario.districts)
        self.summary.devices = len(fleet.devices)

    def _register_cameras(self, session: Session, setup: datetime) -> int:
        try:
            from kitchen_vision.config import parse_config
            from traceability.cameras.registry import CameraRegistry
        except ImportError as exc:  # the vision checker is not installed
            self.summary.vision = f"skipped: {exc}"
            return 0
        registry = CameraRegistry()
        count = 0
        for premises in self.scenario.premises:
            for camera in premises.cameras:
                config = parse_config(
                    camera_config(self.scenario, premises, camera.id, self.data_dir)
                )
                registry.register(
                    session,
                    camera_id=camera.id,
                    premises_id=premises.id,
                    name=camera.name,
                    config=config.to_json(),
                    now=setup,
                )
                count += 1
        return count

    # -- last year's inspections and the grades decided on them ---------------

    def _last_year(self) -> None:
        setup = self.start - timedelta(hours=12)
        year = setup.astimezone(self.zone).year - 1
        with transaction(self.sessions) as session:
            for p in self.scenario.premises:
                row = self.directory.premises(session, p.id)
                regulator = self.scenario.regulator_of(p.district).org_id
                for i, score in enumerate(p.last_year_scores):
                    inspected = date(year, 3 + 4 * i % 10, 10 + _stable(p.id, i) % 15)
                    self.inspections.record(
                        session,
                        row,
                        regulator,
                        _submission(inspected, score, key_failed=False, premises=p),
                        setup,
                    )
                    self.summary.inspections += 1
                self.inspections.decide_grade(session, row, year, regulator, setup)
                self.summary.grades += 1

    # -- probes -------------------------------------------------------------

    def _plan_readings(self) -> None:
        story = self.scenario.story
        faults = {
            story.failing_fridge.device: Fault(
                FAILING_FRIDGE,
                self.at(story.failing_fridge.day, story.failing_fridge.at).timestamp(),
            ),
            story.hot_holding_drop.device: Fault(
                HOT_HOLDING_DROP,
                self.at(story.hot_holding_drop.day, story.hot_holding_drop.at).timestamp(),
            ),
            story.cooling_stall.device: Fault(
                COOLING_STALL, self.at(story.cooling_stall.day, story.cooling_stall.at).timestamp()
            ),
        }
        start = self.start.timestamp()
        for restaurant in self.fleet.restaurants:
            self._feeds[restaurant.premises_id] = [
                ProbeFeed(
                    device,
                    curve_for(
                        device.kind,
                        device.curve_seed,
                        device.profile,
                        [faults[device.device_id]] if device.device_id in faults else [],
                    ),
                    start,
                )
                for device in restaurant.devices
            ]
        upload = self.start + UPLOAD_EVERY
        while upload < self.now:
            self.schedule(upload, "hourly probe uploads", self._upload)
            upload += UPLOAD_EVERY
        self.schedule(self.now, "last probe uploads", self._upload)

    def _upload(self, when: datetime) -> None:
        end = when.timestamp()
        opened: list[str] = []
        with transaction(self.sessions) as session:
            for restaurant in self.fleet.restaurants:
                readings = [
                    r for feed in self._feeds[restaurant.premises_id] for r in feed.until(end)
                ]
                for offset in range(0, len(readings), 1000):
                    chunk = readings[offset : offset + 1000]
                    seq = round(end * 1_000_000) + offset
                    batch = restaurant.gateway.batch(seq, chunk)
                    result = self.intake.accept(session, parse_submission(batch), when)
                    self.summary.readings += result.accepted
                    opened += result.alerts_opened
        with transaction(self.sessions) as session:
            # What the worker's beat does: close ended days, refresh today's running summary.
            self.day_summaries.tick(session, when)
        for alert_id in opened:
            self._answer_probe_alert(alert_id, when)

    def _answer_probe_alert(self, alert_id: str, opened_at: datetime) -> None:
        """Schedule the story's answers to an alert the rules just opened."""
        story = self.scenario.story
        with self.sessions() as session:
            alert = alert_repo.alert(session, alert_id)
            assert alert is not None
            device = alert.subject.removeprefix("device:")
            rule = alert.rule
        if device == story.failing_fridge.device and rule == "cold_holding":
            self._story_alerts["failing_fridge"] = alert_id
            premises = self.scenario.device(device)[0]
            self._answer(
                alert_id,
                premises,
                opened_at,
                acknowledge_after=timedelta(minutes=35),
                evidence=(
                    "Refrigeration repair report",
                    [
                        f"Unit: {device}",
                        "Fault: compressor start relay failed",
                        "Action: relay and door gasket replaced",
                        "Stock above 8 C for over 2 h discarded (11.5 kg)",
                        "Pull-down test: 3.1 C after 40 min",
                    ],
                ),
                submit_after=timedelta(hours=20),
                close_after=timedelta(hours=44),
            )
        elif device == story.hot_holding_drop.device and rule == "hot_holding":
            self._story_alerts["hot_holding_drop"] = alert_id
            premises = self.scenario.device(device)[0]
            self._answer(alert_id, premises, opened_at, acknowledge_after=timedelta(minutes=25))
        elif device == story.hot_holding_drop.device and rule == "danger_zone":
            self._story_alerts["danger_zone"] = alert_id
        elif device == story.cooling_stall.device and rule == "cooling":
            self._story_alerts["cooling_stall"] = alert_id  # nobody answers: overdue
        else:
            self._unexpected.append(f"{device}:{rule}")

    def _answer(
        self,
        alert_id: str,
        premises: Premises,
        opened_at: datetime,
        *,
        acknowledge_after: timedelta | None = None,
        evidence: tuple[str, list[str]] | None = None,
        submit_after: timedelta | None = None,
        close_after: timedelta | None = None,
        request_after: timedelta | None = None,
    ) -> None:
        """Schedule the restaurant's and the regulator's steps on one alert."""
        restaurant = premises.org
        regulator = self.scenario.regulator_of(premises.district).org_id

        def acknowledge(now: datetime) -> None:
            with transaction(self.sessions) as session:
                self.desk.acknowledge(
                    session,
                    self.principal(session, restaurant, now),
                    alert_id,
                    now=now,
                    note="Seen; the manager is on it.",
                )

        def request(now: datetime) -> None:
            with transaction(self.sessions) as session:
                self.desk.request_rectification(
                    session,
                    self.principal(session, regulator, now),
                    alert_id,
                    now=now,
                    note="Rectify the failed key item and send photos of the result.",
                )

        def submit(now: datetime) -> None:
            assert evidence is not None
            title, lines = evidence
            with transaction(self.sessions) as session:
                who = self.principal(session, restaurant, now)
                stored = self.attachments.store(
                    session,
                    premises_id=premises.id,
                    data=clips.photo(title, [*lines, f"Date: {now:%Y-%m-%d}"], seed=len(title)),
                    declared_type="image/png",
                    uploaded_by=who.actor,
                    now=now,
                )
                self.desk.submit_rectification(
                    session,
                    who,
                    alert_id,
                    now=now,
                    note=f"{title}: attached.",
                    evidence_sha256=[stored.sha256],
                )

        def close(now: datetime) -> None:
            with transaction(self.sessions) as session:
                self.desk.close(
                    session,
                    self.principal(session, regulator, now),
                    alert_id,
                    now=now,
                    note="Evidence checked on a follow-up visit; closed.",
                )

        if acknowledge_after is not None:
            self.schedule(opened_at + acknowledge_after, f"acknowledge {alert_id}", acknowledge)
        if request_after is not None:
            self.schedule(opened_at + request_after, f"request rectification {alert_id}", request)
        if submit_after is not None:
            self.schedule(opened_at + submit_after, f"rectify {alert_id}", submit)
        if close_after is not None:
            self.schedule(opened_at + close_after, f"close {alert_id}", close)

    # -- restaurant records ---------------------------------------------------

    def _plan_records(self) -> None:
        for p in self.scenario.premises:
            for day in range(-7, 1):
                for when, record_type, raw in self._day_of_records(p, day):
                    self.schedule(
                        when, f"{record_type} of {p.id}", self._recorder(p, record_type, raw)
                    )

    def _recorder(self, p: Premises, record_type: str, raw: dict[str, Any]) -> Action:
        story = self.scenario.story

        def submit(now: datetime) -> None:
            with transaction(self.sessions) as session:
                premises = self.directory.premises(session, p.id)
                who = self.principal(session, p.org, now)
                logged = self.records.submit(
                    session, premises, record_type, raw, actor=who.actor, now=now
                )
            self.summary.records += 1
            for alert_id in logged.alerts_opened:
                if (
                    record_type == "purchase_inspection"
                    and p.id == story.expired_supplier_certificate.premises
                ):
                    self._answer(
                        alert_id,
                        p,
                        now,
                        acknowledge_after=timedelta(hours=2),
                        evidence=(
                            "Supplier certificate renewed",
                            [
                                f"Supplier: {raw['supplier']}",
                                f"Licence: {raw['supplier_licence']}",
                                "Renewed certificate valid for 3 years",
                                f"Lot {raw['lot_code']} returned to supplier",
                            ],
                        ),
                        submit_after=timedelta(hours=5),
                        close_after=timedelta(hours=26),
                    )
                elif record_type == "sample_retention":
                    self._answer(alert_id, p, now, acknowledge_after=timedelta(hours=3))

        return submit

    def _day_of_records(
        self, p: Premises, day: int
    ) -> Iterator[tuple[datetime, str, dict[str, Any]]]:
        """One premises' records of one day: (when logged, record type, JSON as submitted)."""
        story = self.scenario.story
        on = self.today + timedelta(days=day)
        staff = p.staff
        person = staff[(day + 7) % len(staff)]
        first = datetime.combine(on, time.fromisoformat(p.first_shift), self.zone)
        checked = first - timedelta(minutes=25)
        certificate = (self.today + timedelta(days=200 + _stable(p.id) % 300)).isoformat()
        roster = [
            {"name": name, "health_certificate_expiry": certificate}
            for k, name in enumerate(staff)
            if (k + day) % 5 != 0 or len(staff) < 3
        ]
        if day == -4 and len(staff) >= 4:
            roster.append({"name": staff[0], "excluded_reason": "fever"})
            roster = [
                r for r in roster if not (r["name"] == staff[0] and "excluded_reason" not in r)
            ]
        yield (
            checked,
            "morning_check",
            {
                "date": on.isoformat(),
                "staff": roster,
                "checked_at": checked.isoformat(),
                "checked_by": person,
            },
        )
        yield from self._purchases(p, day, on, first, person)
        if p.kind not in ("bakery", "street_stall"):
            for meal, hhmm in (("lunch", "12:40"), ("dinner", "18:40")):
                when = datetime.combine(on, time.fromisoformat(hhmm), self.zone)
                light = (
                    p.id == story.underweight_sample.premises
                    and day == story.underweight_sample.day
                    and meal == "lunch"
                )
                dish = p.dishes[(day + (meal == "dinner")) % len(p.dishes)]
                yield (
                    when,
                    "sample_retention",
                    {
                        "date": on.isoformat(),
                        "dish": dish,
                        "meal": meal,
                        "weight_g": 95.0 if light else 150.0 + _stable(p.id, day, meal) % 60,
                        "time_in": when.isoformat(),
                        "fridge": "Sample-retention fridge",
                        "person": person,
                    },
                )
        if p.kind == "bakery":
            used = first + timedelta(hours=1)
            yield (
                used,
                "additive_use",
                {
                    "date": on.isoformat(),
                    "additive": "Calcium propionate (E282)",
                    "batch": f"B{on:%m%d}",
                    "food": p.dishes[0],
                    "amount_g": 48.0,
                    "max_g": 75.0,
                    "weighed": True,
                    "used_at": used.isoformat(),
                    "person": person,
                },
            )
        cleaned = datetime.combine(on, time(21, 30), self.zone)
        chemical = _stable(p.id, day) % 3 == 0
        disinfection: dict[str, Any] = {
            "date": on.isoformat(),
            "items": ["tableware", "chopping boards", "knives"],
            "method": "chemical" if chemical else "heat",
            "duration_min": 10.0 if chemical else 15.0,
            "started_at": cleaned.isoformat(),
            "person": person,
        }
        if chemical:
            disinfection["concentration_mg_l"] = 250.0
        else:
            disinfection["temperature_c"] = 100.0
        yield cleaned, "disinfection", disinfection
        if p.kind in ("restaurant", "street_stall", "canteen") and (day + _stable(p.id)) % 3 == 0:
            collected = datetime.combine(on, time(20, 15), self.zone)
            collector = self.scenario.waste_oil_collector
            yield (
                collected,
                "waste_oil",
                {
                    "date": on.isoformat(),
                    "oil_type": "frying_oil" if day % 2 else "grease_trap",
                    "quantity": float(8 + _stable(p.id, day) % 12),
                    "unit": "kg",
                    "collector": collector.name,
                    "collector_licence": collector.licence,
                    "collected_at": collected.isoformat(),
                    "person": person,
                },
            )
        inspected = datetime.combine(on, time(16, 5), self.zone)
        finding = _stable(p.id, day, "self") % 9 == 0
        items = [
            {"item": "Fridges at 0-8 C, freezers at or below -12 C", "ok": True},
            {"item": "Raw and cooked food kept apart", "ok": True},
            {"item": "Bins covered, pest traps in place", "ok": not finding},
            {"item": "Hand-washing station stocked", "ok": True},
        ]
        if finding:
            items[2]["finding"] = "One bin lid broken; replaced the same day."
        yield (
            inspected,
            "self_inspection",
            {
                "date": on.isoformat(),
                "items": items,
                "no_risk_found": not finding,
                "person": person,
            },
        )

    def _purchases(
        self, p: Premises, day: int, on: date, first: datetime, person: str
    ) -> Iterator[tuple[datetime, str, dict[str, Any]]]:
        story = self.scenario.story.expired_supplier_certificate
        valid = [s for s in self.scenario.suppliers if s.certificate_valid_days > 7]
        received = first + timedelta(minutes=40)
        chosen = []
        if (day + _stable(p.id)) % 2 == 0:
            supplier = valid[_stable(p.id, day, "supplier") % len(valid)]
            chosen.append(
                (supplier, supplier.products[_stable(p.id, day) % len(supplier.products)])
            )
        if p.id == story.premises and day == story.day:
            supplier = self.scenario.supplier(story.supplier)
            chosen.append((supplier, supplier.products[0]))
        for k, (supplier, product) in enumerate(chosen):
            produced = on - timedelta(days=min(product.shelf_life_days - 1, 1 + day % 3))
            yield (
                received + timedelta(minutes=5 * k),
                "purchase_inspection",
                {
                    "date": on.isoformat(),
                    "supplier": supplier.name,
                    "supplier_licence": supplier.licence,
                    "supplier_certificate_expiry": (
                        self.today + timedelta(days=supplier.certificate_valid_days)
                    ).isoformat(),
                    "product": product.product,
                    "gtin": product.gtin,
                    "lot_code": f"L{produced:%y%m%d}-{_stable(supplier.name, on) % 1000:03d}",
                    "quantity": float(5 + _stable(p.id, on, k) % 40),
                    "unit": product.unit,
                    "production_date": produced.isoformat(),
                    "shelf_life_days": product.shelf_life_days,
                    "reference_document_type": "delivery_note",
                    "reference_document_number": f"DN-{on:%Y%m%d}-{_stable(p.id, k) % 10000:04d}",
                    "receiver": person,
                },
            )

    # -- official inspections this week --------------------------------------

    def _plan_inspections(self) -> None:
        story = self.scenario.story.failed_key_item
        for i, p in enumerate(self.scenario.premises):
            if p.id == story.premises:
                day, key_failed, score = story.day, True, 78.0
            elif i % 3 == 0:
                day, key_failed, score = -1 - i % 5, False, 85.0 + _stable(p.id, "week") % 14
            else:
                continue
            when = self.at(day, "15:30")
            self.schedule(when, f"inspection of {p.id}", self._inspector(p, day, score, key_failed))

    def _inspector(self, p: Premises, day: int, score: float, key_failed: bool) -> Action:
        regulator = self.scenario.regulator_of(p.district).org_id
        inspected = self.today + timedelta(days=day)

        def inspect(now: datetime) -> None:
            with transaction(self.sessions) as session:
                row = self.directory.premises(session, p.id)
                recorded = self.inspections.record(
                    session,
                    row,
                    regulator,
                    _submission(inspected, score, key_failed=key_failed, premises=p),
                    now,
                )
            self.summary.inspections += 1
            if recorded.alert_id is not None:
                self._answer(recorded.alert_id, p, now, request_after=timedelta(minutes=10))

        return inspect

    # -- the night-time pest event ------------------------------------------

    def _plan_pest(self) -> None:
        pest = self.scenario.story.pest
        self.schedule(self.at(pest.day, pest.at), f"night clip of {pest.camera}", self._pest)

    def _pest(self, start: datetime) -> None:
        try:
            from kitchen_vision.config import parse_config
            from kitchen_vision.ledger import VisionLedger
            from kitchen_vision.pipeline import Pipeline
            from kitchen_vision.sources import VideoFileSource
            from traceability.cameras.registry import CameraRegistry
        except ImportError as exc:
            self.summary.vision = f"skipped: {exc}"
            return
        camera_id = self.scenario.story.pest.camera
        premises = self.scenario.camera(camera_id)[0]
        with self.sessions() as session:
            row = CameraRegistry().get(session, camera_id)
            config = parse_config({**json.loads(row.config), "start_time": start.isoformat()})
        path = clip_path(self.data_dir, "pest")
        source = VideoFileSource(
            path, sample_fps=config.sample_fps, frame_width=config.frame_width, start=start
        )
        results = list(Pipeline(config).run(source.frames()))
        now = start + timedelta(seconds=clips.seconds("pest") + 2)
        with transaction(self.sessions) as session:
            logged = VisionLedger(self.log, config, live=False).record(session, results, now)
        rules = sorted({v.rule for r in results for v in r.violations})
        self.summary.vision = (
            f"{camera_id}: {len(results)} frames analysed, "
            f"violations {', '.join(rules) or 'none'}, "
            f"{len(logged.evidence_sha256)} evidence images (faces blurred)"
        )
        for alert_id in logged.alerts_opened:
            self._story_alerts["pest"] = alert_id
            self._answer(
                alert_id,
                premises,
                now,
                acknowledge_after=timedelta(hours=6, minutes=30),
                evidence=(
                    "Pest control service report",
                    [
                        "Contractor: Riverside Pest Control",
                        "Inspection of kitchen, store and drains",
                        "Entry point sealed behind the prep counter",
                        "Bait stations: 6 placed, map attached",
                        "Follow-up visit in 14 days",
                    ],
                ),
                submit_after=timedelta(hours=30),
            )

    # -- anchoring --------------------------------------------------------------

    def _plan_anchors(self) -> None:
        for day in range(-6, 1):
            self.schedule(self.at(day, "00:00"), "anchor the day", self._anchor)

    def _anchor(self, _when: datetime) -> None:
        from traceability.entrypoints.worker import run_anchor_tick

        report = run_anchor_tick(self.platform, force=True)
        if report.get("errors"):
            raise Invalid(f"anchoring failed: {report['errors']}")


def _submission(
    inspected: date, score: float, *, key_failed: bool, premises: Premises
) -> InspectionSubmission:
    items = [
        InspectionItem(item="Licence displayed and valid", passed=True, key=True),
        InspectionItem(item="Cold storage at 0-8 C, logged", passed=True, key=True),
        InspectionItem(
            item="Raw and cooked food separated",
            passed=not key_failed,
            key=True,
            finding="Raw seafood stored above ready-to-eat sauces" if key_failed else None,
        ),
        InspectionItem(item="Staff health certificates on file", passed=True),
        InspectionItem(item="Floor drains clean and covered", passed=score >= 80 or key_failed),
    ]
    return InspectionSubmission(
        inspected_on=inspected,
        items=items,
        score=score,
        findings=f"Routine inspection of {premises.name}."
        + (" Key item failed: rectification required." if key_failed else ""),
    )


def seed_city(
    settings: Settings,
    scenario: Scenario,
    *,
    now: datetime | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> SeedSummary:
    """Seed the scenario's week into ``settings.data_dir`` (see the module docstring)."""
    return CitySeeder(settings, scenario, now=now, on_progress=on_progress).run()
