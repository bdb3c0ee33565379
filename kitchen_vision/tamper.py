"""Camera tampering against a slowly learnt reference, confirmed over seconds.

Each sampled frame is reduced to a 160×90 image and compared with a reference
learnt over the first seconds and then refreshed, only from frames judged
normal, with a long time constant (``horizon_s``, ten minutes by default): the
daylight drifting through the day is followed, a lens slowly smeared or turned
out of focus is not. Everything is measured in seconds of video time, not in
samples, so a check behaves the same at 1 and at 30 frames per second.

- **covered**: an opaque cover (lens cap, hand, cloth) collapses sharpness and
  edges and leaves no structure of the scene; a *translucent* one (cling film, a
  bag) loses the edges relative to the contrast that remains *and* most of
  the contrast or colour, and the picture no longer looks like the scene (low
  structural similarity). The lights going off loses contrast too, but the fine
  detail relative to the contrast stays and the gradients still line up.
- **moved**: the view shifted (phase correlation finds a global translation of
  more than 4 % of the width, and undoing it lines the gradients up again), or the
  static structure is gone everywhere: the gradients no longer line up in 80 % of
  the textured cells of a 6×4 grid and the coarse picture no longer correlates.
  People and crowds change some cells; the background between them persists in
  the others.
- **defocused**: sharpness drops relative to the contrast, while the contrast, the
  histogram and the coarse picture stay: the same scene, blurred, whether
  suddenly or over minutes (the reference does not follow).

A kind is reported once the frames have been tampered for ``confirm_s`` seconds
and at least ``confirm_frames`` samples, so a person walking past the lens, a
cloud of steam or the lights flickering raises nothing; the kind reported is the
most frequent among the last ``confirm_frames`` samples.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.observations import Frame, FrameContext, Observation

SIZE = (160, 90)
COARSE = (40, 22)
GRID = (6, 4)
COVERED = "camera_covered"
MOVED = "camera_moved"
DEFOCUSED = "camera_defocused"
KINDS = (COVERED, MOVED, DEFOCUSED)
Grey = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FrameFeatures:
    grey: Grey
    sharpness: float
    """Variance of the Laplacian: the fine detail."""
    edges: float
    """Mean Sobel magnitude."""
    contrast: float
    """Standard deviation of the grey levels."""
    colour: float
    """Standard deviation of the chroma (YCrCb Cr and Cb together)."""
    gradient: Grey
    histogram: npt.NDArray[np.float32]
    coarse: Grey

    @property
    def detail(self) -> float:
        """Fine detail relative to the contrast: unchanged by the gain or the lights."""
        return self.sharpness / max(self.contrast, 2.0) ** 2


def features(frame: Frame) -> FrameFeatures:
    small = cv2.resize(frame, SIZE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    chroma = cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb)[:, :, 1:].astype(np.float32)
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
        contrast=float(grey.std()),
        colour=float(np.sqrt(chroma[:, :, 0].var() + chroma[:, :, 1].var())),
        gradient=gradient,
        histogram=hist.astype(np.float32),
        coarse=np.asarray(cv2.resize(grey, COARSE, interpolation=cv2.INTER_AREA), np.float32),
    )


def _ncc(a: Grey, b: Grey) -> float:
    a0 = a - a.mean()
    b0 = b - b.mean()
    denom = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    return float((a0 * b0).sum()) / denom if denom > 1e-6 else 0.0


def _ssim(a: Grey, b: Grey) -> float:
    """Mean structural similarity (Gaussian window, sigma 1.5) of two grey images."""
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: Grey) -> Grey:
        return np.asarray(cv2.GaussianBlur(x, (11, 11), 1.5), np.float32)

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a * mu_a
    var_b = blur(b * b) - mu_b * mu_b
    cov = blur(a * b) - mu_a * mu_b
    num = (2 * mu_a * mu_b + c1) * (2 * cov + c2)
    den = (mu_a * mu_a + mu_b * mu_b + c1) * (var_a + var_b + c2)
    return float((num / den).mean())


def _changed_cells(ref: Grey, current: Grey) -> float:
    """Share of the grid's textured cells whose gradients no longer line up with the
    reference's. A person or a crowd changes some cells; the view moving changes them all."""
    h, w = ref.shape
    cols, rows = GRID
    floor = 0.25 * float(ref.mean())
    changed = total = 0
    for r in range(rows):
        for c in range(cols):
            ys = slice(r * h // rows, (r + 1) * h // rows)
            xs = slice(c * w // cols, (c + 1) * w // cols)
            if float(ref[ys, xs].mean()) < floor:
                continue  # a flat cell (sky, wall) says nothing about the view
            total += 1
            changed += _ncc(ref[ys, xs], current[ys, xs]) < 0.25
    return changed / total if total else 0.0


def _aligned_structure(ref: Grey, current: Grey, dx: float, dy: float) -> float:
    """Correlation of the gradients once ``current`` is moved back by (dx, dy): high when
    the shift phase correlation found is real, no better than before when it is not."""
    h, w = ref.shape
    matrix = np.array([[1, 0, -dx], [0, 1, -dy]], np.float32)
    back = np.asarray(cv2.warpAffine(current, matrix, (w, h)), np.float32)
    x0, x1 = int(max(0, np.ceil(-dx))) + 2, int(min(w, w - np.ceil(dx))) - 2
    y0, y1 = int(max(0, np.ceil(-dy))) + 2, int(min(h, h - np.ceil(dy))) - 2
    if x1 - x0 < w // 4 or y1 - y0 < h // 4:
        return 0.0
    return _ncc(ref[y0:y1, x0:x1], back[y0:y1, x0:x1])


@dataclass
class Comparison:
    sharpness_ratio: float
    detail_ratio: float
    """Fine detail relative to contrast, now over the reference's."""
    edge_detail_ratio: float
    """Mean gradient relative to contrast, now over the reference's (less noise-prone)."""
    contrast_ratio: float
    colour_ratio: float
    edge_ratio: float
    histogram_shift: float
    """Earth mover's distance between the grey histograms, in grey levels (0-255)."""
    shift_px: float
    """Global translation found by phase correlation, in pixels of a 640-wide frame."""
    shift_response: float
    aligned_structure: float
    """Correlation of the gradients with that shift undone."""
    structure: float
    """Correlation of gradient images: 1 for the same view, near 0 for another one."""
    coarse_structure: float
    """Correlation of the 40×22 pictures: kept by a blur, lost when the view changes."""
    similarity: float
    """Structural similarity (SSIM) of the 160×90 pictures."""
    changed_cells: float
    """Share of grid cells whose reference edges are gone."""

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
        confirm_s: float = 2.0,
        warmup_s: float = 2.0,
        horizon_s: float = 600.0,
        covered_ratio: float = 0.15,
        defocus_ratio: float = 0.4,
        shift_fraction: float = 0.04,
        stable_histogram: float = 20.0,
        moved_cells: float = 0.8,
    ) -> None:
        self.confirm_frames = confirm_frames
        self.warmup_frames = warmup_frames
        self.confirm_s = confirm_s
        self.warmup_s = warmup_s
        self.horizon_s = horizon_s
        self.covered_ratio = covered_ratio
        self.defocus_ratio = defocus_ratio
        self.shift_fraction = shift_fraction
        self.stable_histogram = stable_histogram
        self.moved_cells = moved_cells
        self._reference: FrameFeatures | None = None
        self._seen = 0
        self._started: float | None = None
        self._last_learnt: float | None = None
        self._since: float | None = None
        """Video time of the first sample of the current tampered stretch."""
        self._streak = 0
        self._kinds: deque[str] = deque(maxlen=max(confirm_frames, 1))
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
            detail_ratio=current.detail / max(ref.detail, 1e-6),
            edge_detail_ratio=(current.edges / max(current.contrast, 2.0))
            / max(ref.edges / max(ref.contrast, 2.0), 1e-6),
            contrast_ratio=current.contrast / max(ref.contrast, 1e-3),
            colour_ratio=current.colour / max(ref.colour, 1.0),
            edge_ratio=current.edges / max(ref.edges, 1e-3),
            histogram_shift=float(
                np.abs(np.cumsum(ref.histogram) - np.cumsum(current.histogram)).sum() * 8
            ),
            shift_px=float(np.hypot(dx, dy)) * (640 / SIZE[0]),
            shift_response=float(response),
            aligned_structure=_aligned_structure(ref.gradient, current.gradient, dx, dy),
            structure=_ncc(ref.gradient, current.gradient),
            coarse_structure=_ncc(ref.coarse, current.coarse),
            similarity=_ssim(ref.grey, current.grey),
            changed_cells=_changed_cells(ref.gradient, current.gradient),
        )

    def classify(self, c: Comparison) -> str | None:
        # Opaque: nothing of the scene is left. The lights going off also collapses sharpness
        # and edges, but the gradients that remain still line up with the reference's.
        if c.sharpness_ratio < self.covered_ratio and c.edge_ratio < 0.35 and c.structure < 0.3:
            return COVERED
        # Translucent: fine detail lost even relative to the contrast left, and the contrast
        # or the colour collapsed too, and the picture no longer looks like the scene.
        if (
            c.edge_detail_ratio < 0.8
            and c.sharpness_ratio < 0.3
            and (c.contrast_ratio < 0.55 or c.colour_ratio < 0.5)
            and c.similarity < 0.5
        ):
            return COVERED
        shifted = (
            c.shift_px >= self.shift_fraction * 640
            and c.shift_response > 0.08
            and c.aligned_structure > max(0.4, c.structure + 0.15)
        )
        if (
            c.sharpness_ratio < self.defocus_ratio
            and c.detail_ratio < 0.6
            and c.contrast_ratio > 0.55
            and c.histogram_shift < self.stable_histogram
            and c.coarse_structure > 0.6
            and not shifted
        ):
            return DEFOCUSED
        gone = (
            c.changed_cells >= self.moved_cells and c.coarse_structure < 0.6 and c.structure < 0.3
        )
        if shifted or gone:
            return MOVED
        return None

    def _learn(self, current: FrameFeatures, a: float) -> None:
        ref = self._reference
        if ref is None:
            self._reference = current
            return
        grey = np.asarray(cv2.addWeighted(ref.grey, 1 - a, current.grey, a, 0), np.float32)
        self._reference = FrameFeatures(
            grey=grey,
            sharpness=(1 - a) * ref.sharpness + a * current.sharpness,
            edges=(1 - a) * ref.edges + a * current.edges,
            contrast=(1 - a) * ref.contrast + a * current.contrast,
            colour=(1 - a) * ref.colour + a * current.colour,
            gradient=np.asarray(
                cv2.addWeighted(ref.gradient, 1 - a, current.gradient, a, 0), np.float32
            ),
            histogram=((1 - a) * ref.histogram + a * current.histogram).astype(np.float32),
            coarse=np.asarray(cv2.addWeighted(ref.coarse, 1 - a, current.coarse, a, 0), np.float32),
        )

    def _warming_up(self, now: float) -> bool:
        started = self._started if self._started is not None else now
        return self._seen <= self.warmup_frames or now - started < self.warmup_s

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        current = features(frame)
        self._seen += 1
        now = context.time
        if self._started is None:
            self._started = now
        if self._reference is None or self._warming_up(now):
            # Learn quickly at first: the reference is the mean of the first frames.
            self._learn(current, 1 / self._seen)
            self._last_learnt = now
            return []
        comparison = self.compare(current)
        kind = self.classify(comparison)
        if kind is None:
            self._since, self._streak = None, 0
            self._kinds.clear()
            last = self._last_learnt if self._last_learnt is not None else now
            # Time-based: the same horizon whatever the sampling rate.
            self._learn(current, 1 - math.exp(-max(now - last, 0.0) / max(self.horizon_s, 1e-6)))
            self._last_learnt = now
            return []
        if self._since is None:
            self._since = now
        self._streak += 1
        self._kinds.append(kind)
        if self._streak < self.confirm_frames or now - self._since < self.confirm_s:
            return []
        confirmed = _most_frequent(list(self._kinds))
        return [
            Observation(
                frame=context.frame,
                time=context.time,
                type=confirmed,
                confidence=_confidence(confirmed, comparison),
                detector=self.name,
                detail={
                    "frames": self._streak,
                    "seconds": round(now - self._since, 3),
                    **comparison.as_detail(),
                },
            )
        ]


def _most_frequent(kinds: list[str]) -> str:
    counts = Counter(kinds)
    best = max(counts.values())
    return next(k for k in reversed(kinds) if counts[k] == best)


def _confidence(kind: str, c: Comparison) -> float:
    if kind in (COVERED, DEFOCUSED):
        value = 1 - c.sharpness_ratio
    else:
        value = max(1 - c.structure, min(1.0, c.shift_px / 64), c.changed_cells)
    return float(min(1.0, max(0.0, value)))
