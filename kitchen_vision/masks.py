"""Experimental mask check on each detected face: HOG and colour features, logistic regression.

Features of a face box (resized to 64×64): the HOG descriptor of the grey crop (64×64
window, 16×16 blocks, 8×8 cells, 9 bins) and colour statistics of the lower face
(mouth and chin) against the upper face (eyes and forehead): skin-pixel ratio in
YCrCb, means and spreads in Lab and HSV, and their lower-minus-upper differences.
A mask hides skin and changes colour and texture below the nose.

The classifier is a logistic regression trained with numpy on a fixed split of the
shared face-mask sample (see ``kitchen_vision.eval_mask``); its parameters ship in
``kitchen_vision/data/mask_model.npz``. Its figures on the held-out part are in
BENCHMARKS.md; every observation it makes is marked experimental, because those
photos (mostly frontal face crops, some with drawn-on masks) are not kitchen cameras.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from kitchen_vision.faces import FaceDetector, default_detector
from kitchen_vision.observations import Box, Frame, FrameContext, Observation

FEATURE_VERSION = "hog64+ycc-lab-hsv/1"
DETECTOR_NAME = "mask_hog_logreg"
MASK = "mask"
NO_MASK = "no_mask"

FloatArray = npt.NDArray[np.float64]

SHIPPED_MODEL = Path(__file__).with_name("data") / "mask_model.npz"

_CROP = 64
_UPPER = slice(10, 30)  # eyes and forehead rows of the 64-px crop
_LOWER = slice(36, 60)  # mouth and chin
_hog = cv2.HOGDescriptor((_CROP, _CROP), (16, 16), (8, 8), (8, 8), 9)


def face_features(frame: Frame, box: Box) -> FloatArray:
    """The feature vector of the face in ``box`` (HOG of the grey crop, then colour statistics)."""
    crop = frame[box.y : box.y + box.h, box.x : box.x + box.w]
    if crop.size == 0:
        raise ValueError(f"face box {box.to_json()} lies outside the frame {frame.shape[:2]}")
    face = cv2.resize(crop, (_CROP, _CROP), interpolation=cv2.INTER_AREA)
    hog = np.asarray(_hog.compute(cv2.cvtColor(face, cv2.COLOR_BGR2GRAY)), np.float64).ravel()
    ycc = cv2.cvtColor(face, cv2.COLOR_BGR2YCrCb)
    cr, cb = ycc[:, :, 1], ycc[:, :, 2]
    skin = (cr >= 133) & (cr <= 173) & (cb >= 77) & (cb <= 127)
    skin_upper, skin_lower = float(skin[_UPPER].mean()), float(skin[_LOWER].mean())
    colour = [skin_upper, skin_lower, skin_lower - skin_upper]
    for space in (cv2.COLOR_BGR2Lab, cv2.COLOR_BGR2HSV):
        converted = cv2.cvtColor(face, space).astype(np.float64) / 255.0
        for channel in range(3):
            upper, lower = converted[_UPPER, :, channel], converted[_LOWER, :, channel]
            colour += [float(lower.mean()), float(lower.std()), float(lower.mean() - upper.mean())]
    return np.concatenate([hog, np.asarray(colour, dtype=np.float64)])


@dataclass(frozen=True)
class MaskModel:
    """Standardisation and logistic-regression parameters; ``p(mask) = σ(w·(x-μ)/s + b)``."""

    mean: FloatArray
    scale: FloatArray
    weights: FloatArray
    bias: float
    meta: dict[str, Any] = field(default_factory=dict)

    def probability_of_mask(self, features: FloatArray) -> float:
        z = float(((features - self.mean) / self.scale) @ self.weights + self.bias)
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50.0, 50.0))))

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            mean=self.mean,
            scale=self.scale,
            weights=self.weights,
            bias=np.asarray([self.bias]),
            meta=np.asarray(json.dumps(self.meta, sort_keys=True)),
        )

    @classmethod
    def load(cls, path: Path | None = None) -> MaskModel:
        """The shipped parameters, or those in ``path``."""
        if path is None:
            path = SHIPPED_MODEL
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            if meta.get("feature_version") != FEATURE_VERSION:
                raise ValueError(
                    f"mask model {path} was trained on features {meta.get('feature_version')!r}, "
                    f"this code computes {FEATURE_VERSION!r}"
                )
            return cls(
                mean=data["mean"].astype(np.float64),
                scale=data["scale"].astype(np.float64),
                weights=data["weights"].astype(np.float64),
                bias=float(data["bias"][0]),
                meta=meta,
            )


def fit_logistic_regression(
    features: FloatArray,
    labels: npt.NDArray[np.int_],
    *,
    l2: float,
    iterations: int = 1500,
    learning_rate: float = 0.1,
    meta: dict[str, Any] | None = None,
) -> MaskModel:
    """Full-batch gradient descent on the L2-regularised log loss (labels: 1 = mask)."""
    mean = features.mean(axis=0)
    scale = features.std(axis=0) + 1e-6
    z = (features - mean) / scale
    y = labels.astype(np.float64)
    weights = np.zeros(z.shape[1])
    bias = 0.0
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(z @ weights + bias, -50.0, 50.0)))
        gradient = p - y
        weights -= learning_rate * (z.T @ gradient / len(y) + l2 * weights)
        bias -= learning_rate * float(gradient.mean())
    full_meta = {"feature_version": FEATURE_VERSION, "l2": l2, "iterations": iterations}
    full_meta.update(meta or {})
    return MaskModel(mean=mean, scale=scale, weights=weights, bias=bias, meta=full_meta)


@dataclass(frozen=True)
class MaskVerdict:
    label: str
    """``mask`` or ``no_mask``."""
    probability_of_mask: float

    @property
    def confidence(self) -> float:
        p = self.probability_of_mask
        return p if self.label == MASK else 1.0 - p


class MaskDetector:
    """Finds faces, then reports each as ``mask`` or ``no_mask`` (experimental; BENCHMARKS.md)."""

    name = DETECTOR_NAME

    def __init__(
        self,
        faces: FaceDetector | None = None,
        model: MaskModel | None = None,
        *,
        decision_threshold: float = 0.5,
    ) -> None:
        self.faces = faces if faces is not None else default_detector()
        self.model = model if model is not None else MaskModel.load()
        self.decision_threshold = decision_threshold

    def classify(self, frame: Frame, box: Box) -> MaskVerdict:
        p = self.model.probability_of_mask(face_features(frame, box))
        return MaskVerdict(MASK if p >= self.decision_threshold else NO_MASK, p)

    def observe(self, frame: Frame, context: FrameContext) -> list[Observation]:
        observations = []
        for face in self.faces.detect(frame):
            verdict = self.classify(frame, face.box)
            observations.append(
                Observation(
                    frame=context.frame,
                    time=context.time,
                    type=verdict.label,
                    confidence=verdict.confidence,
                    detector=self.name,
                    box=face.box,
                    experimental=True,
                    detail={
                        "face_detector": self.faces.backend,
                        "face_confidence": round(face.score, 4),
                        "probability_of_mask": round(verdict.probability_of_mask, 4),
                    },
                )
            )
        return observations


def load_mask_detector(face_detector: object = None) -> MaskDetector:
    """The mask check over ``face_detector`` when it is a ``FaceDetector``, else the shared one."""
    faces = face_detector if isinstance(face_detector, FaceDetector) else None
    return MaskDetector(faces)
