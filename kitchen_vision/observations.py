"""What a detector reports about one frame, and the interface every detector follows.

An ``Observation`` is one thing seen in one frame (a face, a covered lens,
motion in a zone, a YOLO class). Rules over time (persistence, opening hours,
repeat intervals) turn observations into violations; see ``kitchen_vision.rules``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
"""A BGR image as OpenCV hands it over (height × width × 3)."""


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels of the analysed frame."""

    x: int
    y: int
    w: int
    h: int

    def to_json(self) -> dict[str, int]:
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


@dataclass(frozen=True)
class Observation:
    frame: int
    """Index of the frame in its source (0-based, counting every decoded frame)."""
    time: float
    """Seconds from the start of the source (video position), or since the stream opened."""
    type: str
    """What was seen, e.g. ``camera_covered``, ``motion``, ``face``, ``no_mask``."""
    confidence: float
    detector: str
    """Which detector produced it, e.g. ``centerface``, ``haar_frontalface``, ``mog2``."""
    zone: str | None = None
    box: Box | None = None
    experimental: bool = False
    """Set for checks we publish no accuracy claim for beyond BENCHMARKS.md (the mask check)."""
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "frame": self.frame,
            "time": round(self.time, 3),
            "type": self.type,
            "confidence": round(self.confidence, 4),
            "detector": self.detector,
            "zone": self.zone,
        }
        if self.box is not None:
            out["box"] = self.box.to_json()
        if self.experimental:
            out["experimental"] = True
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass(frozen=True)
class FrameContext:
    """Where and when a frame was taken, for detectors that care (zones, opening hours)."""

    camera_id: str
    frame: int
    time: float
    wall_clock: datetime
    """The frame's time of day at the premises (aware), for opening-hours rules."""
    frame_size: tuple[int, int] | None = None
    """(width, height) of the analysed frame, to place boxes in zones given as fractions."""


class Detector(Protocol):
    """Every detector: a name that ends up in the log, and one call per analysed frame."""

    name: str

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]: ...
