"""Motion per zone with a MOG2 background model.

Frames are reduced to 320 px wide; the foreground mask is cleaned with a small
opening; every blob of at least ``min_blob_px`` pixels (at that size) inside a
zone gives one ``motion`` observation for the zone (the largest blob's box, in
pixels of the analysed frame). When most of the picture changes at once (the
lights going on or off, a camera knocked) that is not motion of anything: a
single ``scene_change`` observation is reported instead and the background is
relearnt.

Presence is motion seen recently: ``kitchen_vision.rules`` counts someone as
present in a zone while motion was seen there within ``presence_seconds``.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.config import Zone
from kitchen_vision.observations import Box, Frame, FrameContext, Observation

WORK_WIDTH = 320
SCENE_CHANGE_FRACTION = 0.5


class MotionDetector:
    name = "mog2"

    def __init__(
        self,
        zones: Sequence[Zone],
        *,
        min_blob_px: int = 12,
        warmup_frames: int = 3,
        history: int = 200,
        var_threshold: float = 25.0,
    ) -> None:
        self.zones = tuple(zones)
        self.min_blob_px = min_blob_px
        self.warmup_frames = warmup_frames
        self.history = history
        self.var_threshold = var_threshold
        self._model = self._new_model()
        self._masks: list[npt.NDArray[np.uint8]] | None = None
        self._shape: tuple[int, int] | None = None
        self._seen = 0
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))

    def _new_model(self) -> cv2.BackgroundSubtractorMOG2:
        return cv2.createBackgroundSubtractorMOG2(
            history=self.history, varThreshold=self.var_threshold, detectShadows=False
        )

    def foreground(self, frame: Frame) -> tuple[npt.NDArray[np.uint8], float]:
        """The cleaned foreground mask at working size, and the analysed frame's scale."""
        height, width = frame.shape[:2]
        scale = WORK_WIDTH / width
        small = cv2.resize(
            frame, (WORK_WIDTH, max(1, round(height * scale))), interpolation=cv2.INTER_AREA
        )
        raw = self._model.apply(small)
        mask = np.asarray(cv2.morphologyEx(raw, cv2.MORPH_OPEN, self._kernel), dtype=np.uint8)
        if self._shape != mask.shape:
            self._shape = (mask.shape[0], mask.shape[1])
            self._masks = [z.mask(mask.shape[1], mask.shape[0]) for z in self.zones]
        return mask, scale

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        mask, scale = self.foreground(frame)
        self._seen += 1
        if self._seen <= self.warmup_frames:
            return []
        changed = float(np.count_nonzero(mask)) / mask.size
        if changed > SCENE_CHANGE_FRACTION:
            self._model = self._new_model()
            self._seen = 0
            return [
                Observation(
                    frame=context.frame,
                    time=context.time,
                    type="scene_change",
                    confidence=min(1.0, changed),
                    detector=self.name,
                    detail={"changed_fraction": round(changed, 4)},
                )
            ]
        if changed == 0.0:
            return []
        count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
        blobs = [
            stats[i] for i in range(1, count) if stats[i][cv2.CC_STAT_AREA] >= self.min_blob_px
        ]
        if not blobs:
            return []
        assert self._masks is not None
        found: list[Observation] = []
        for zone, zone_mask in zip(self.zones, self._masks, strict=True):
            inside = []
            for x, y, w, h, area in blobs:
                cx, cy = x + w // 2, y + h // 2
                if zone_mask[cy, cx]:
                    inside.append((int(area), int(x), int(y), int(w), int(h)))
            if not inside:
                continue
            area, x, y, w, h = max(inside)
            total = sum(b[0] for b in inside)
            zone_area = max(int(np.count_nonzero(zone_mask)), 1)
            found.append(
                Observation(
                    frame=context.frame,
                    time=context.time,
                    type="motion",
                    confidence=float(min(1.0, 0.5 + 0.5 * area / (4 * self.min_blob_px))),
                    detector=self.name,
                    zone=zone.name,
                    box=Box(round(x / scale), round(y / scale), round(w / scale), round(h / scale)),
                    detail={
                        "blobs": len(inside),
                        "moving_fraction": round(total / zone_area, 5),
                    },
                )
            )
        return found
