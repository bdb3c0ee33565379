"""Work clothes: drawn figures (a real face photo on a drawn body) against the premises' colour."""

from __future__ import annotations

from datetime import UTC, datetime

import cv2
import numpy as np
import pytest
from test_faces import drawn_scene, photos, read

from kitchen_vision.clothes import (
    NAMED_COLOURS_BGR,
    WorkClothesCheck,
    colour_bgr,
    delta_e,
    dominant_colour,
    lab_of,
    load_clothes_detector,
)
from kitchen_vision.config import CameraConfig, Zone
from kitchen_vision.faces import FaceDetector
from kitchen_vision.observations import FrameContext

LEFT_PREP = {"prep": [(0, 0), (320, 0), (320, 359), (0, 359)]}


def context() -> FrameContext:
    return FrameContext("cam-1", 3, 1.5, datetime(2026, 11, 25, 10, tzinfo=UTC))


def figure(shirt_bgr: tuple[int, int, int], x: int = 100, *, with_face: bool = True) -> np.ndarray:
    """A person at the counter: a real face photo (65 px high) above a drawn shirt."""
    scene = drawn_scene()
    face_h = 65
    shirt_top = 20 + int(1.05 * face_h)
    cv2.rectangle(scene, (x - 40, shirt_top), (x + 100, 359), shirt_bgr, -1)
    cv2.rectangle(scene, (x + 5, shirt_top), (x + 55, shirt_top + 25), (140, 170, 200), -1)  # neck
    if with_face:
        face = read(photos("without_mask")[40])
        width = round(face.shape[1] * face_h / face.shape[0])
        scene[20 : 20 + face_h, x : x + width] = cv2.resize(face, (width, face_h))
    noise = np.random.default_rng(1).normal(0, 4, scene.shape)
    return np.clip(scene + noise, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def faces() -> FaceDetector:
    return FaceDetector()


def test_a_red_shirt_is_not_white_work_clothes(faces: FaceDetector) -> None:
    check = WorkClothesCheck("white", LEFT_PREP, faces=faces)
    observations = check.observe(figure((40, 40, 200)), context())
    assert len(observations) == 1
    obs = observations[0]
    assert obs.type == "work_clothes_mismatch" and obs.zone == "prep"
    assert obs.detail["region"] == "below_face"
    b, g, r = obs.detail["dominant_bgr"]
    assert r > 150 and g < 90 and b < 90
    assert obs.detail["delta_e"] > 25
    assert 0.5 < obs.confidence <= 1.0


def test_white_work_clothes_pass(faces: FaceDetector) -> None:
    check = WorkClothesCheck("white", LEFT_PREP, faces=faces)
    assert check.observe(figure((235, 238, 240)), context()) == []
    # The same scene with a premises colour of navy is a mismatch.
    navy = WorkClothesCheck("navy", LEFT_PREP, faces=faces)
    assert [o.type for o in navy.observe(figure((235, 238, 240)), context())] == [
        "work_clothes_mismatch"
    ]


def test_a_person_outside_the_prep_zone_is_not_checked(faces: FaceDetector) -> None:
    check = WorkClothesCheck("white", LEFT_PREP, faces=faces)
    assert check.observe(figure((40, 40, 200), x=450), context()) == []


def test_configured_region_when_no_face_is_found(faces: FaceDetector) -> None:
    torso = {"cook-spot": [(60, 120), (240, 120), (240, 340), (60, 340)]}
    check = WorkClothesCheck("white", LEFT_PREP, torso_regions=torso, faces=faces)
    observations = check.observe(figure((200, 90, 30), with_face=False), context())
    assert len(observations) == 1
    assert observations[0].detail["region"] == "region:cook-spot"
    b, g, r = observations[0].detail["dominant_bgr"]
    assert b > 150 and r < 80
    blue = WorkClothesCheck((200, 90, 30), LEFT_PREP, torso_regions=torso, faces=faces)
    assert blue.observe(figure((200, 90, 30), with_face=False), context()) == []


def test_camera_config_adapter_uses_prep_zones_in_fractions(faces: FaceDetector) -> None:
    config = CameraConfig(
        camera_id="cam-1",
        premises_id="p-1",
        zones=(
            Zone("counter", "prep", ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))),
            Zone("stove", "stove", ((0.55, 0.45), (0.95, 0.45), (0.95, 0.95), (0.55, 0.95))),
        ),
        work_clothes_colour=(255, 255, 255),
    )
    check = load_clothes_detector(config, faces)
    assert check.faces is faces
    observations = check.observe(figure((40, 40, 200)), context())
    assert [o.zone for o in observations] == ["counter"]
    assert check.observe(figure((40, 40, 200), x=450), context()) == []


def test_dominant_colour_is_the_largest_cluster() -> None:
    region = np.zeros((40, 40, 3), np.uint8)
    region[:] = (30, 160, 60)
    region[:10] = (250, 250, 250)
    colour = dominant_colour(region)
    assert delta_e(np.asarray(colour.lab), lab_of((30, 160, 60))) < 2
    assert colour.share == pytest.approx(0.75, abs=0.01)


def test_colour_names_and_errors() -> None:
    assert colour_bgr("White") == NAMED_COLOURS_BGR["white"]
    assert colour_bgr("#ff0000") == (0, 0, 255)
    assert colour_bgr([1, 2, 3]) == (1, 2, 3)
    with pytest.raises(ValueError, match="unknown work-clothes colour 'mauve'"):
        colour_bgr("mauve")
    with pytest.raises(ValueError, match="not a BGR triple"):
        colour_bgr([1, 2, 300])
    assert delta_e(lab_of((255, 255, 255)), lab_of((0, 0, 0))) == pytest.approx(100, abs=0.5)
