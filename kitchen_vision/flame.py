"""Is the stove lit, from the picture: bright orange pixels in the configured flame region.

This is a colour test, not a flame detector: it tells a burning gas ring from a
cold black one under kitchen light, and nothing more. A stove probe, when the
premises has one, is the better source (``kitchen_vision.rules`` prefers it).
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.config import Point, Zone
from kitchen_vision.observations import Frame, FrameContext, Observation

# OpenCV hue runs 0-179: orange-yellow flames sit around 5-35.
LOWER = np.array([5, 120, 150], dtype=np.uint8)
UPPER = np.array([35, 255, 255], dtype=np.uint8)


class FlameRegionDetector:
    name = "flame_colour"

    def __init__(self, region: tuple[Point, ...], zone: str | None, min_fraction: float) -> None:
        self.region = Zone("flame", "stove", region)
        self.zone = zone
        self.min_fraction = min_fraction
        self._mask: npt.NDArray[np.uint8] | None = None
        self._bounds: tuple[int, int, int, int] = (0, 0, 0, 0)

    def _region(self, width: int, height: int) -> tuple[npt.NDArray[np.uint8], int]:
        if self._mask is None or self._mask.shape != (height, width):
            full = self.region.mask(width, height)
            x, y, w, h = cv2.boundingRect(full)
            self._bounds = (x, y, w, h)
            self._mask = full
        x, y, w, h = self._bounds
        crop = self._mask[y : y + h, x : x + w]
        return crop, max(int(np.count_nonzero(crop)), 1)

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        height, width = frame.shape[:2]
        mask, area = self._region(width, height)
        x, y, w, h = self._bounds
        hsv = cv2.cvtColor(frame[y : y + h, x : x + w], cv2.COLOR_BGR2HSV)
        flame = cv2.inRange(hsv, LOWER, UPPER)
        fraction = float(np.count_nonzero(cv2.bitwise_and(flame, mask))) / area
        if fraction < self.min_fraction:
            return []
        return [
            Observation(
                frame=context.frame,
                time=context.time,
                type="flame",
                confidence=min(1.0, fraction / (2 * self.min_fraction)),
                detector=self.name,
                zone=self.zone,
                detail={"flame_fraction": round(fraction, 4)},
            )
        ]
