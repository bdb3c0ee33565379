"""Motion per zone (MOG2): a small animal at night, a cook by day, each in its own zone."""

from __future__ import annotations

from datetime import UTC, datetime

import scenes
import yaml

from kitchen_vision.config import parse_config
from kitchen_vision.motion import MotionDetector
from kitchen_vision.observations import FrameContext, Observation

CONFIG = parse_config(yaml.safe_load(scenes.kitchen_yaml()))


def run(frames: list[scenes.Frame]) -> list[list[Observation]]:
    detector = MotionDetector(CONFIG.zones)
    now = datetime(2026, 11, 25, 2, tzinfo=UTC)
    return [
        detector.observe(f, FrameContext("cam-1", i, float(i), now)) for i, f in enumerate(frames)
    ]


def test_a_small_blob_at_night_is_motion_in_its_zone_only() -> None:
    base = scenes.night()
    still = [scenes.with_sensor_noise(base, 100 + i) for i in range(8)]
    prep = [
        scenes.blob(scenes.with_sensor_noise(base, 200 + i), 60 + 25 * i, 300) for i in range(6)
    ]
    stove = [
        scenes.blob(scenes.with_sensor_noise(base, 300 + i), 420 + 20 * i, 330) for i in range(4)
    ]
    results = run(still + prep + stove)
    assert all(found == [] for found in results[: len(still)])  # noise alone is no motion
    for found, i in zip(
        results[len(still) : len(still) + len(prep)], range(len(prep)), strict=True
    ):
        assert [(o.type, o.zone) for o in found] == [("motion", "prep-1")]
        box = found[0].box
        assert box is not None and abs(box.x + box.w / 2 - (60 + 25 * i)) < 20
    for found in results[len(still) + len(prep) + 1 :]:
        assert [(o.type, o.zone) for o in found] == [("motion", "stove-1")]


def test_a_cook_by_day_and_a_light_switch() -> None:
    frames = list(scenes.normal_day(8))
    results = run(frames)
    zones = {o.zone for found in results for o in found}
    assert zones == {"prep-1"}  # the cook walks along the prep counter (frames 4-6)
    assert all(found == [] for found in results[:4])
    # All lights off at once: one scene change, no motion anywhere, then quiet again.
    dark = [scenes.night(seed=i) for i in range(6)]
    results = run(frames[:4] + dark)
    assert [o.type for o in results[4]] == ["scene_change"]
    assert all(found == [] for found in results[5:])
