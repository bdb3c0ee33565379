"""Evidence snapshots: faces blurred by CenterFace, the JPEG's SHA-256 as its name, and the
metadata saying which detector ran; without a detector no snapshot is made at all."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest
import scenes
from face_sample import require_sample

from kitchen_vision.evidence import EvidenceMaker, EvidenceWithheld, load_blurring_detector
from kitchen_vision.observations import Frame, FrameContext

CONTEXT = FrameContext("cam-1", 5, 5.0, datetime(2026, 11, 25, 12, tzinfo=UTC))
REGION = (slice(100, 240), slice(380, 520))  # where the face photo is pasted


def kitchen_with_a_face() -> Frame:
    photo = cv2.imread(str(require_sample() / "without_mask" / "0_0_anhu_0020.jpg"))
    assert photo is not None, "0_0_anhu_0020.jpg is missing from the shared face sample"
    scene = scenes.kitchen()
    scene[REGION] = cv2.resize(photo, (140, 140), interpolation=cv2.INTER_AREA)
    return scene


def decoded(jpeg: bytes) -> Frame:
    image = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return np.asarray(image, dtype=np.uint8)


def smooth_difference(a: Frame, b: Frame) -> float:
    """Mean difference once the noise texture JPEG drops is smoothed away on both sides."""
    return float(cv2.absdiff(cv2.GaussianBlur(a, (7, 7), 0), cv2.GaussianBlur(b, (7, 7), 0)).mean())


def sharpness(image: Frame) -> float:
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def test_the_face_in_a_snapshot_is_blurred_and_the_rest_kept() -> None:
    detector, reason = load_blurring_detector()
    assert detector is not None, reason
    frame = kitchen_with_a_face()
    evidence = EvidenceMaker(detector).snapshot(frame, CONTEXT)
    assert evidence.sha256 == hashlib.sha256(evidence.jpeg).hexdigest()
    assert evidence.metadata["face_detector"] == "centerface"
    assert evidence.metadata["face_detector"] == detector.name
    assert evidence.metadata["faces_blurred"] == 1
    image = decoded(evidence.jpeg)
    # The face region lost its detail; the stove and the shelves did not.
    assert sharpness(image[REGION]) < 0.1 * sharpness(frame[REGION])
    assert smooth_difference(image[300:350, 20:300], frame[300:350, 20:300]) < 2.5
    assert smooth_difference(image[REGION], frame[REGION]) > 10
    # The input frame itself is untouched (the unblurred picture is never encoded).
    assert sharpness(frame[REGION]) == sharpness(kitchen_with_a_face()[REGION])


def test_without_a_face_detector_no_snapshot_is_made() -> None:
    frame = kitchen_with_a_face()
    maker = EvidenceMaker(None, unavailable="model file /x.onnx does not exist")
    assert maker.unavailable == "model file /x.onnx does not exist"
    with pytest.raises(EvidenceWithheld, match="withheld: model file /x.onnx does not exist"):
        maker.snapshot(frame, CONTEXT)
    with pytest.raises(EvidenceWithheld):
        maker.clip([(frame, CONTEXT)])


def test_a_missing_model_file_gives_no_blurring_detector_and_says_why(tmp_path: Path) -> None:
    detector, reason = load_blurring_detector(tmp_path / "centerface.onnx")
    assert detector is None
    assert reason == (
        "the CenterFace face detector is unavailable: "
        f"model file {tmp_path / 'centerface.onnx'} does not exist"
    )


def test_a_clip_is_a_contact_sheet_of_at_most_six_frames() -> None:
    frames = [
        (scenes.night(seed=i), FrameContext("cam-1", i, float(i), CONTEXT.wall_clock))
        for i in range(10)
    ]
    clip = EvidenceMaker(load_blurring_detector()[0]).clip(frames)
    assert clip.metadata["frames"] == [0, 2, 4, 6, 8]
    assert decoded(clip.jpeg).shape == (360, 960, 3)
