"""Evidence snapshots: one JPEG per violation with every detected face blurred.

The face detector comes in through the ``Detector`` protocol (every box it
reports is blurred, whatever its type: ``face``, ``mask``, ``no_mask``...).
Blurring fails closed: without a working detector (CenterFace could not be
loaded, or none was given) no snapshot is made at all, and ``unavailable`` says
why, for the violation to carry into the log. Only the blurred JPEG leaves this
module; the frame it came from is never encoded as is.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from kitchen_vision.observations import Box, Detector, Frame, FrameContext
from kitchen_vision.rules import Evidence

log = logging.getLogger(__name__)

JPEG_QUALITY = 80
MARGIN = 0.25
"""Each face box grows by a quarter on every side before blurring (hair, ears, chin)."""
CLIP_TILE = (320, 180)
CLIP_MAX_FRAMES = 6


def load_face_detector(model_path: Path | None = None) -> Detector | None:
    """The face detector ``kitchen_vision.faces`` offers for observations (CenterFace,
    else, loudly, the Haar cascade), or None when that module cannot load any model."""
    try:
        faces = importlib.import_module("kitchen_vision.faces")
        detector = faces.FaceDetector(model_path) if model_path else faces.default_detector()
    except (ImportError, RuntimeError) as exc:
        log.error("no face detector: %s", exc)
        return None
    return detector if hasattr(detector, "observe") and hasattr(detector, "name") else None


def load_blurring_detector(model_path: Path | None = None) -> tuple[Detector | None, str | None]:
    """The detector that blurs evidence (CenterFace at its lower privacy threshold), or
    None and the reason there is none: then no evidence image may be kept."""
    try:
        faces = importlib.import_module("kitchen_vision.faces")
        detector, reason = faces.privacy_detector(model_path)
    except (ImportError, RuntimeError) as exc:
        return None, f"no face detector could be loaded: {exc}"
    if detector is None:
        log.error("evidence images will not be kept: %s", reason)
    return detector, reason


class EvidenceWithheld(RuntimeError):
    """No evidence image may be made: no face detector can blur it."""


def _grow(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    dx, dy = round(box.w * MARGIN), round(box.h * MARGIN)
    x0, y0 = max(0, box.x - dx), max(0, box.y - dy)
    x1, y1 = min(width, box.x + box.w + dx), min(height, box.y + box.h + dy)
    return x0, y0, x1, y1


def blur_boxes(frame: Frame, boxes: Sequence[Box]) -> Frame:
    """A copy with each box pixelated then smoothed: nothing of the face can be recovered."""
    out = frame.copy()
    height, width = frame.shape[:2]
    for box in boxes:
        x0, y0, x1, y1 = _grow(box, width, height)
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        region = out[y0:y1, x0:x1]
        tiny = cv2.resize(region, (6, 6), interpolation=cv2.INTER_AREA)
        coarse = cv2.resize(tiny, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        sigma = max(x1 - x0, y1 - y0) / 6
        out[y0:y1, x0:x1] = cv2.GaussianBlur(coarse, (0, 0), sigma)
    return out


class EvidenceMaker:
    def __init__(self, face_detector: Detector | None, *, unavailable: str | None = None) -> None:
        self.face_detector = face_detector
        self.unavailable = (
            None
            if face_detector is not None
            else (unavailable or "no face detector was available to blur it")
        )
        """Why no evidence image can be made (None: it can)."""

    def _blurred(self, frame: Frame, context: FrameContext) -> tuple[Frame, int]:
        if self.face_detector is None:
            raise EvidenceWithheld(f"evidence image withheld: {self.unavailable}")
        boxes = [o.box for o in self.face_detector.observe(frame, context) if o.box is not None]
        return blur_boxes(frame, boxes), len(boxes)

    def _metadata(self, faces: int) -> dict[str, Any]:
        assert self.face_detector is not None
        return {"face_detector": self.face_detector.name, "faces_blurred": faces}

    def snapshot(self, frame: Frame, context: FrameContext) -> Evidence:
        """The blurred snapshot; ``EvidenceWithheld`` when nothing can blur it."""
        blurred, faces = self._blurred(frame, context)
        return _encoded(blurred, self._metadata(faces))

    def clip(self, frames: Sequence[tuple[Frame, FrameContext]]) -> Evidence:
        """The event window as one contact sheet (up to 6 frames, evenly picked), blurred."""
        if not frames:
            raise ValueError("a clip needs at least one frame")
        step = max(1, math.ceil(len(frames) / CLIP_MAX_FRAMES))
        picked = list(frames)[::step][:CLIP_MAX_FRAMES]
        columns = min(3, len(picked))
        rows = math.ceil(len(picked) / columns)
        tw, th = CLIP_TILE
        sheet = np.zeros((rows * th, columns * tw, 3), dtype=np.uint8)
        faces = 0
        for i, (frame, context) in enumerate(picked):
            blurred, found = self._blurred(frame, context)
            faces += found
            r, c = divmod(i, columns)
            tile = cv2.resize(blurred, (tw, th), interpolation=cv2.INTER_AREA)
            cv2.putText(
                tile, f"#{context.frame}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 255, 255), 1
            )
            sheet[r * th : (r + 1) * th, c * tw : (c + 1) * tw] = tile
        metadata = self._metadata(faces)
        metadata["frames"] = [context.frame for _frame, context in picked]
        return _encoded(sheet, metadata)


def _encoded(image: Frame, metadata: dict[str, Any]) -> Evidence:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise RuntimeError("OpenCV could not encode the evidence JPEG")
    jpeg = data.tobytes()
    return Evidence(jpeg=jpeg, sha256=hashlib.sha256(jpeg).hexdigest(), metadata=metadata)
