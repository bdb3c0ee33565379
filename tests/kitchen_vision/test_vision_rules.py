"""Rules over time, through the whole pipeline on drawn frames: a pest at night (and not
during opening hours), an unattended lit stove (probe or flame colour), tamper violations
with persistence and the repeat interval."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import scenes
import yaml

from kitchen_vision.config import CameraConfig, parse_config
from kitchen_vision.faces import privacy_detector
from kitchen_vision.observations import Frame
from kitchen_vision.pipeline import FrameResult, Pipeline
from kitchen_vision.rules import VisionViolation
from kitchen_vision.sources import SampledFrame

pytestmark = pytest.mark.clock_sensitive  # also run under the pinned clocks (make clocks)

SHANGHAI = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 11, 25, 2, 30, tzinfo=SHANGHAI)
NOON = datetime(2026, 11, 25, 12, 30, tzinfo=SHANGHAI)


def config(extra: str = "") -> CameraConfig:
    text = scenes.kitchen_yaml('opening_hours: ["10:00-14:00", "17:00-22:00"]\n' + extra)
    return parse_config(yaml.safe_load(text))


def run(
    cfg: CameraConfig, frames: list[Frame], start: datetime, probe: object = None, fps: float = 1
) -> list[FrameResult]:
    blurring, _ = privacy_detector()
    pipeline = Pipeline(cfg, face_detector=blurring, stove_probe=probe)  # type: ignore[arg-type]
    return [
        pipeline.process(SampledFrame(i, i / fps, f, start + timedelta(seconds=i / fps)))
        for i, f in enumerate(frames)
    ]


def violations(results: list[FrameResult]) -> list[VisionViolation]:
    return [v for r in results for v in r.violations]


def rat_clip() -> list[Frame]:
    base = scenes.night()
    still = [scenes.with_sensor_noise(base, 10 + i) for i in range(8)]
    moving = [
        scenes.blob(scenes.with_sensor_noise(base, 40 + i), 60 + 25 * i, 300) for i in range(8)
    ]
    return still + moving + still


def test_motion_at_night_is_a_suspected_pest_with_a_clip() -> None:
    results = run(config(), rat_clip(), NIGHT)
    found = violations(results)
    assert [(v.rule, v.alert_class, v.zone) for v in found] == [("pest_suspected", 1, "prep-1")]
    pest = found[0]
    # Motion began on frame 8; one second of persistence at 1 frame/s: raised on frame 9.
    assert pest.frame == 9 and pest.started_at == NIGHT + timedelta(seconds=8)
    assert pest.snapshot is not None and pest.clip is not None
    assert pest.snapshot.metadata["face_detector"] == "centerface"
    assert pest.clip.metadata["frames"] == [6, 7, 8, 9]  # two seconds before the start
    assert pest.clip.sha256 != pest.snapshot.sha256


def test_the_same_motion_during_opening_hours_is_no_violation() -> None:
    results = run(config(), rat_clip(), NOON)
    assert any(o.type == "motion" for r in results for o in r.observations)
    assert violations(results) == []


def test_pest_repeats_only_after_the_repeat_interval() -> None:
    clip = rat_clip()
    cfg = config("thresholds: {repeat_minutes: 0.2}\n")  # 12 s
    results = run(cfg, clip + clip[8:16] + clip[8:16], NIGHT)
    raised = [v.frame for v in violations(results)]
    # Motion on frames 8-15, 24-31 and 32-39 (continuing): each raise 12 s or more after
    # the one before, on the second frame of a new episode or as the episode goes on.
    assert raised == [9, 25, 37]
    longer = run(config(), clip + clip[8:16] + clip[8:16], NIGHT)  # 30 minutes by default
    assert [v.frame for v in violations(longer)] == [9]


class StoveProbeReadings:
    """Readings of a stove probe as the log would hand them back, for the pure rule test
    (the database-backed reader is tested in test_vision_ledger.py)."""

    def __init__(self, celsius: float, measured_at: datetime) -> None:
        self.reading = (measured_at, celsius)
        self.asked: list[str] = []

    def latest(self, device_id: str) -> tuple[datetime, float] | None:
        self.asked.append(device_id)
        return self.reading


def stove_frames(cook_leaves_at: int, count: int) -> list[Frame]:
    base = scenes.kitchen()
    frames = []
    for i in range(count):
        frame = base
        if i < cook_leaves_at:
            frame = scenes.person(base, 420 + (i * 37) % 120, 150)  # at the stove, moving
        frames.append(scenes.with_sensor_noise(frame, i))
    return frames


UNATTENDED = "stove: {zone: stove-1, probe_device_id: st-9, probe_threshold_c: 60, "
UNATTENDED += "unattended_minutes: 2}\nthresholds: {presence_seconds: 30}\n"


def test_a_hot_stove_with_nobody_at_it_is_an_unattended_flame() -> None:
    cfg = config(UNATTENDED)
    fps = 0.2  # a frame every 5 s
    probe = StoveProbeReadings(180.0, NOON)
    results = run(cfg, stove_frames(6, 60), NOON, probe, fps=fps)
    found = violations(results)
    assert probe.asked and set(probe.asked) == {"st-9"}
    assert [(v.rule, v.alert_class, v.zone) for v in found] == [("unattended_flame", 2, "stove-1")]
    flame = found[0]
    last_motion = max(
        r.wall_clock
        for r in results
        if any(o.zone == "stove-1" and o.type == "motion" for o in r.observations)
    )
    # Nobody since the last motion + 30 s of presence; raised 2 minutes after that.
    assert flame.started_at == last_motion + timedelta(seconds=30)
    assert flame.detected_at - flame.started_at >= timedelta(minutes=2)
    assert flame.detected_at - flame.started_at < timedelta(minutes=2, seconds=6)
    assert flame.measurements["stove_celsius"] == 180.0


def test_a_cold_or_stale_probe_or_a_cook_present_raises_nothing() -> None:
    cfg = config(UNATTENDED)
    cold = StoveProbeReadings(25.0, NOON)
    assert violations(run(cfg, stove_frames(6, 60), NOON, cold, fps=0.2)) == []
    stale = StoveProbeReadings(180.0, NOON - timedelta(hours=1))
    assert violations(run(cfg, stove_frames(6, 60), NOON, stale, fps=0.2)) == []
    hot = StoveProbeReadings(180.0, NOON)
    assert violations(run(cfg, stove_frames(60, 60), NOON, hot, fps=0.2)) == []


def test_the_flame_colour_in_the_flame_region_counts_as_lit() -> None:
    cfg = config(
        "stove: {zone: stove-1, flame_region: [[0.6, 0.5], [0.9, 0.5], [0.9, 0.9], [0.6, 0.9]], "
        "unattended_minutes: 1}\nthresholds: {presence_seconds: 10}\n"
    )
    lit = [scenes.with_sensor_noise(scenes.kitchen(lit=True), i) for i in range(40)]
    results = run(cfg, lit, NOON, fps=0.5)
    assert all(any(o.type == "flame" for o in r.observations) for r in results)
    found = violations(results)
    assert [v.rule for v in found] == ["unattended_flame"]
    cold = [scenes.with_sensor_noise(scenes.kitchen(), i) for i in range(40)]
    results = run(cfg, cold, NOON, fps=0.5)
    assert not any(o.type == "flame" for r in results for o in r.observations)
    assert violations(results) == []


def test_a_covered_camera_is_one_violation_until_the_repeat_interval() -> None:
    frames = list(scenes.normal_day(8)) + [scenes.covered_black(i) for i in range(20)]
    results = run(config(), frames, NOON)
    found = violations(results)
    assert [(v.rule, v.alert_class) for v in found] == [("camera_covered", 2)]
    assert found[0].frame == 10  # the third covered frame
    assert found[0].started_at == NOON + timedelta(seconds=8)
