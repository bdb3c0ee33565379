"""Tampering: covered (black, hand), moved, defocused, each confirmed only after several
frames; nothing on a normal stretch with a cook passing and the lights flickering, or when
the lights go off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import pytest
import scenes

from kitchen_vision.observations import Frame, FrameContext, Observation
from kitchen_vision.tamper import COVERED, DEFOCUSED, MOVED, TamperDetector

CONFIRM = 3


def observe(frames: Iterable[Frame]) -> list[list[Observation]]:
    detector = TamperDetector(confirm_frames=CONFIRM, warmup_frames=5)
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    return [
        detector.observe(frame, FrameContext("cam-1", i, float(i), now))
        for i, frame in enumerate(frames)
    ]


def normal(count: int = 8) -> list[Frame]:
    return list(scenes.normal_day(count))


def test_a_normal_scene_raises_nothing() -> None:
    # Sensor noise, a ±6 % lighting flicker, a cook walking through on several frames.
    assert all(found == [] for found in observe(scenes.normal_day(40)))


def test_the_lights_going_off_is_not_a_covered_camera() -> None:
    frames = normal() + [scenes.night(seed=i) for i in range(8)]
    assert all(found == [] for found in observe(frames))


@pytest.mark.parametrize(
    ("tampered", "kind"),
    [
        (lambda i: scenes.covered_black(i), COVERED),
        (lambda i: scenes.covered_by_hand(i), COVERED),
        (lambda i: scenes.with_sensor_noise(scenes.shifted(scenes.kitchen()), i), MOVED),
        (lambda i: scenes.with_sensor_noise(scenes.shifted(scenes.kitchen(), 16, 6), i), MOVED),
        (lambda i: scenes.with_sensor_noise(scenes.defocused(scenes.kitchen()), i), DEFOCUSED),
        (lambda i: scenes.with_sensor_noise(scenes.defocused(scenes.kitchen(), 3), i), DEFOCUSED),
    ],
)
def test_each_kind_is_confirmed_after_several_frames(tampered: object, kind: str) -> None:
    assert callable(tampered)
    before = normal()
    results = observe(before + [tampered(i) for i in range(6)])
    after = results[len(before) :]
    # Nothing until the third tampered frame, then the kind on every frame.
    assert after[: CONFIRM - 1] == [[], []]
    for found in after[CONFIRM - 1 :]:
        assert [o.type for o in found] == [kind]
    first = after[CONFIRM - 1][0]
    assert first.detail["frames"] == CONFIRM and first.detector == "tamper"
    assert 0 < first.confidence <= 1


def test_a_brief_obstruction_is_not_confirmed() -> None:
    frames = normal() + [scenes.covered_black(1), scenes.covered_black(2)] + normal(6)
    assert all(found == [] for found in observe(frames))
