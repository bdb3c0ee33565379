"""Pluggable YOLO-style ONNX detector, run with ``cv2.dnn``.

The operator supplies the model file and its class map; nothing is downloaded. We
claim no accuracy for such a model: what it finds is only as good as the model, and
every observation and violation names the file and its SHA-256 so the log commits to
exactly what produced it.

Supported output layouts (batch 1), ``C`` classes:

* ``v5``: ``(1, N, 5 + C)`` rows of ``cx, cy, w, h, objectness, class scores…``;
  confidence = objectness × best class score (YOLOv5/v7 exports).
* ``v8``: ``(1, 4 + C, N)`` columns of ``cx, cy, w, h, class scores…`` without
  objectness (YOLOv8/v11 exports); ``(1, N, 4 + C)`` is read the same way.

Boxes are in input pixels; the frame is letterboxed into the input (aspect kept,
centred, padded with grey 114 as Ultralytics does), and boxes are mapped back
through the same scale and padding. NMS runs per class.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.config import CameraConfig
from kitchen_vision.observations import Box, Frame, FrameContext, Observation

Layout = Literal["auto", "v5", "v8"]
Point = tuple[float, float]
Polygon = Sequence[Point]

NO_ACCURACY_CLAIM = "operator-supplied model: no accuracy is claimed for it"

EXAMPLE_CLASS_MAP = (
    "person",
    "chef_hat",
    "no_hat",
    "mask",
    "no_mask",
    "gloves",
    "cigarette",
    "phone",
    "rat",
    "bin_open",
)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class Letterbox:
    """How a frame was fitted into the network input: ``input = frame × scale + pad``."""

    scale: float
    pad_x: int
    pad_y: int

    def to_frame(
        self, x: float, y: float, w: float, h: float, frame_w: int, frame_h: int
    ) -> Box | None:
        left = (x - self.pad_x) / self.scale
        top = (y - self.pad_y) / self.scale
        right = (x + w - self.pad_x) / self.scale
        bottom = (y + h - self.pad_y) / self.scale
        x0, y0 = max(0, int(round(left))), max(0, int(round(top)))
        x1, y1 = min(frame_w, int(round(right))), min(frame_h, int(round(bottom)))
        if x1 - x0 < 1 or y1 - y0 < 1:
            return None
        return Box(x0, y0, x1 - x0, y1 - y0)


def letterbox(frame: Frame, size: tuple[int, int]) -> tuple[Frame, Letterbox]:
    """``frame`` scaled (aspect kept) and centred in a ``size`` (w, h) canvas of grey 114."""
    in_w, in_h = size
    h, w = frame.shape[:2]
    scale = min(in_w / w, in_h / h)
    new_w, new_h = max(1, int(round(w * scale))), max(1, int(round(h * scale)))
    pad_x, pad_y = (in_w - new_w) // 2, (in_h - new_h) // 2
    canvas = np.full((in_h, in_w, 3), 114, dtype=np.uint8)
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(
        frame, (new_w, new_h), interpolation=interp
    )
    return canvas, Letterbox(scale, pad_x, pad_y)


@dataclass(frozen=True)
class YoloDetection:
    class_id: int
    class_name: str
    confidence: float
    box: Box


class YoloModel:
    """An operator-supplied YOLO-style ONNX model with its class map. No accuracy is claimed."""

    def __init__(
        self,
        path: Path,
        class_names: Sequence[str],
        *,
        input_size: tuple[int, int] = (640, 640),
        confidence_threshold: float = 0.25,
        nms_threshold: float = 0.45,
        layout: Layout = "auto",
    ) -> None:
        if not path.is_file():
            raise FileNotFoundError(f"YOLO model file {path} does not exist")
        if not class_names:
            raise ValueError(f"YOLO model {path.name}: the class map is empty")
        self.path = path
        self.name = path.name
        self.sha256 = file_sha256(path)
        self.class_names = tuple(class_names)
        self.input_size = input_size
        self.confidence_threshold = confidence_threshold
        self.nms_threshold = nms_threshold
        self.layout = layout
        try:
            self._net = cv2.dnn.readNetFromONNX(str(path))
        except cv2.error as exc:
            raise ValueError(f"YOLO model {path} did not load in cv2.dnn: {exc}") from exc
        self._outputs = list(self._net.getUnconnectedOutLayersNames())

    def raw_output(self, frame: Frame) -> tuple[npt.NDArray[np.float32], Letterbox]:
        canvas, fit = letterbox(frame, self.input_size)
        blob = cv2.dnn.blobFromImage(canvas, 1.0 / 255.0, self.input_size, swapRB=True)
        self._net.setInput(blob)
        # Always the same output list: cv2.dnn misbehaves when it changes between passes.
        outputs = self._net.forward(self._outputs)
        return np.asarray(outputs[0], dtype=np.float32), fit

    def _rows(self, output: npt.NDArray[np.float32]) -> tuple[npt.NDArray[np.float32], bool]:
        """Rows of ``cx, cy, w, h, [objectness], scores…`` and whether objectness is present."""
        classes = len(self.class_names)
        if output.ndim == 3 and output.shape[0] == 1:
            output = output[0]
        if output.ndim != 2:
            raise ValueError(
                f"YOLO model {self.name}: output shape {output.shape} is not (1, a, b)"
            )
        a, b = output.shape
        layout = self.layout
        if layout == "auto":
            if b == 5 + classes and a != 4 + classes:
                layout = "v5"
            elif a == 4 + classes or b == 4 + classes:
                layout = "v8"
            else:
                raise ValueError(
                    f"YOLO model {self.name}: output shape (1, {a}, {b}) fits neither "
                    f"(1, N, {5 + classes}) nor (1, {4 + classes}, N) for {classes} classes"
                )
        if layout == "v5":
            if b != 5 + classes:
                raise ValueError(
                    f"YOLO model {self.name}: v5 rows need {5 + classes} values, got {b}"
                )
            return output, True
        if a == 4 + classes:
            return np.ascontiguousarray(output.T), False
        if b == 4 + classes:
            return output, False
        raise ValueError(
            f"YOLO model {self.name}: v8 output needs {4 + classes} values, got {output.shape}"
        )

    def detect(self, frame: Frame) -> list[YoloDetection]:
        """Detections above the confidence threshold after per-class NMS, in frame pixels."""
        output, fit = self.raw_output(frame)
        rows, has_objectness = self._rows(output)
        scores = rows[:, 5:] if has_objectness else rows[:, 4:]
        class_ids = np.argmax(scores, axis=1)
        confidence = scores[np.arange(len(rows)), class_ids]
        if has_objectness:
            confidence = confidence * rows[:, 4]
        keep = confidence >= self.confidence_threshold
        if not np.any(keep):
            return []
        rows, class_ids, confidence = rows[keep], class_ids[keep], confidence[keep]
        rects = [
            [float(cx - w / 2), float(cy - h / 2), float(w), float(h)]
            for cx, cy, w, h in rows[:, :4]
        ]
        kept = np.asarray(
            cv2.dnn.NMSBoxesBatched(
                rects,
                confidence.astype(float).tolist(),
                class_ids.astype(int).tolist(),
                self.confidence_threshold,
                self.nms_threshold,
            )
        ).reshape(-1)
        frame_h, frame_w = frame.shape[:2]
        found = []
        for i in sorted(kept.tolist(), key=lambda k: -float(confidence[k])):
            x, y, w, h = rects[i]
            box = fit.to_frame(x, y, w, h, frame_w, frame_h)
            if box is not None:
                class_id = int(class_ids[i])
                found.append(
                    YoloDetection(class_id, self.class_names[class_id], float(confidence[i]), box)
                )
        return found


def anchor_point(box: Box, anchor: Literal["centre", "foot"]) -> Point:
    """The box's centre, or its foot point (bottom middle) for things standing on the floor."""
    if anchor == "foot":
        return (box.x + box.w / 2, float(box.y + box.h))
    return (box.x + box.w / 2, box.y + box.h / 2)


def zones_containing(
    point: Point, zones: Mapping[str, Polygon], frame_size: tuple[int, int] | None = None
) -> list[str]:
    """Names of the zones whose polygon contains ``point`` (pixels). With ``frame_size``
    (w, h) the polygons are in fractions of the frame, as camera configurations give them."""
    inside = []
    for name, polygon in zones.items():
        contour = np.asarray(polygon, dtype=np.float32).reshape(-1, 1, 2)
        if frame_size is not None:
            contour = contour * np.asarray([frame_size[0] - 1, frame_size[1] - 1], np.float32)
        if cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0:
            inside.append(name)
    return inside


class YoloDetector:
    """A ``Detector`` reporting each detection as an observation typed by its class name.

    ``zones`` (names to polygons, from the camera configuration) set each observation's
    ``zone``: the first zone containing the box's anchor point. ``relative_zones`` says
    the polygons are in fractions of the frame's width and height.
    """

    def __init__(
        self,
        model: YoloModel,
        *,
        zones: Mapping[str, Polygon] | None = None,
        anchor: Literal["centre", "foot"] = "centre",
        relative_zones: bool = False,
    ) -> None:
        self.model = model
        self.zones = dict(zones or {})
        self.relative_zones = relative_zones
        self.anchor: Literal["centre", "foot"] = anchor
        self.name = f"yolo:{model.name}"

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        observations = []
        size = (frame.shape[1], frame.shape[0]) if self.relative_zones else None
        for found in self.model.detect(frame):
            inside = zones_containing(anchor_point(found.box, self.anchor), self.zones, size)
            observations.append(
                Observation(
                    frame=context.frame,
                    time=context.time,
                    type=found.class_name,
                    confidence=found.confidence,
                    detector=self.name,
                    zone=inside[0] if inside else None,
                    box=found.box,
                    detail={
                        "class_id": found.class_id,
                        "model_name": self.model.name,
                        "model_sha256": self.model.sha256,
                        "zones": inside,
                        "claim": NO_ACCURACY_CLAIM,
                    },
                )
            )
        return observations


def load_yolo_detector(config: CameraConfig) -> YoloDetector:
    """The camera's operator-supplied model (``yolo: {model, classes}``) with its zones."""
    if config.yolo_model is None:
        raise ValueError(f"camera {config.camera_id} configures no YOLO model")
    model = YoloModel(Path(config.yolo_model), config.yolo_classes)
    zones = {zone.name: zone.polygon for zone in config.zones}
    return YoloDetector(model, zones=zones, relative_zones=True)
