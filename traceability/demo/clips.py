"""Camera clips and photos made for the demo with OpenCV drawing and sensor noise.

Three clips of one kitchen (640×360, MJPG in AVI, 4 frames/s): ``day`` (lights
on, a cook walking along the counter), ``night`` (lights off, nothing moves)
and ``pest`` (lights off, then a small dark animal runs along the prep counter,
then it is gone). The zones of :data:`ZONES` match the drawing. Photos are the
PNG "evidence" restaurants attach to a rectification (a repair report, a pest
control visit, a new certificate): a sheet of text, a real image the
attachment store accepts.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

Frame = npt.NDArray[np.uint8]
WIDTH, HEIGHT = 640, 360
FPS = 4.0
SAMPLE_FPS = 2.0
CLIPS = ("day", "night", "pest")
ZONES: list[dict[str, Any]] = [
    {"name": "prep-1", "kind": "prep", "polygon": [[0, 0.45], [0.53, 0.45], [0.53, 1], [0, 1]]},
    {"name": "stove-1", "kind": "stove", "polygon": [[0.54, 0.3], [1, 0.3], [1, 1], [0.54, 1]]},
]


def _kitchen(seed: int, brightness: float) -> Frame:
    rng = np.random.default_rng(seed)
    img = np.full((HEIGHT, WIDTH, 3), (200, 205, 210), dtype=np.uint8)
    for x in range(0, WIDTH, 32):
        cv2.line(img, (x, 0), (x, 160), (170, 175, 180), 1)
    for y in range(0, 160, 32):
        cv2.line(img, (0, y), (WIDTH, y), (170, 175, 180), 1)
    cv2.rectangle(img, (20, 40), (300, 52), (60, 90, 120), -1)
    for i, x in enumerate(range(30, 290, 36)):
        colour = [(40, 120, 200), (30, 160, 60), (160, 60, 40), (20, 20, 180)][i % 4]
        cv2.rectangle(img, (x, 10), (x + 22, 40), colour, -1)
    cv2.rectangle(img, (0, 160), (WIDTH, 175), (90, 90, 95), -1)
    cv2.rectangle(img, (10, 175), (330, 350), (150, 160, 170), -1)
    cv2.rectangle(img, (40, 190), (160, 250), (240, 240, 235), -1)
    cv2.circle(img, (230, 230), 35, (60, 140, 220), -1)
    cv2.rectangle(img, (352, 162), (608, 342), (45, 45, 50), -1)
    for cx, cy in ((420, 210), (540, 210), (420, 290), (540, 290)):
        cv2.circle(img, (cx, cy), 34, (20, 20, 20), -1)
        cv2.circle(img, (cx, cy), 24, (80, 80, 85), 2)
    texture = rng.normal(0, 6, img.shape)
    return np.clip(img.astype(np.float32) * brightness + texture, 0, 255).astype(np.uint8)


def _noisy(frame: Frame, seed: int, sigma: float) -> Frame:
    rng = np.random.default_rng(seed)
    noisy = frame.astype(np.float32) + rng.normal(0, sigma, frame.shape)
    return np.clip(noisy, 0, 255).astype(np.uint8)


def _cook(frame: Frame, x: int) -> Frame:
    img = frame.copy()
    cv2.rectangle(img, (x - 30, 120), (x + 30, 290), (235, 235, 235), -1)
    cv2.circle(img, (x, 98), 22, (60, 90, 140), -1)
    return img


def _animal(frame: Frame, x: int, y: int) -> Frame:
    img = frame.copy()
    cv2.ellipse(img, (x, y), (9, 5), 0, 0, 360, (75, 75, 80), -1)
    cv2.line(img, (x - 9, y), (x - 18, y + 3), (70, 70, 75), 2)
    return img


def frames(kind: str) -> Iterator[Frame]:
    """The frames of the ``day``, ``night`` or ``pest`` clip."""
    if kind == "day":
        base = _kitchen(7, 1.0)
        for i in range(40):
            flicker = 1.0 + 0.04 * np.sin(i * 1.3)
            frame = np.clip(base.astype(np.float32) * flicker, 0, 255).astype(np.uint8)
            yield _noisy(_cook(frame, 60 + (i * 14) % 260), 100 + i, 2.5)
    elif kind == "night":
        base = _kitchen(7, 0.18)
        for i in range(24):
            yield _noisy(base, 200 + i, 2.0)
    elif kind == "pest":
        base = _kitchen(7, 0.18)
        for i in range(16):
            yield _noisy(base, 300 + i, 2.0)
        for i in range(20):
            yield _animal(_noisy(base, 400 + i, 2.0), 60 + 12 * i, 300)
        for i in range(8):
            yield _noisy(base, 500 + i, 2.0)
    else:
        raise ValueError(f"no clip {kind!r}; the clips are {', '.join(CLIPS)}")


def seconds(kind: str) -> float:
    """How long the clip plays."""
    return sum(1 for _ in frames(kind)) / FPS


def write_clip(path: Path, kind: str) -> Path:
    """Write the clip (MJPG in AVI) to ``path`` unless it is there already."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial.avi")
    writer = cv2.VideoWriter(str(partial), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write a video at {partial}")
    try:
        for frame in frames(kind):
            writer.write(frame)
    finally:
        writer.release()
    partial.replace(path)
    return path


def photo(title: str, lines: Sequence[str], *, seed: int = 1) -> bytes:
    """A PNG "photo" of a document: a title and a few lines on a sheet of paper."""
    rng = np.random.default_rng(seed)
    img = np.full((480, 640, 3), (92, 104, 110), dtype=np.uint8)
    cv2.rectangle(img, (60, 30), (580, 450), (238, 240, 242), -1)
    cv2.rectangle(img, (60, 30), (580, 90), (150, 110, 40), -1)
    cv2.putText(img, title[:34], (80, 72), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
    for i, line in enumerate(lines[:10]):
        cv2.putText(
            img, line[:52], (80, 130 + 30 * i), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (40, 40, 40), 1
        )
    cv2.circle(img, (500, 390), 38, (40, 40, 200), 3)
    cv2.putText(img, "OK", (480, 398), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (40, 40, 200), 2)
    noisy = np.clip(img.astype(np.float32) + rng.normal(0, 3, img.shape), 0, 255)
    ok, encoded = cv2.imencode(".png", noisy.astype(np.uint8))
    if not ok:
        raise ValueError("OpenCV could not encode the PNG")
    return encoded.tobytes()
