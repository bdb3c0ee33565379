"""Work clothes: the dominant colour of the upper body in a prep zone against the premises' colour.

The upper body is the region below a detected face (about one face height down, three
face heights tall, two face widths wide). When no face is found, operator-configured
torso regions (polygons where staff stand at the prep counter) are used instead.
Only regions whose centre lies in a prep zone are checked.

The dominant colour is the largest of three k-means clusters of the region's pixels in
CIE L*a*b*; it is compared with the configured colour by the CIE76 distance ΔE*ab.
A distance above ``max_delta_e`` (default 25: clearly a different colour, not a
shade of the same one under kitchen light) gives a ``work_clothes_mismatch``
observation carrying the dominant colour.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.config import CameraConfig
from kitchen_vision.faces import FaceDetector, default_detector
from kitchen_vision.observations import Box, Frame, FrameContext, Observation

Point = tuple[float, float]
Polygon = Sequence[Point]

NAMED_COLOURS_BGR: dict[str, tuple[int, int, int]] = {
    "white": (245, 245, 245),
    "black": (25, 25, 25),
    "grey": (128, 128, 128),
    "navy": (110, 40, 20),
    "blue": (200, 90, 30),
    "light_blue": (230, 190, 140),
    "red": (40, 40, 200),
    "green": (60, 140, 40),
    "yellow": (40, 210, 230),
    "orange": (30, 130, 240),
    "pink": (190, 160, 245),
}


def colour_bgr(colour: str | Sequence[int]) -> tuple[int, int, int]:
    """A named colour (see ``NAMED_COLOURS_BGR``), ``#rrggbb`` or a BGR triple."""
    if isinstance(colour, str):
        name = colour.strip().lower().replace(" ", "_")
        if name in NAMED_COLOURS_BGR:
            return NAMED_COLOURS_BGR[name]
        if len(name) == 7 and name.startswith("#"):
            r, g, b = (int(name[i : i + 2], 16) for i in (1, 3, 5))
            return (b, g, r)
        raise ValueError(
            f"unknown work-clothes colour {colour!r}; use one of "
            f"{sorted(NAMED_COLOURS_BGR)}, '#rrggbb' or a BGR triple"
        )
    values = tuple(int(v) for v in colour)
    if len(values) != 3 or not all(0 <= v <= 255 for v in values):
        raise ValueError(f"work-clothes colour {colour!r} is not a BGR triple of 0..255")
    return (values[0], values[1], values[2])


def lab_of(bgr: Sequence[float]) -> npt.NDArray[np.float64]:
    """CIE L*a*b* (L in 0..100) of one BGR colour."""
    pixel = np.asarray([[bgr]], dtype=np.float32) / 255.0
    return np.asarray(cv2.cvtColor(pixel, cv2.COLOR_BGR2Lab)[0, 0], dtype=np.float64)


def delta_e(lab_a: npt.NDArray[np.float64], lab_b: npt.NDArray[np.float64]) -> float:
    """CIE76 colour difference (Euclidean distance in L*a*b*)."""
    return float(np.linalg.norm(lab_a - lab_b))


@dataclass(frozen=True)
class DominantColour:
    bgr: tuple[int, int, int]
    lab: tuple[float, float, float]
    share: float
    """Fraction of the region's pixels in this colour's cluster."""


def dominant_colour(region: Frame, mask: npt.NDArray[np.uint8] | None = None) -> DominantColour:
    """The largest of three k-means colour clusters (in L*a*b*) of the region's pixels."""
    pixels = region.reshape(-1, 3)
    if mask is not None:
        pixels = pixels[mask.reshape(-1) > 0]
    if len(pixels) == 0:
        raise ValueError("empty region has no dominant colour")
    if len(pixels) > 4000:  # plenty for three clusters; keeps k-means cheap
        pixels = pixels[:: len(pixels) // 4000 + 1]
    scaled = (pixels.astype(np.float32) / 255.0).reshape(-1, 1, 3)
    lab = np.asarray(cv2.cvtColor(scaled, cv2.COLOR_BGR2Lab), dtype=np.float32).reshape(-1, 3)
    k = min(3, len(lab))
    criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
    cv2.setRNGSeed(0)
    _compactness, labels, centres = cv2.kmeans(
        lab,
        k,
        None,  # type: ignore[call-overload]  # the stubs miss that bestLabels may be None
        criteria,
        2,
        cv2.KMEANS_PP_CENTERS,
    )
    counts = np.bincount(labels.reshape(-1), minlength=k)
    best = int(np.argmax(counts))
    centre = centres[best]
    bgr = cv2.cvtColor(centre.reshape(1, 1, 3).astype(np.float32), cv2.COLOR_Lab2BGR)[0, 0]
    b, g, r = (int(round(float(np.clip(v, 0.0, 1.0)) * 255)) for v in bgr)
    return DominantColour(
        bgr=(b, g, r),
        lab=(float(centre[0]), float(centre[1]), float(centre[2])),
        share=float(counts[best] / counts.sum()),
    )


def point_in_polygon(point: Point, polygon: Polygon) -> bool:
    contour = np.asarray(polygon, dtype=np.float32).reshape(-1, 1, 2)
    return cv2.pointPolygonTest(contour, (float(point[0]), float(point[1])), False) >= 0


def upper_body_box(face: Box, frame_w: int, frame_h: int) -> Box | None:
    """The torso below a face: from 1.2 to 3.2 face heights down, two face widths wide."""
    left = max(0, int(face.x - 0.5 * face.w))
    right = min(frame_w, int(face.x + 1.5 * face.w))
    top = max(0, int(face.y + 1.2 * face.h))
    bottom = min(frame_h, int(face.y + 3.2 * face.h))
    if right - left < 4 or bottom - top < 4:
        return None
    return Box(left, top, right - left, bottom - top)


class WorkClothesCheck:
    """A ``Detector``: ``work_clothes_mismatch`` when the upper body in a prep zone is not
    the premises' work-clothes colour.

    ``prep_zones`` and ``torso_regions`` map names to polygons in frame pixels, or in
    fractions of the frame's width and height with ``relative_zones`` (as the camera
    configuration lists them). Torso regions are only used when no face is found.
    """

    name = "work_clothes_lab"

    def __init__(
        self,
        expected: str | Sequence[int],
        prep_zones: Mapping[str, Polygon],
        *,
        torso_regions: Mapping[str, Polygon] | None = None,
        faces: FaceDetector | None = None,
        max_delta_e: float = 25.0,
        relative_zones: bool = False,
    ) -> None:
        self.relative_zones = relative_zones
        self.expected_bgr = colour_bgr(expected)
        self.expected_lab = lab_of(self.expected_bgr)
        self.expected_name = expected if isinstance(expected, str) else None
        self.prep_zones = dict(prep_zones)
        self.torso_regions = dict(torso_regions or {})
        self.faces = faces if faces is not None else default_detector()
        self.max_delta_e = max_delta_e

    def _pixels(self, polygon: Polygon, frame_w: int, frame_h: int) -> list[Point]:
        if not self.relative_zones:
            return [(float(x), float(y)) for x, y in polygon]
        return [(x * (frame_w - 1), y * (frame_h - 1)) for x, y in polygon]

    def _zone_of(self, point: Point, frame_w: int, frame_h: int) -> str | None:
        for name, polygon in self.prep_zones.items():
            if point_in_polygon(point, self._pixels(polygon, frame_w, frame_h)):
                return name
        return None

    def regions(self, frame: Frame) -> list[tuple[Box, npt.NDArray[np.uint8] | None, str, str]]:
        """(box, pixel mask or None, prep zone, source) of every upper body to check."""
        frame_h, frame_w = frame.shape[:2]
        found: list[tuple[Box, npt.NDArray[np.uint8] | None, str, str]] = []
        for face in self.faces.detect(frame):
            torso = upper_body_box(face.box, frame_w, frame_h)
            if torso is None:
                continue
            zone = self._zone_of((torso.x + torso.w / 2, torso.y + torso.h / 2), frame_w, frame_h)
            if zone is not None:
                found.append((torso, None, zone, "below_face"))
        if found:
            return found
        for region_name, polygon in self.torso_regions.items():
            pixels = self._pixels(polygon, frame_w, frame_h)
            contour = np.asarray(np.round(pixels), dtype=np.int32).reshape(-1, 1, 2)
            x, y, w, h = cv2.boundingRect(contour)
            x0, y0 = max(0, x), max(0, y)
            box = Box(x0, y0, min(frame_w, x + w) - x0, min(frame_h, y + h) - y0)
            if box.w < 4 or box.h < 4:
                continue
            mask = np.zeros((box.h, box.w), dtype=np.uint8)
            cv2.fillPoly(mask, [contour - np.asarray([box.x, box.y], dtype=np.int32)], 255)
            zone = self._zone_of((box.x + box.w / 2, box.y + box.h / 2), frame_w, frame_h)
            if zone is not None:
                found.append((box, mask, zone, f"region:{region_name}"))
        return found

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        observations = []
        for box, mask, zone, source in self.regions(frame):
            region = frame[box.y : box.y + box.h, box.x : box.x + box.w]
            colour = dominant_colour(region, mask)
            distance = delta_e(np.asarray(colour.lab), self.expected_lab)
            if distance <= self.max_delta_e:
                continue
            observations.append(
                Observation(
                    frame=context.frame,
                    time=context.time,
                    type="work_clothes_mismatch",
                    # How far past the threshold, squashed into (0.5, 1): not a probability.
                    confidence=float(1.0 - 0.5 * self.max_delta_e / distance),
                    detector=self.name,
                    zone=zone,
                    box=box,
                    detail={
                        "dominant_bgr": list(colour.bgr),
                        "dominant_lab": [round(v, 1) for v in colour.lab],
                        "dominant_share": round(colour.share, 3),
                        "expected_bgr": list(self.expected_bgr),
                        "expected": self.expected_name,
                        "delta_e": round(distance, 1),
                        "max_delta_e": self.max_delta_e,
                        "region": source,
                        "face_detector": self.faces.backend,
                    },
                )
            )
        return observations


def load_clothes_detector(config: CameraConfig, face_detector: object = None) -> WorkClothesCheck:
    """The check for a camera: its ``prep`` zones and ``work_clothes_colour``.

    Only bodies below detected faces are checked: the configuration names no torso
    regions, and the prep zone itself would mostly show the counter.
    """
    if config.work_clothes_colour is None:
        raise ValueError(f"camera {config.camera_id} configures no work_clothes_colour")
    prep = {zone.name: zone.polygon for zone in config.zones if zone.kind == "prep"}
    faces = face_detector if isinstance(face_detector, FaceDetector) else None
    return WorkClothesCheck(config.work_clothes_colour, prep, faces=faces, relative_zones=True)
