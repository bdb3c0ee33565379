"""可视, the kitchen the public can see: a snapshot every few minutes while it is open.

A camera whose configuration has ``snapshot: {every_minutes: N}`` publishes one picture
every N minutes of opening hours (never while closed; off by default). The picture is
published only with faces blurred by a working CenterFace detector: with no face
detector, or only its Haar fallback (which misses faces turned away), the snapshot is
*withheld* and the reason is logged instead (fail closed). The picture is scaled to at
most ``width`` pixels and compressed until it fits ``max_bytes`` (a lower JPEG quality,
then a smaller size); one that cannot fit is withheld too.

The ledger logs each snapshot's SHA-256 in a ``vision_observation`` event (observation
``kitchen_snapshot``) and keeps the bytes, served by that hash, for ``keep_hours``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import cv2

from kitchen_vision.config import CameraConfig, SnapshotConfig
from kitchen_vision.evidence import blur_boxes
from kitchen_vision.observations import Detector, Frame, FrameContext

CENTERFACE = "centerface"
QUALITIES = (80, 70, 60, 50, 40, 30)
MIN_WIDTH = 160


@dataclass(frozen=True)
class KitchenSnapshot:
    jpeg: bytes
    sha256: str
    taken_at: datetime
    face_detector: str
    faces_blurred: int
    width: int
    height: int
    quality: int


@dataclass(frozen=True)
class SnapshotWithheld:
    taken_at: datetime
    reason: str
    """Why, as a short code: ``no_face_detector``, ``fallback_face_detector``,
    ``face_detector_failed`` or ``over_budget``."""
    detector: str = "none"


def compressed(image: Frame, settings: SnapshotConfig) -> tuple[bytes, int, int, int] | None:
    """(JPEG, width, height, quality) of the largest and best picture within the budget."""
    h, w = image.shape[:2]
    width = min(w, settings.width)
    while width >= MIN_WIDTH:
        size = (width, max(1, round(h * width / w)))
        scaled = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if width != w else image
        for quality in QUALITIES:
            ok, data = cv2.imencode(".jpg", scaled, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and len(data) <= settings.max_bytes:
                return data.tobytes(), size[0], size[1], quality
        width = int(width * 0.75)
    return None


class SnapshotPublisher:
    """Decides when a camera's snapshot is due and makes it (or says why not)."""

    def __init__(self, config: CameraConfig, face_detector: Detector | None) -> None:
        if config.snapshot is None:
            raise ValueError(f"camera {config.camera_id}: no snapshot configuration")
        self.config = config
        self.settings = config.snapshot
        self.face_detector = face_detector
        self._last: datetime | None = None

    def due(self, wall_clock: datetime) -> bool:
        local = wall_clock.astimezone(self.config.zone_info)
        if not self.config.opening_hours.is_open(local):
            return False
        every = timedelta(minutes=self.settings.every_minutes)
        return self._last is None or wall_clock - self._last >= every

    def take(self, frame: Frame, context: FrameContext) -> KitchenSnapshot | SnapshotWithheld:
        at = context.wall_clock
        self._last = at
        detector = self.face_detector
        if detector is None:
            return SnapshotWithheld(at, "no_face_detector")
        if detector.name != CENTERFACE:
            return SnapshotWithheld(at, "fallback_face_detector", detector.name)
        try:
            boxes = [o.box for o in detector.observe(frame, context) if o.box is not None]
        except Exception:  # a detector that fails publishes nothing
            return SnapshotWithheld(at, "face_detector_failed", detector.name)
        found = compressed(blur_boxes(frame, boxes), self.settings)
        if found is None:
            return SnapshotWithheld(at, "over_budget", detector.name)
        jpeg, width, height, quality = found
        return KitchenSnapshot(
            jpeg=jpeg,
            sha256=hashlib.sha256(jpeg).hexdigest(),
            taken_at=at,
            face_detector=detector.name,
            faces_blurred=len(boxes),
            width=width,
            height=height,
            quality=quality,
        )
