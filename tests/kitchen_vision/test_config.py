"""Camera configuration: a full file loads; every bad key is named in the error."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from scenes import kitchen_yaml

from kitchen_vision.config import ConfigError, load_config, load_configs, parse_config

FULL = kitchen_yaml(
    """
source: clips/kitchen.mp4
sample_fps: 2
opening_hours: ["10:00-14:00", "17:00-01:00"]
rules: [tamper, motion, pest, unattended_flame, offline]
work_clothes_colour: "#ffffff"
stove: {zone: stove-1, probe_device_id: st-1, probe_threshold_c: 80, unattended_minutes: 3}
thresholds: {tamper_confirm_frames: 4, offline_minutes: 2}
observation_rules:
  - {type: no_mask, class: 3, persist_seconds: 20, zones: [prep-1]}
"""
)


def test_a_full_file_loads_with_paths_relative_to_it(tmp_path: Path) -> None:
    path = tmp_path / "cam.yaml"
    path.write_text(FULL)
    config = load_config(path)
    assert config.camera_id == "cam-1" and config.premises_id == "p-1"
    assert config.source == str(tmp_path / "clips/kitchen.mp4")
    assert [z.name for z in config.zones] == ["prep-1", "stove-1"]
    assert config.zones[1].kind == "stove"
    assert config.stove is not None and config.stove.probe_threshold_c == 80
    assert config.thresholds.tamper_confirm_frames == 4
    assert config.thresholds.offline_minutes == 2.0
    assert config.work_clothes_colour == (255, 255, 255)
    assert config.observation_rules[0].zones == ("prep-1",)
    shanghai = ZoneInfo("Asia/Shanghai")
    hours = config.opening_hours
    assert hours.is_open(datetime(2026, 11, 25, 12, 0, tzinfo=shanghai))
    assert hours.is_open(datetime(2026, 11, 25, 0, 30, tzinfo=shanghai))  # past midnight
    assert not hours.is_open(datetime(2026, 11, 25, 3, 0, tzinfo=shanghai))
    assert not hours.is_open(datetime(2026, 11, 25, 15, 0, tzinfo=shanghai))
    # The registry stores the JSON form; it reads back to the same configuration.
    assert parse_config(config.to_json()) == config


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"camera_id": None}, "camera_id: missing"),
        ({"sample_fps": 0}, "sample_fps"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"opening_hours": ["10-14"]}, "opening_hours[0]"),
        ({"rules": ["tamper", "telepathy"]}, "rules[1]"),
        (
            {"zones": [{"name": "a", "kind": "stove", "polygon": [[0, 0], [2, 0], [1, 1]]}]},
            "zones[0].polygon[1]",
        ),
        (
            {"zones": [{"name": "a", "kind": "garden", "polygon": [[0, 0], [1, 0], [1, 1]]}]},
            "zones[0].kind",
        ),
        ({"stove": {"zone": "nowhere", "probe_device_id": "st-1"}}, "stove.zone"),
        ({"stove": {"zone": "stove-1"}}, "stove: give flame_region or probe_device_id"),
        ({"thresholds": {"tamper_confirm_frames": 0}}, "thresholds.tamper_confirm_frames"),
        ({"thresholds": {"offline_minuts": 3}}, "thresholds.offline_minuts: unknown key"),
        ({"colour": "#fff"}, "colour: unknown key"),
        ({"work_clothes_colour": "white"}, "work_clothes_colour"),
    ],
)
def test_errors_name_the_bad_key(change: dict[str, object], named: str) -> None:
    raw = yaml.safe_load(kitchen_yaml())
    for key, value in change.items():
        if value is None:
            raw.pop(key)
        else:
            raw[key] = value
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert named in caught.value.detail


def test_a_list_of_cameras_names_the_camera_at_fault(tmp_path: Path) -> None:
    path = tmp_path / "cams.yaml"
    path.write_text(
        "cameras:\n"
        "  - {camera_id: a, premises_id: p-1, source: rtsp://h/1}\n"
        "  - {camera_id: b, premises_id: p-1, sample_fps: fast}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_configs(path)
    assert "cameras[1].sample_fps" in caught.value.detail and str(path) in caught.value.detail
    path.write_text(
        "cameras:\n  - {camera_id: a, premises_id: p-1}\n  - {camera_id: b, premises_id: p-2}\n"
    )
    assert [c.camera_id for c in load_configs(path)] == ["a", "b"]
    path.write_text("camera_id: [unclosed\n")
    with pytest.raises(ConfigError, match="not YAML"):
        load_configs(path)


def test_24_00_closes_the_day() -> None:
    raw = yaml.safe_load(kitchen_yaml('opening_hours: ["00:00-24:00"]\n'))
    hours = parse_config(raw).opening_hours
    assert hours.is_open(datetime(2026, 11, 25, 23, 59, 59, tzinfo=ZoneInfo("UTC")))
    assert hours.is_open(datetime(2026, 11, 25, 0, 0, tzinfo=ZoneInfo("UTC")))
    raw["opening_hours"] = ["24:00-10:00"]
    with pytest.raises(ConfigError, match=r"opening_hours\[0\]"):
        parse_config(raw)


def test_an_observation_rule_may_place_boxes_by_their_foot_and_keep_its_own_gap() -> None:
    raw = yaml.safe_load(kitchen_yaml())
    raw["observation_rules"] = [
        {"type": "rat", "rule": "pest_seen", "class": 1, "zones": ["prep-1"], "anchor": "foot"},
        {"type": "no_mask", "class": 3, "max_gap_seconds": 3},
        {"type": "no_hat", "class": 3},
    ]
    config = parse_config(raw)
    foot, gap, plain = config.observation_rules
    assert (foot.anchor, foot.max_gap_seconds) == ("foot", None)
    assert (gap.anchor, gap.max_gap_seconds) == ("centre", 3.0)
    assert (plain.anchor, plain.max_gap_seconds) == ("centre", None)
    # At their defaults the keys stay out of the stored form, which reads back the same.
    stored = config.to_json()["observation_rules"]
    assert set(stored[2]) == {
        "type",
        "rule",
        "class",
        "min_confidence",
        "persist_seconds",
        "repeat_minutes",
        "zones",
    }
    assert stored[0]["anchor"] == "foot" and stored[1]["max_gap_seconds"] == 3.0
    assert parse_config(config.to_json()) == config


@pytest.mark.parametrize(
    ("bad", "named"),
    [
        ({"anchor": "head"}, "observation_rules[0].anchor: 'head' is not centre or foot"),
        ({"max_gap_seconds": -1}, "observation_rules[0].max_gap_seconds"),
        ({"max_gap_seconds": "soon"}, "observation_rules[0].max_gap_seconds"),
    ],
)
def test_a_bad_anchor_or_gap_is_named(bad: dict[str, object], named: str) -> None:
    raw = yaml.safe_load(kitchen_yaml())
    raw["observation_rules"] = [{"type": "rat", "class": 1, **bad}]
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    assert named in caught.value.detail
