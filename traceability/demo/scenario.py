"""The demo city's scenario: who is in it, what they run, and what happens during the week.

``scenario.json`` ships with the package. Days in the story are counted back
from today in the city's time zone (``-1`` is yesterday); only ``-6``..``-1``
are allowed, so every story event falls inside the seeded week whatever the
hour the demo is run. Errors name the key that is wrong
(``scenario.json: premises[3].devices[1].kind: ...``) and the check that failed.
"""

from __future__ import annotations

import json
import re
from importlib.resources import files
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from pydantic import field_validator as validator

from traceability.errors import Invalid
from traceability.orgs.registry import PREMISES_KINDS
from traceability.records.gs1 import normalise_gtin
from traceability.rules.profiles import DEVICE_KINDS, PROFILES

FORMAT = "sunledger-demo-scenario/1"
Id = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
LocalTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
StoryDay = Annotated[int, Field(ge=-6, le=-1)]
_HOURS = re.compile(r"^([01][0-9]|2[0-4]):[0-5][0-9]-([01][0-9]|2[0-4]):[0-5][0-9]$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Organisation(_Model):
    org_id: Id
    name: Name


class District(_Model):
    id: Id
    name: Name
    regulator: Organisation


class Device(_Model):
    id: Id
    kind: str
    location: Name

    @validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in DEVICE_KINDS:
            raise ValueError(f"{value!r} is not one of {', '.join(DEVICE_KINDS)}")
        return value


class Camera(_Model):
    id: Id
    name: Name
    opening_hours: list[str] = Field(max_length=4)
    """Local ``HH:MM-HH:MM`` periods; empty means always open (a 24 h kitchen)."""

    @validator("opening_hours")
    @classmethod
    def _periods(cls, value: list[str]) -> list[str]:
        for period in value:
            if not _HOURS.match(period):
                raise ValueError(f"{period!r} is not HH:MM-HH:MM")
        return value


class Premises(_Model):
    id: Id
    org: Id
    name: Name
    kind: str
    district: Id
    address: Name
    licence: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{3,63}$")]
    licence_age_days: int = Field(ge=1, le=36500)
    """How long ago the licence was issued (under 3 months: a no-grade period)."""
    first_shift: LocalTime
    staff: list[Name] = Field(min_length=1, max_length=50)
    """Handlers' names: they enter the log only as salted commitments."""
    dishes: list[Name] = Field(min_length=1, max_length=20)
    last_year_scores: list[float] = Field(max_length=12)
    devices: list[Device] = Field(min_length=1, max_length=20)
    cameras: list[Camera] = Field(default_factory=list, max_length=4)

    @validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in PREMISES_KINDS:
            raise ValueError(f"{value!r} is not one of {', '.join(PREMISES_KINDS)}")
        return value

    @validator("last_year_scores")
    @classmethod
    def _scores(cls, value: list[float]) -> list[float]:
        if any(not 0 <= score <= 100 for score in value):
            raise ValueError("scores are 0-100")
        return value


class Product(_Model):
    product: Name
    gtin: Annotated[str, StringConstraints(pattern=r"^[0-9]{8,14}$")]
    unit: Annotated[str, StringConstraints(min_length=1, max_length=16)]
    shelf_life_days: int = Field(ge=1, le=3650)

    @validator("gtin")
    @classmethod
    def _check_digit(cls, value: str) -> str:
        try:
            normalise_gtin(value)
        except Invalid as exc:
            raise ValueError(exc.detail) from None
        return value


class Supplier(_Model):
    name: Name
    licence: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    certificate_valid_days: int = Field(ge=-3650, le=3650)
    """Days from today until the supplier's certificate expires (negative: expired)."""
    products: list[Product] = Field(min_length=1, max_length=20)


class Collector(_Model):
    name: Name
    licence: Annotated[str, StringConstraints(min_length=1, max_length=80)]


class DeviceFault(_Model):
    device: Id
    day: StoryDay
    at: LocalTime


class CameraEvent(_Model):
    camera: Id
    day: StoryDay
    at: LocalTime


class PremisesEvent(_Model):
    premises: Id
    day: StoryDay


class SupplierEvent(_Model):
    premises: Id
    supplier: Name
    day: StoryDay


class Story(_Model):
    failing_fridge: DeviceFault
    """The one fridge whose compressor fails: a class 1 alert, rectified and closed."""
    hot_holding_drop: DeviceFault
    """A bain-marie's element fails: alerts left open."""
    cooling_stall: DeviceFault
    """The next cooling run stalls: a class 1 alert nobody answers (overdue, yellow card)."""
    pest: CameraEvent
    """The night-time pest event, seen by a camera (night scene with a small moving blob)."""
    expired_supplier_certificate: SupplierEvent
    underweight_sample: PremisesEvent
    failed_key_item: PremisesEvent


class DemoKeys(_Model):
    console: Id
    """The regulator whose key the printout shows for the console."""
    kitchen: Id
    """The restaurant organisation whose key the printout shows for the kitchen page."""


class Scenario(_Model):
    format: Literal["sunledger-demo-scenario/1"]
    city: Name
    timezone: str
    profile: str
    districts: list[District] = Field(min_length=1, max_length=20)
    auditor: Organisation
    organisations: list[Organisation] = Field(min_length=1, max_length=100)
    premises: list[Premises] = Field(min_length=1, max_length=100)
    suppliers: list[Supplier] = Field(min_length=1, max_length=50)
    waste_oil_collector: Collector
    story: Story
    demo_keys: DemoKeys
    qr_premises: Id

    @validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone") from None
        return value

    @validator("profile")
    @classmethod
    def _profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"{value!r} is not one of {', '.join(PROFILES)}")
        return value

    # ------------------------------------------------------------------ look-ups

    def premises_by_id(self, premises_id: str) -> Premises:
        for premises in self.premises:
            if premises.id == premises_id:
                return premises
        raise KeyError(premises_id)

    def device(self, device_id: str) -> tuple[Premises, Device]:
        for premises in self.premises:
            for device in premises.devices:
                if device.id == device_id:
                    return premises, device
        raise KeyError(device_id)

    def camera(self, camera_id: str) -> tuple[Premises, Camera]:
        for premises in self.premises:
            for camera in premises.cameras:
                if camera.id == camera_id:
                    return premises, camera
        raise KeyError(camera_id)

    def supplier(self, name: str) -> Supplier:
        for supplier in self.suppliers:
            if supplier.name == name:
                return supplier
        raise KeyError(name)

    def regulator_of(self, district: str) -> Organisation:
        for entry in self.districts:
            if entry.id == district:
                return entry.regulator
        raise KeyError(district)


def _cross_check(scenario: Scenario) -> list[str]:
    """What the schema cannot see: references between parts, and ids used twice."""
    problems: list[str] = []
    districts = {d.id for d in scenario.districts}
    restaurants = {o.org_id for o in scenario.organisations}
    org_ids = [o.org_id for o in scenario.organisations]
    org_ids += [d.regulator.org_id for d in scenario.districts] + [scenario.auditor.org_id]
    ids = {
        "organisation": org_ids,
        "premises": [p.id for p in scenario.premises],
        "device": [d.id for p in scenario.premises for d in p.devices],
        "camera": [c.id for p in scenario.premises for c in p.cameras],
        "licence": [p.licence for p in scenario.premises],
        "supplier": [s.name for s in scenario.suppliers],
    }
    for what, values in ids.items():
        seen: set[str] = set()
        for value in values:
            if value in seen:
                problems.append(f"{what} {value!r} is used twice")
            seen.add(value)
    for i, premises in enumerate(scenario.premises):
        if premises.org not in restaurants:
            problems.append(f"premises[{i}].org: {premises.org!r} is not in organisations")
        if premises.district not in districts:
            problems.append(f"premises[{i}].district: {premises.district!r} is not a district")
    story = scenario.story
    checks: list[tuple[str, str, str]] = [
        ("story.failing_fridge.device", story.failing_fridge.device, "fridge"),
        ("story.hot_holding_drop.device", story.hot_holding_drop.device, "hot_holding"),
        ("story.cooling_stall.device", story.cooling_stall.device, "core_probe"),
    ]
    for where, device_id, kind in checks:
        try:
            _premises, device = scenario.device(device_id)
        except KeyError:
            problems.append(f"{where}: no device {device_id!r}")
            continue
        if device.kind != kind:
            problems.append(f"{where}: {device_id!r} is a {device.kind}, not a {kind}")
    try:
        scenario.camera(story.pest.camera)
    except KeyError:
        problems.append(f"story.pest.camera: no camera {story.pest.camera!r}")
    for where, premises_id in (
        (
            "story.expired_supplier_certificate.premises",
            story.expired_supplier_certificate.premises,
        ),
        ("story.underweight_sample.premises", story.underweight_sample.premises),
        ("story.failed_key_item.premises", story.failed_key_item.premises),
        ("qr_premises", scenario.qr_premises),
    ):
        try:
            scenario.premises_by_id(premises_id)
        except KeyError:
            problems.append(f"{where}: no premises {premises_id!r}")
    try:
        expired = scenario.supplier(story.expired_supplier_certificate.supplier)
        if expired.certificate_valid_days >= story.expired_supplier_certificate.day:
            problems.append(
                "story.expired_supplier_certificate.supplier: the certificate of "
                f"{expired.name!r} is still valid on that day"
            )
    except KeyError:
        problems.append(
            "story.expired_supplier_certificate.supplier: no supplier "
            f"{story.expired_supplier_certificate.supplier!r}"
        )
    if not any(s.certificate_valid_days > 7 for s in scenario.suppliers):
        problems.append("suppliers: at least one needs a certificate valid all week")
    if scenario.demo_keys.console not in {d.regulator.org_id for d in scenario.districts}:
        problems.append(f"demo_keys.console: {scenario.demo_keys.console!r} is not a regulator")
    if scenario.demo_keys.kitchen not in restaurants:
        problems.append(f"demo_keys.kitchen: {scenario.demo_keys.kitchen!r} is not a restaurant")
    return problems


def parse_scenario(raw: Any, *, source: str = "scenario.json") -> Scenario:
    """A checked scenario; ``Invalid`` naming ``source`` and every key that is wrong."""
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = [
            f"{'.'.join(_part(p) for p in e['loc']).replace('.[', '[') or '(top level)'}: "
            f"{str(e['msg']).removeprefix('Value error, ')}"
            for e in exc.errors()
        ]
        raise Invalid(f"{source}: " + "; ".join(problems[:10])) from None
    problems = _cross_check(scenario)
    if problems:
        raise Invalid(f"{source}: " + "; ".join(problems[:10]))
    return scenario


def _part(part: int | str) -> str:
    return f"[{part}]" if isinstance(part, int) else part


def load_scenario(path: Path | None = None) -> Scenario:
    """The scenario at ``path``, or the one shipped with the package."""
    if path is None:
        text = files("traceability.demo").joinpath("scenario.json").read_text(encoding="utf-8")
        source = "scenario.json (shipped)"
    else:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise Invalid(f"{path}: cannot be read ({exc.strerror})") from None
        source = str(path)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Invalid(f"{source}: not JSON ({exc})") from None
    return parse_scenario(raw, source=source)
