"""Evaluate (and retrain) the experimental mask check on a folder of labelled photos.

A folder has ``with_mask/`` and ``without_mask/``. Every image is assigned to a split
by the SHA-256 of ``<class folder>/<file name>``: when the first 8 hex digits, read
as a number, are below 6 modulo 10 the image is for training, otherwise it is held
out. The split depends on the name only, so it is the same on every machine and for
every copy of the sample; the shipped parameters were trained on the training part
of ``/work/shared/data/face-mask-sample`` and the figures in BENCHMARKS.md come from
the held-out part (``--split heldout``).

Counting: each image is one person. The highest-scoring face found is classified.
An image in which no face is found counts as a wrong answer for its class (it lowers
that class's recall and the accuracy, and is no prediction for either class's
precision); ``accuracy_on_found_faces`` leaves those images out.

Retrain: ``python -m kitchen_vision.eval_mask train DIR`` (writes
``kitchen_vision/data/mask_model.npz``; the L2 weight is chosen by 5-fold
cross-validation inside the training part, never on the held-out part).
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import typer

from kitchen_vision.faces import FaceDetector
from kitchen_vision.masks import (
    MASK,
    NO_MASK,
    FloatArray,
    MaskDetector,
    MaskModel,
    face_features,
    fit_logistic_regression,
)

Split = Literal["train", "heldout"]
CLASS_FOLDERS = {"with_mask": MASK, "without_mask": NO_MASK}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}
TRAIN_OF_TEN = 6
NO_FACE = "no_face"
L2_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)


def split_of(class_folder: str, file_name: str) -> Split:
    digest = hashlib.sha256(f"{class_folder}/{file_name}".encode()).hexdigest()
    return "train" if int(digest[:8], 16) % 10 < TRAIN_OF_TEN else "heldout"


@dataclass(frozen=True)
class LabelledImage:
    path: Path
    label: str
    split: Split


def sample_images(
    directory: Path, split: Literal["all", "train", "heldout"] = "all"
) -> list[LabelledImage]:
    """The labelled images under ``directory`` in sorted order, optionally one split only."""
    images = []
    for folder, label in CLASS_FOLDERS.items():
        class_dir = directory / folder
        if not class_dir.is_dir():
            raise FileNotFoundError(f"{directory} has no {folder}/ folder")
        for path in sorted(class_dir.iterdir()):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                image = LabelledImage(path, label, split_of(folder, path.name))
                if split == "all" or image.split == split:
                    images.append(image)
    if not images:
        raise FileNotFoundError(f"no images under {directory}/with_mask or without_mask")
    return images


def _read(path: Path) -> np.ndarray[Any, np.dtype[np.uint8]]:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise ValueError(f"{path} is not an image OpenCV can read")
    return np.asarray(image, dtype=np.uint8)


def evaluate(
    images: list[LabelledImage],
    detector: MaskDetector,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Accuracy, per-class precision and recall, face-found rate and ms per image.

    ``on_progress(done, total)`` is called after every image."""
    predictions: list[str] = []
    elapsed = 0.0
    for done, image in enumerate(images, start=1):
        frame = _read(image.path)
        started = time.perf_counter()
        faces = detector.faces.detect(frame)
        predicted = detector.classify(frame, faces[0].box).label if faces else NO_FACE
        elapsed += time.perf_counter() - started
        predictions.append(predicted)
        if on_progress is not None:
            on_progress(done, len(images))
    truth = [image.label for image in images]
    found = [p != NO_FACE for p in predictions]
    correct = [p == t for p, t in zip(predictions, truth, strict=True)]
    per_class: dict[str, dict[str, Any]] = {}
    for label in (MASK, NO_MASK):
        actual = sum(t == label for t in truth)
        predicted_as = sum(p == label for p in predictions)
        hits = sum(p == t == label for p, t in zip(predictions, truth, strict=True))
        per_class[label] = {
            "images": actual,
            "predicted": predicted_as,
            "precision": _ratio(hits, predicted_as),
            "recall": _ratio(hits, actual),
            "faces_found": sum(f for f, t in zip(found, truth, strict=True) if t == label),
        }
    confusion = {
        t: {
            p: sum(1 for a, b in zip(truth, predictions, strict=True) if a == t and b == p)
            for p in (MASK, NO_MASK, NO_FACE)
        }
        for t in (MASK, NO_MASK)
    }
    return {
        "images": len(images),
        "accuracy": _ratio(sum(correct), len(images)),
        "accuracy_on_found_faces": _ratio(
            sum(c for c, f in zip(correct, found, strict=True) if f), sum(found)
        ),
        "face_found_rate": _ratio(sum(found), len(images)),
        "classes": per_class,
        "confusion": confusion,
        "ms_per_image": round(1000.0 * elapsed / len(images), 2),
        "timing": "face detection + mask check per image, excluding file decoding",
        "no_face_counting": "an image with no face found counts as wrong for its class",
        "face_detector": detector.faces.backend,
        "face_input_size": list(detector.faces.input_size),
        "mask_detector": detector.name,
        "experimental": True,
    }


def _ratio(numerator: int, denominator: int) -> float | None:
    return round(numerator / denominator, 4) if denominator else None


def eval_mask_command(
    dir: Path,
    json_output: bool,
    split: Literal["all", "train", "heldout"] = "all",
    threads: int | None = None,
    *,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """``sunledger vision eval mask DIR``: print the evaluation as JSON (one line with --json).

    ``on_progress(done, total)`` follows the evaluation, image by image."""
    previous_threads = cv2.getNumThreads()
    if threads is not None:
        cv2.setNumThreads(threads)
    try:
        return _eval_mask(dir, json_output, split, on_progress)
    finally:
        cv2.setNumThreads(previous_threads)


def _eval_mask(
    dir: Path,
    json_output: bool,
    split: Literal["all", "train", "heldout"],
    on_progress: Callable[[int, int], None] | None,
) -> dict[str, Any]:
    try:
        images = sample_images(dir, split)
        detector = MaskDetector(FaceDetector())
    except (FileNotFoundError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    try:
        report = evaluate(images, detector, on_progress=on_progress)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    report = {"directory": str(dir), "split": split, **report}
    if split != "train":
        report["split_rule"] = (
            f"sha256('<class folder>/<file name>')[:8] mod 10 < {TRAIN_OF_TEN} is training"
        )
    typer.echo(json.dumps(report) if json_output else json.dumps(report, indent=2))
    return report


def _features(images: Iterable[LabelledImage], faces: FaceDetector) -> tuple[FloatArray, list[int]]:
    rows, labels = [], []
    for image in images:
        frame = _read(image.path)
        found = faces.detect(frame)
        if found:  # images without a face cannot teach the classifier anything
            rows.append(face_features(frame, found[0].box))
            labels.append(1 if image.label == MASK else 0)
    return np.vstack(rows), labels


def train(directory: Path, out: Path) -> MaskModel:
    """Fit on the training split of ``directory``; choose L2 by 5-fold CV inside it."""
    images = sample_images(directory, "train")
    features, label_list = _features(images, FaceDetector())
    labels = np.asarray(label_list)
    folds = np.arange(len(labels)) % 5
    cv_accuracy = {}
    for l2 in L2_GRID:
        right = 0
        for k in range(5):
            model = fit_logistic_regression(features[folds != k], labels[folds != k], l2=l2)
            for row, label in zip(features[folds == k], labels[folds == k], strict=True):
                right += int((model.probability_of_mask(row) >= 0.5) == bool(label))
        cv_accuracy[l2] = right / len(labels)
    best = max(L2_GRID, key=lambda l2: (cv_accuracy[l2], l2))
    model = fit_logistic_regression(
        features,
        labels,
        l2=best,
        meta={
            "trained_on": f"{directory.name}, split train ({len(labels)} faces)",
            "split_rule": f"sha256('<class folder>/<file name>')[:8] mod 10 < {TRAIN_OF_TEN}",
            "cv_accuracy": {str(k): round(v, 4) for k, v in cv_accuracy.items()},
        },
    )
    model.save(out)
    return model


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "train":
        sys.exit("usage: python -m kitchen_vision.eval_mask train DIR")
    target = Path(__file__).parent / "data" / "mask_model.npz"
    target.parent.mkdir(exist_ok=True)
    trained = train(Path(sys.argv[2]), target)
    print(json.dumps(trained.meta, indent=2))
