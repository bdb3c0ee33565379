"""The tamper check on real footage (data/real, see data/SOURCES.md) with physically modelled
tampering (footage.py): the right kind, in time, at the slowest and fastest sampling rates;
nothing on people, traffic, the lights going off and on, steam or flicker.

The full table over 1, 2, 5, 10 and 30 fps is bench/vision_eval.py (BENCHMARKS.md)."""

from __future__ import annotations

from datetime import UTC, datetime

import footage
import pytest

from kitchen_vision.observations import FrameContext
from kitchen_vision.tamper import TamperDetector

NOW = datetime(2026, 11, 25, 10, tzinfo=UTC)
ONSET = 8.0


def alerts(clip: str, model: footage.Model, fps: float, seconds: float) -> list[tuple[float, str]]:
    detector = TamperDetector()
    found = []
    for k in range(int(seconds * fps)):
        t = k / fps
        frame = footage.sample(clip, model, t, ONSET, seed=k)
        found += [(t, o.type) for o in detector.observe(frame, FrameContext("c", k, t, NOW))]
    return found


@pytest.mark.parametrize("name", sorted(footage.TAMPERS))
@pytest.mark.parametrize("clip", ["street", "carphone"])
def test_each_tamper_is_found_in_kind_at_one_frame_per_second(clip: str, name: str) -> None:
    model, kind = footage.TAMPERS[name]
    found = alerts(clip, model, 1, 34 if name == "gradual_defocus" else 16)
    assert found, f"{name} on {clip}: no alert"
    first_t, first_kind = found[0]
    assert first_t >= ONSET and first_kind == kind, found[:3]
    # A tamper that is complete within a second (cap, wrap, hand, a sudden defocus) is
    # reported on the third sample that shows it: warm-up is long over at the onset.
    if name in ("cap", "defocus"):
        assert first_t == ONSET + 2
    if name in ("wrap", "hand"):
        assert first_t <= ONSET + 3


@pytest.mark.parametrize("name", ["cap", "wrap", "turn", "defocus"])
def test_the_same_tampers_at_thirty_frames_per_second(name: str) -> None:
    model, kind = footage.TAMPERS[name]
    found = alerts("street", model, 30, 13)
    assert found and found[0][0] >= ONSET and found[0][1] == kind, found[:3]
    # Confirmation is measured in seconds: no earlier at 30 fps than the two seconds it takes.
    assert found[0][0] >= ONSET + 2 - 1e-9


@pytest.mark.parametrize("name", sorted(footage.NORMALS))
@pytest.mark.parametrize("clip", footage.CLIPS)
def test_nothing_on_people_lights_steam_or_flicker(clip: str, name: str) -> None:
    assert alerts(clip, footage.NORMALS[name], 2, 20) == []


def test_a_gradual_defocus_is_not_absorbed_at_thirty_frames_per_second() -> None:
    # The reference is refreshed only from normal frames over ten minutes: a blur growing
    # over 20 s is still seen against the sharp scene (the 30 fps miss).
    model, kind = footage.TAMPERS["gradual_defocus"]
    found = alerts("street", model, 30, 34)
    assert found and found[0][0] >= ONSET and found[0][1] == kind, found[:3]
    assert found[0][0] <= ONSET + 20
