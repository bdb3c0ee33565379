"""Tampering: covered (black, hand), moved, defocused, each confirmed only after several
frames; nothing on a normal stretch with a cook passing and the lights flickering, or when
the lights go off."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
import scenes

from kitchen_vision.observations import Frame, FrameContext, Observation
from kitchen_vision.tamper import COVERED, DEFOCUSED, MOVED, TamperDetector, features

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
        (lambda i: scenes.with_sensor_noise(scenes.shifted(scenes.kitchen(), 28, 8), i), MOVED),
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


def test_phase_correlate_with_a_window_overwrites_its_inputs_on_this_opencv() -> None:
    # The behaviour the tamper check guards against: at a DFT-optimal size (160x90) and with a
    # window, cv2.phaseCorrelate multiplies its inputs by the window in place. If a future
    # OpenCV stops doing so this test says so, and the copies in tamper.py become harmless.
    rng = np.random.default_rng(0)
    a = (rng.random((90, 160)) * 255).astype(np.float32)
    before = a.copy()
    window = cv2.createHanningWindow((160, 90), cv2.CV_32F)
    cv2.phaseCorrelate(a, a.copy(), window)
    assert not np.array_equal(a, before), f"OpenCV {cv2.__version__} no longer does this"


def test_a_check_leaves_the_reference_unchanged() -> None:
    detector = TamperDetector(confirm_frames=CONFIRM, warmup_frames=5)
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    frames = normal(7)
    for i, frame in enumerate(frames[:6]):
        detector.observe(frame, FrameContext("cam-1", i, float(i), now))
    reference = detector.reference
    assert reference is not None
    grey = reference.grey.copy()
    current = features(frames[6])
    current_grey = current.grey.copy()
    detector.compare(current)
    assert np.array_equal(reference.grey, grey)
    assert np.array_equal(current.grey, current_grey)


def crowd(count: int, seed: int = 11) -> list[Frame]:
    """A crowd seen from above: 140-170 people in coats of every colour walking over the whole
    kitchen, in different places every frame. Most of the picture changes locally (the
    gradients correlate at about 0.2 with the empty kitchen's, as in the issue's real crowd);
    the kitchen between them stays. The check before issue 20 raised ``camera_moved`` 25
    times on this at 2 and at 5 frames per second."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        frame = scenes.kitchen()
        for _ in range(int(rng.integers(140, 170))):
            x, y = int(rng.integers(0, 640)), int(rng.integers(0, 360))
            coat = tuple(int(c) for c in rng.integers(20, 240, 3))
            cv2.ellipse(frame, (x, y), (28, 17), float(rng.integers(0, 180)), 0, 360, coat, -1)
            cv2.circle(frame, (x, y), 9, (40, 60, 90), -1)  # a head from above
        frames.append(scenes.with_sensor_noise(frame, seed + i))
    return frames


@pytest.mark.parametrize("fps", [2.0, 5.0])
def test_a_crowd_is_not_a_moved_camera(fps: float) -> None:
    detector = TamperDetector()
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    frames = normal(10) + crowd(30)
    found = [
        detector.observe(frame, FrameContext("cam-1", i, i / fps, now))
        for i, frame in enumerate(frames)
    ]
    assert all(f == [] for f in found), [o.type for f in found for o in f][:3]
