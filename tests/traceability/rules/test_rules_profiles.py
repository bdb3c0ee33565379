"""Tests of ``traceability.rules.profiles``: the packaged jurisdiction profiles and their models."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from traceability.errors import Invalid
from traceability.rules.device_kinds import DeviceKind
from traceability.rules.profiles import (
    DEVICE_KINDS,
    JUDGEABLE_RULES,
    PROFILES,
    JurisdictionProfile,
    load_profile,
)

PROBE_RULES = (
    "cold_holding",
    "frozen",
    "hot_holding",
    "danger_zone",
    "cooling",
    "core_temperature",
    "dishwasher_rinse",
    "chemical_sanitising",
    "disinfection",
    "probe_silent",
)


def raw(name: str) -> dict[str, Any]:
    text = (resources.files("traceability.rules") / "profiles" / f"{name}.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


@pytest.mark.parametrize("name", PROFILES)
def test_packaged_profiles_load_and_validate(name: str) -> None:
    profile = load_profile(name)
    assert profile.name == name
    assert load_profile(name) is profile  # cached
    assert JurisdictionProfile.model_validate(raw(name)) == profile


def test_profiles_are_cn_and_us() -> None:
    assert PROFILES == ("cn", "us")


def test_unknown_profile_is_invalid_and_named() -> None:
    with pytest.raises(Invalid, match="'fr'"):
        load_profile("fr")


@pytest.mark.parametrize("name", PROFILES)
def test_every_probe_rule_states_its_class_and_a_note(name: str) -> None:
    rules = load_profile(name).rules
    for rule_name in PROBE_RULES:
        rule = getattr(rules, rule_name)
        assert rule.alert_class in (1, 2, 3)
        assert rule.note and rule.source
        assert rule.operational.note


@pytest.mark.parametrize("name", PROFILES)
def test_alert_classes_follow_the_rules(name: str) -> None:
    rules = load_profile(name).rules
    assert rules.cold_holding.alert_class == 1  # cold-chain failure
    assert rules.frozen.alert_class == 1
    assert rules.core_temperature.alert_class == 1  # core temperature not reached
    assert rules.danger_zone.alert_class == 1
    assert rules.cooling.alert_class == 1
    assert rules.probe_silent.alert_class == 2
    assert rules.dishwasher_rinse.alert_class == 2
    assert rules.chemical_sanitising.alert_class == 2
    assert rules.disinfection.alert_class == 2
    assert rules.hot_holding.alert_class == 2
    if rules.sample_retention is not None:
        assert rules.sample_retention.alert_class == 2


def test_cn_thresholds() -> None:
    rules = load_profile("cn").rules
    assert rules.cold_holding.max_temperature.value == 8.0
    assert rules.cold_holding.min_temperature is not None
    assert rules.cold_holding.min_temperature.value == 0.0
    assert rules.frozen.max_temperature.value == -12.0
    assert rules.hot_holding.min_temperature.value == 60.0
    assert (rules.danger_zone.lower.value, rules.danger_zone.upper.value) == (8.0, 60.0)
    assert rules.danger_zone.max_duration.seconds == 2 * 3600
    assert rules.reheating.min_temperature.value == 70.0
    assert rules.core_temperature.default_target.temperature.value == 70.0
    assert rules.core_temperature.default_target.hold is None
    assert rules.cooling.start_temperature.value == 60.0
    assert rules.cooling.stage2_temperature.value == 8.0
    assert rules.dishwasher_rinse.rinse_temperature.value == 85.0
    assert rules.dishwasher_rinse.hold is not None and rules.dishwasher_rinse.hold.seconds == 40
    assert rules.chemical_sanitising.min_chlorine.value == 250.0
    assert rules.sample_retention is not None
    assert rules.sample_retention.max_temperature.value == 8.0
    assert rules.sample_retention.retention is not None
    assert rules.sample_retention.retention.seconds == 48 * 3600
    assert rules.probe_silent.operational.silent_minutes == 30


def test_us_thresholds() -> None:
    rules = load_profile("us").rules
    assert rules.cold_holding.max_temperature.value == 5.0
    assert rules.frozen.max_temperature.value == -18.0
    assert rules.frozen.max_temperature.basis == "industry_practice"
    assert rules.hot_holding.min_temperature.value == 57.0
    assert (rules.danger_zone.lower.value, rules.danger_zone.upper.value) == (5.0, 57.0)
    assert rules.danger_zone.max_duration.seconds == 4 * 3600
    assert rules.cooling.start_temperature.value == 57.0
    assert rules.cooling.stage1_within.seconds == 2 * 3600
    assert rules.cooling.stage2_within.seconds == 4 * 3600
    targets = {k: v.temperature.value for k, v in rules.core_temperature.targets.items()}
    assert targets == {"fish_whole_meat": 63.0, "minced": 68.0, "poultry_stuffed": 74.0}
    default = rules.core_temperature.default_target
    assert default.temperature.value == 74.0
    assert default.hold is not None and default.hold.seconds == 15
    assert rules.reheating.min_temperature.value == 74.0
    assert rules.dishwasher_rinse.rinse_temperature.value == 82.0
    assert rules.chemical_sanitising.min_chlorine.value == 50.0
    assert rules.chemical_sanitising.max_chlorine is not None
    assert rules.chemical_sanitising.max_chlorine.value == 99.0
    assert rules.sample_retention is None
    assert load_profile("us").device_kinds["sample_fridge"] == []


def test_values_marked_unsure_are_unconfirmed_with_a_note() -> None:
    cn = load_profile("cn")
    unconfirmed = set(cn.unconfirmed_values())
    assert {
        "rules.cooling.start_temperature",
        "rules.cooling.stage1_temperature",
        "rules.cooling.stage1_within",
        "rules.cooling.stage2_temperature",
        "rules.cooling.stage2_within",
        "rules.dishwasher_rinse.rinse_temperature",
        "rules.dishwasher_rinse.hold",
        "rules.chemical_sanitising.min_chlorine",
        "rules.chemical_sanitising.contact_time",
        "rules.disinfection.temperature",
        "rules.disinfection.hold",
    } == unconfirmed
    assert set(load_profile("us").unconfirmed_values()) == {
        "rules.disinfection.temperature",
        "rules.disinfection.hold",
    }


def test_an_unconfirmed_value_without_a_note_is_rejected() -> None:
    data = raw("cn")
    del data["rules"]["cooling"]["stage1_temperature"]["note"]
    with pytest.raises(ValidationError, match="needs a note"):
        JurisdictionProfile.model_validate(data)


@pytest.mark.parametrize(
    "path",
    [
        (),
        ("rules",),
        ("rules", "cold_holding"),
        ("rules", "cold_holding", "operational"),
        ("rules", "cold_holding", "max_temperature"),
        ("rules", "core_temperature", "targets", "all"),
    ],
)
def test_extra_keys_are_rejected_everywhere(path: tuple[str, ...]) -> None:
    data = raw("cn")
    node = data
    for key in path:
        node = node[key]
    node["surprise"] = 1
    with pytest.raises(ValidationError, match="surprise"):
        JurisdictionProfile.model_validate(data)


def test_units_are_checked() -> None:
    data = raw("cn")
    data["rules"]["cold_holding"]["max_temperature"]["unit"] = "FAH"
    with pytest.raises(ValidationError):
        JurisdictionProfile.model_validate(data)


def test_device_kinds_must_be_judgeable() -> None:
    data = raw("cn")
    data["device_kinds"]["fridge"] = ["cooling"]
    with pytest.raises(ValidationError, match="cannot judge"):
        JurisdictionProfile.model_validate(data)
    data = raw("us")
    data["device_kinds"]["sample_fridge"] = ["sample_retention"]
    with pytest.raises(ValidationError, match="lacks"):
        JurisdictionProfile.model_validate(data)
    data = raw("cn")
    del data["device_kinds"]["room"]
    with pytest.raises(ValidationError, match="exactly"):
        JurisdictionProfile.model_validate(data)


def test_inconsistent_thresholds_are_rejected() -> None:
    data = raw("us")
    data["rules"]["cooling"]["stage2_temperature"]["value"] = 30.0
    with pytest.raises(ValidationError, match="fall"):
        JurisdictionProfile.model_validate(data)
    data = raw("us")
    data["rules"]["core_temperature"]["default_category"] = "tofu"
    with pytest.raises(ValidationError, match="tofu"):
        JurisdictionProfile.model_validate(data)
    data = raw("cn")
    data["rules"]["cold_holding"]["operational"]["window_minutes"] = 10
    with pytest.raises(ValidationError, match="window_minutes"):
        JurisdictionProfile.model_validate(data)


def test_device_kinds_match_the_engine() -> None:
    assert tuple(kind.value for kind in DeviceKind) == DEVICE_KINDS
    assert set(JUDGEABLE_RULES) == set(DEVICE_KINDS)
