"""Jurisdiction profiles: each jurisdiction's food-safety thresholds, kept as data.

A profile is a packaged JSON file (``profiles/<name>.json``) validated by the
models below: unknown keys are rejected everywhere. Every threshold carries its
unit (UN/ECE Rec 20 codes: ``CEL``, ``SEC``/``MIN``/``HUR``, ``MGL``), its basis
(regulation unless said otherwise) and, where the primary text could not be
confirmed, ``"unconfirmed": true`` with a note. What the rule engine needs on
top of the regulation (tolerance, window, hysteresis, silence, cycle
detection) sits in each rule's ``operational`` block: those numbers are our
operational choices, not law.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from traceability.errors import Invalid
from traceability.rules.device_kinds import DEVICE_KINDS

PROFILES = ("cn", "us")

# Which rules the engine can judge from each kind of probe. A profile chooses,
# per device kind, a subset of these (probe_silent applies to every kind).
JUDGEABLE_RULES: dict[str, frozenset[str]] = {
    "fridge": frozenset({"cold_holding"}),
    "freezer": frozenset({"frozen"}),
    "hot_holding": frozenset({"hot_holding", "danger_zone"}),
    "core_probe": frozenset({"core_temperature", "cooling"}),
    "dishwasher": frozenset({"dishwasher_rinse", "chemical_sanitising"}),
    "disinfection_cabinet": frozenset({"disinfection", "chemical_sanitising"}),
    "sample_fridge": frozenset({"sample_retention", "cold_holding"}),
    "room": frozenset(),
}

AlertClass = Literal[1, 2, 3]
Basis = Literal["regulation", "industry_practice", "assumption"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- quantities


class _Quantity(_Strict):
    value: float
    unconfirmed: bool = False
    basis: Basis = "regulation"
    note: str | None = None

    @model_validator(mode="after")
    def _explained(self) -> Self:
        if (self.unconfirmed or self.basis != "regulation") and not self.note:
            raise ValueError("an unconfirmed or non-regulatory value needs a note")
        return self


class Celsius(_Quantity):
    unit: Literal["CEL"]


class Duration(_Quantity):
    value: float = Field(ge=0)
    unit: Literal["SEC", "MIN", "HUR"]

    @property
    def seconds(self) -> float:
        return self.value * {"SEC": 1, "MIN": 60, "HUR": 3600}[self.unit]


class MilligramsPerLitre(_Quantity):
    value: float = Field(ge=0)
    unit: Literal["MGL"]


# --------------------------------------------------------------------------- operational choices


class Hysteresis(_Strict):
    """Recovery needs readings inside the limit by ``margin`` for ``minutes``."""

    margin_celsius: float = Field(ge=0)
    minutes: float = Field(ge=0)


class ChlorineHysteresis(_Strict):
    margin_mg_per_l: float = Field(ge=0)
    minutes: float = Field(ge=0)


class ExcursionOperation(_Strict):
    """How much time out of range, within a trailing window, makes a breach."""

    tolerance_minutes: float = Field(gt=0)
    window_minutes: float | None = Field(default=None, gt=0)
    hysteresis: Hysteresis
    silent_minutes: float = Field(default=30, gt=0)
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _window_holds_tolerance(self) -> Self:
        if self.window_minutes is not None and self.window_minutes < self.tolerance_minutes:
            raise ValueError("window_minutes must be at least tolerance_minutes")
        return self


class DangerZoneOperation(_Strict):
    """The danger zone's time limit is regulation; only recovery and silence are ours."""

    hysteresis: Hysteresis
    silent_minutes: float = Field(default=30, gt=0)
    note: str = Field(min_length=1)


class ChlorineOperation(_Strict):
    tolerance_minutes: float = Field(gt=0)
    window_minutes: float | None = Field(default=None, gt=0)
    hysteresis: ChlorineHysteresis
    silent_minutes: float = Field(default=30, gt=0)
    note: str = Field(min_length=1)

    @model_validator(mode="after")
    def _window_holds_tolerance(self) -> Self:
        if self.window_minutes is not None and self.window_minutes < self.tolerance_minutes:
            raise ValueError("window_minutes must be at least tolerance_minutes")
        return self


class CycleOperation(_Strict):
    """A cycle (cooking run, wash, disinfection) starts above ``start_celsius``.

    It ends once readings have stayed at or below it for ``end_minutes``, or
    when no reading came for ``end_minutes``.
    """

    start_celsius: float
    end_minutes: float = Field(gt=0)
    silent_minutes: float = Field(default=30, gt=0)
    note: str = Field(min_length=1)


class CoolingOperation(_Strict):
    """Telling a cooling run from a probe pulled out of the food."""

    max_gap_minutes: float = Field(gt=0)
    withdrawal_celsius_per_minute: float = Field(gt=0)
    silent_minutes: float = Field(default=30, gt=0)
    note: str = Field(min_length=1)


class SilenceOperation(_Strict):
    silent_minutes: float = Field(default=30, gt=0)
    note: str = Field(min_length=1)


# --------------------------------------------------------------------------- rules


class _Rule(_Strict):
    alert_class: AlertClass
    source: str = Field(min_length=1)
    note: str = Field(min_length=1)


class ColdLimitRule(_Rule):
    """cold_holding, frozen, sample_retention: an upper temperature limit."""

    max_temperature: Celsius
    min_temperature: Celsius | None = None
    retention: Duration | None = None
    operational: ExcursionOperation

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min_temperature is not None and self.min_temperature.value >= (
            self.max_temperature.value
        ):
            raise ValueError("min_temperature must be below max_temperature")
        return self


class HotHoldingRule(_Rule):
    min_temperature: Celsius
    operational: ExcursionOperation


class DangerZoneRule(_Rule):
    lower: Celsius
    upper: Celsius
    max_duration: Duration
    action: str = Field(min_length=1)
    operational: DangerZoneOperation

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.lower.value >= self.upper.value:
            raise ValueError("the danger zone's lower bound must be below its upper bound")
        if self.max_duration.seconds <= 0:
            raise ValueError("max_duration must be positive")
        return self


class ReheatingRule(_Rule):
    """Recorded for the restaurant-record checks; no probe can tell a reheat from a cook."""

    min_temperature: Celsius
    within: Duration | None = None


class CoolingRule(_Rule):
    """Two-stage cooling; stage 2's time counts on from the end of stage 1's allowance."""

    start_temperature: Celsius
    stage1_temperature: Celsius
    stage1_within: Duration
    stage2_temperature: Celsius
    stage2_within: Duration
    operational: CoolingOperation

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not (
            self.start_temperature.value
            > self.stage1_temperature.value
            > self.stage2_temperature.value
        ):
            raise ValueError("cooling temperatures must fall: start > stage 1 > stage 2")
        return self


class CoreTarget(_Strict):
    foods: str = Field(min_length=1)
    temperature: Celsius
    hold: Duration | None = None


class CoreTemperatureRule(_Rule):
    targets: dict[str, CoreTarget] = Field(min_length=1)
    default_category: str
    operational: CycleOperation

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.default_category not in self.targets:
            raise ValueError(f"default_category {self.default_category!r} is not a target")
        for name, target in self.targets.items():
            if target.temperature.value <= self.operational.start_celsius:
                raise ValueError(f"target {name!r} must lie above the run start temperature")
        return self

    @property
    def default_target(self) -> CoreTarget:
        return self.targets[self.default_category]


class DishwasherRule(_Rule):
    rinse_temperature: Celsius
    hold: Duration | None = None
    single_temperature_rinse: Celsius | None = None
    utensil_surface: Celsius | None = None
    operational: CycleOperation

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.rinse_temperature.value <= self.operational.start_celsius:
            raise ValueError("rinse_temperature must lie above the cycle start temperature")
        return self


class ChemicalSanitisingRule(_Rule):
    min_chlorine: MilligramsPerLitre
    max_chlorine: MilligramsPerLitre | None = None
    contact_time: Duration | None = None
    operational: ChlorineOperation

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max_chlorine is not None and self.max_chlorine.value <= self.min_chlorine.value:
            raise ValueError("max_chlorine must be above min_chlorine")
        return self


class DisinfectionRule(_Rule):
    temperature: Celsius
    hold: Duration
    operational: CycleOperation

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.temperature.value <= self.operational.start_celsius:
            raise ValueError("temperature must lie above the cycle start temperature")
        return self


class ProbeSilentRule(_Rule):
    operational: SilenceOperation


class RuleSet(_Strict):
    cold_holding: ColdLimitRule
    frozen: ColdLimitRule
    sample_retention: ColdLimitRule | None
    hot_holding: HotHoldingRule
    danger_zone: DangerZoneRule
    reheating: ReheatingRule
    cooling: CoolingRule
    core_temperature: CoreTemperatureRule
    dishwasher_rinse: DishwasherRule
    chemical_sanitising: ChemicalSanitisingRule
    disinfection: DisinfectionRule
    probe_silent: ProbeSilentRule


class JurisdictionProfile(_Strict):
    name: str = Field(min_length=1)
    title: str = Field(min_length=1)
    sources: list[str] = Field(min_length=1)
    notes: list[str]
    device_kinds: dict[str, list[str]]
    rules: RuleSet

    @model_validator(mode="after")
    def _device_kinds_judgeable(self) -> Self:
        if set(self.device_kinds) != set(DEVICE_KINDS):
            raise ValueError(f"device_kinds must name exactly {', '.join(DEVICE_KINDS)}")
        for kind, rules in self.device_kinds.items():
            for rule in rules:
                if rule not in JUDGEABLE_RULES[kind]:
                    raise ValueError(f"a {kind} probe cannot judge rule {rule!r}")
                if getattr(self.rules, rule) is None:
                    raise ValueError(f"{kind} names rule {rule!r}, which this profile lacks")
            if len(set(rules)) != len(rules):
                raise ValueError(f"{kind} names a rule twice")
        return self

    def unconfirmed_values(self) -> list[str]:
        """Dotted paths of every value marked unconfirmed, e.g. ``rules.cooling.stage1_within``."""
        found: list[str] = []

        def walk(node: object, path: str) -> None:
            if isinstance(node, _Quantity):
                if node.unconfirmed:
                    found.append(path)
            elif isinstance(node, BaseModel):
                for key in type(node).model_fields:
                    walk(getattr(node, key), f"{path}.{key}" if path else key)
            elif isinstance(node, dict):
                for key, value in node.items():
                    walk(value, f"{path}.{key}")

        walk(self, "")
        return found


@functools.cache
def load_profile(name: str) -> JurisdictionProfile:
    """The packaged profile ``name`` (one of ``PROFILES``), validated; cached per name."""
    if name not in PROFILES:
        raise Invalid(f"unknown jurisdiction profile {name!r}; known: {', '.join(PROFILES)}")
    packaged = resources.files("traceability.rules") / "profiles" / f"{name}.json"
    text = packaged.read_text(encoding="utf-8")
    try:
        profile = JurisdictionProfile.model_validate_json(text)
    except ValidationError as exc:
        raise Invalid(f"jurisdiction profile {name!r} is invalid: {exc}") from exc
    if profile.name != name:
        raise Invalid(f"jurisdiction profile file {name!r} calls itself {profile.name!r}")
    return profile
