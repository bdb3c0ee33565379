"""Camera tampering against a rolling reference, confirmed over several frames.

Each sampled frame is reduced to a 160×90 grey image and compared with a
reference learnt from the first frames and then updated slowly while nothing
is wrong (so daylight drifting through the day does not look like tampering):

- **covered**: sharpness (variance of the Laplacian) and edge energy (mean
  Sobel magnitude) both collapse: a lens cap, a hand, a cloth, a black frame.
- **moved**: the view shifted (phase correlation finds a translation of more
  than a few per cent of the frame with a clear peak), or the picture's
  structure no longer matches (low correlation of gradient images, which is
  blind to lighting).
- **defocused**: sharpness drops while the histogram stays (earth mover's
  distance under 20 grey levels) and the view has not moved: the same scene,
  blurred (focus ring turned, lens smeared).

A kind is reported only after ``confirm_frames`` consecutive frames agree, so a
person walking past the lens or a flicker of the lights does not raise anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.observations import Frame, FrameContext, Observation

SIZE = (160, 90)
COVERED = "camera_covered"
MOVED = "camera_moved"
DEFOCUSED = "camera_defocused"
KINDS = (COVERED, MOVED, DEFOCUSED)
Grey = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FrameFeatures:
    grey: Grey
    sharpness: float
    edges: float
    gradient: Grey
    histogram: npt.NDArray[np.float32]


def features(frame: Frame) -> FrameFeatures:
    small = cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    lap = cv2.Laplacian(grey, cv2.CV_32F)
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1)
    gradient = np.asarray(cv2.magnitude(gx, gy), dtype=np.float32)
    counts = np.asarray(cv2.calcHist([grey], [0], None, [32], [0, 256]), dtype=np.float32)
    hist = counts.ravel() / max(float(counts.sum()), 1.0)
    return FrameFeatures(
        grey=grey,
        sharpness=float(lap.var()),
        edges=float(gradient.mean()),
        gradient=gradient,
        histogram=hist.astype(np.float32),
    )


def _ncc(a: Grey, b: Grey) -> float:
    a0 = a - a.mean()
    b0 = b - b.mean()
    denom = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    return float((a0 * b0).sum()) / denom if denom > 1e-6 else 0.0


@dataclass
class Comparison:
    sharpness_ratio: float
    edge_ratio: float
    histogram_shift: float
    """Earth mover's distance between the grey histograms, in grey levels (0-255)."""
    shift_px: float
    shift_response: float
    structure: float
    """Correlation of gradient images: 1 for the same view, near 0 for another one."""

    def as_detail(self) -> dict[str, float]:
        return {k: round(float(v), 4) for k, v in vars(self).items()}


class TamperDetector:
    """``observe`` returns one observation per frame while a tamper kind is confirmed."""

    name = "tamper"

    def __init__(
        self,
        *,
        confirm_frames: int = 3,
        warmup_frames: int = 5,
        learning_rate: float = 0.05,
        covered_ratio: float = 0.15,
        defocus_ratio: float = 0.4,
        shift_fraction: float = 0.02,
        stable_histogram: float = 20.0,
    ) -> None:
        self.confirm_frames = confirm_frames
        self.warmup_frames = warmup_frames
        self.learning_rate = learning_rate
        self.covered_ratio = covered_ratio
        self.defocus_ratio = defocus_ratio
        self.shift_fraction = shift_fraction
        self.stable_histogram = stable_histogram
        self._reference: FrameFeatures | None = None
        self._seen = 0
        self._candidate: str | None = None
        self._streak = 0
        self._window = cv2.createHanningWindow(SIZE, cv2.CV_32F)

    @property
    def reference(self) -> FrameFeatures | None:
        return self._reference

    def compare(self, current: FrameFeatures) -> Comparison:
        ref = self._reference
        assert ref is not None
        # Copies: with a window, phaseCorrelate multiplies its inputs in place when the size
        # is DFT-optimal (160x90 is), which would corrupt the reference (OpenCV 4.x).
        (dx, dy), response = cv2.phaseCorrelate(ref.grey.copy(), current.grey.copy(), self._window)
        return Comparison(
            sharpness_ratio=current.sharpness / max(ref.sharpness, 1e-3),
            edge_ratio=current.edges / max(ref.edges, 1e-3),
            histogram_shift=float(
                np.abs(np.cumsum(ref.histogram) - np.cumsum(current.histogram)).sum() * 8
            ),
            shift_px=float(np.hypot(dx, dy)) * (640 / SIZE[0]),
            shift_response=float(response),
            structure=_ncc(ref.gradient, current.gradient),
        )

    def classify(self, c: Comparison) -> str | None:
        # The lights going off also collapses sharpness and edges, but the gradients that
        # remain still line up with the reference's (``structure`` ignores their scale).
        if c.sharpness_ratio < self.covered_ratio and c.edge_ratio < 0.35 and c.structure < 0.3:
            return COVERED
        shifted = c.shift_px >= self.shift_fraction * 640 and c.shift_response > 0.1
        if shifted or c.structure < 0.3:
            return MOVED
        if (
            c.sharpness_ratio < self.defocus_ratio
            and c.histogram_shift < self.stable_histogram
            and c.structure > 0.5
        ):
            return DEFOCUSED
        return None

    def _learn(self, current: FrameFeatures) -> None:
        ref = self._reference
        if ref is None:
            self._reference = current
            return
        a = self.learning_rate
        self._reference = FrameFeatures(
            grey=np.asarray(cv2.addWeighted(ref.grey, 1 - a, current.grey, a, 0), np.float32),
            sharpness=(1 - a) * ref.sharpness + a * current.sharpness,
            edges=(1 - a) * ref.edges + a * current.edges,
            gradient=np.asarray(
                cv2.addWeighted(ref.gradient, 1 - a, current.gradient, a, 0), np.float32
            ),
            histogram=((1 - a) * ref.histogram + a * current.histogram).astype(np.float32),
        )

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        current = features(frame)
        self._seen += 1
        if self._seen <= self.warmup_frames or self._reference is None:
            # Learn quickly at first: the reference is the mean of the first frames.
            if self._reference is None:
                self._reference = current
            else:
                rate, self.learning_rate = self.learning_rate, 1 / self._seen
                self._learn(current)
                self.learning_rate = rate
            return []
        comparison = self.compare(current)
        kind = self.classify(comparison)
        if kind is None:
            self._candidate, self._streak = None, 0
            self._learn(current)
            return []
        if kind == self._candidate:
            self._streak += 1
        else:
            self._candidate, self._streak = kind, 1
        if self._streak < self.confirm_frames:
            return []
        return [
            Observation(
                frame=context.frame,
                time=context.time,
                type=kind,
                confidence=_confidence(kind, comparison),
                detector=self.name,
                detail={"frames": self._streak, **comparison.as_detail()},
            )
        ]


def _confidence(kind: str, c: Comparison) -> float:
    if kind == COVERED:
        value = 1 - c.sharpness_ratio
    elif kind == DEFOCUSED:
        value = 1 - c.sharpness_ratio
    else:
        value = max(1 - c.structure, min(1.0, c.shift_px / 64))
    return float(min(1.0, max(0.0, value)))
