"""Who is who in the demo city: organisations with their API keys, premises, probes and
gateways with the demo's Ed25519 keys, and cameras with their checker configuration,
all through the directory and the registries."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from traceability.cameras.registry import CameraRegistry
from traceability.demo import clips
from traceability.demo.credentials import DemoApiKey, device_keys, write_api_keys
from traceability.demo.data_dir import MARKER_FILE, clip_path
from traceability.demo.scenario import Premises, Scenario
from traceability.demo.seeding import Seeding
from traceability.demo.variation import stable
from traceability.demo.vision import DemoVision, VisionMissing
from traceability.devices.registry import DeviceRegistry
from traceability.errors import Invalid
from traceability.orgs import repository as org_repository
from traceability.simulator.fleet import Fleet, Restaurant, SimDevice, SimGateway
from traceability.storage.db import transaction

CAMERA_RULES = ["tamper", "motion", "pest", "offline", "faces"]


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
                curve_seed=stable("demo-curve", d.id),
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


class CityRegistration:
    """Registers the scenario's organisations, premises, devices and cameras."""

    def __init__(self, seeding: Seeding, vision: DemoVision | VisionMissing) -> None:
        self.seeding = seeding
        self.vision = vision

    def run(self) -> Fleet:
        """Register everyone the day before the week starts; the probes' fleet."""
        s = self.seeding
        scenario = s.scenario
        setup = s.timeline.start - timedelta(days=1)
        fleet = demo_fleet(scenario, s.data_dir)
        registry = DeviceRegistry()
        with transaction(s.sessions) as session:
            if org_repository.premises(session, scenario.premises[0].id) is not None:
                raise Invalid(
                    f"the database in {s.data_dir} already holds demo premises but no "
                    f"{MARKER_FILE}: an earlier seeding stopped half-way (run with --reset)"
                )
            orgs: list[tuple[str, str, str, list[str]]] = [
                (d.regulator.org_id, d.regulator.name, "regulator", [d.id])
                for d in scenario.districts
            ]
            orgs.append((scenario.auditor.org_id, scenario.auditor.name, "auditor", []))
            orgs += [(o.org_id, o.name, "restaurant", []) for o in scenario.organisations]
            for org_id, name, role, districts in orgs:
                s.directory.create_organisation(
                    session, org_id=org_id, name=name, role=role, districts=districts, now=setup
                )
                issued = s.directory.issue_key(session, org_id, label="demo", now=s.timeline.now)
                s.tokens[org_id] = DemoApiKey(org_id, role, issued.token)
            for p in scenario.premises:
                s.directory.add_premises(
                    session,
                    premises_id=p.id,
                    org_id=p.org,
                    name=p.name,
                    kind=p.kind,
                    licence_number=p.licence,
                    licence_issued_on=s.timeline.today - timedelta(days=p.licence_age_days),
                    licence_expires_on=s.timeline.today
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
            s.summary.cameras = self._register_cameras(session, setup)
        write_api_keys(s.data_dir, s.tokens.values())
        s.summary.premises = len(scenario.premises)
        s.summary.districts = len(scenario.districts)
        s.summary.devices = len(fleet.devices)
        return fleet

    def _register_cameras(self, session: Session, setup: datetime) -> int:
        s = self.seeding
        if isinstance(self.vision, VisionMissing):  # the vision checker is not installed
            s.summary.vision = f"skipped: {self.vision.reason}"
            return 0
        registry = CameraRegistry()
        count = 0
        for premises in s.scenario.premises:
            for camera in premises.cameras:
                config = self.vision.camera_config(
                    camera_config(s.scenario, premises, camera.id, s.data_dir)
                )
                registry.register(
                    session,
                    camera_id=camera.id,
                    premises_id=premises.id,
                    name=camera.name,
                    config=config,
                    now=setup,
                )
                count += 1
        return count
