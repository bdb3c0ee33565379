"""Kitchen scenes drawn with OpenCV primitives and noise, for the vision tests.

The stove is on the right (x 0.55–0.95, y 0.45–0.95 of the frame), the prep
counter on the left; the zones in ``kitchen_yaml`` match the drawing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from kitchen_vision.observations import Frame

W, H = 640, 360


def kitchen(seed: int = 7, *, brightness: float = 1.0, lit: bool = False) -> Frame:
    """A daytime kitchen: tiled wall, shelves with jars, a prep counter, a stove."""
    rng = np.random.default_rng(seed)
    img = np.full((H, W, 3), (200, 205, 210), dtype=np.uint8)
    for x in range(0, W, 32):
        cv2.line(img, (x, 0), (x, 160), (170, 175, 180), 1)
    for y in range(0, 160, 32):
        cv2.line(img, (0, y), (W, y), (170, 175, 180), 1)
    cv2.rectangle(img, (20, 40), (300, 52), (60, 90, 120), -1)  # shelf
    for i, x in enumerate(range(30, 290, 36)):
        colour = [(40, 120, 200), (30, 160, 60), (160, 60, 40), (20, 20, 180)][i % 4]
        cv2.rectangle(img, (x, 10), (x + 22, 40), colour, -1)
        cv2.circle(img, (x + 11, 10), 8, (230, 230, 230), -1)
    cv2.rectangle(img, (0, 160), (W, 175), (90, 90, 95), -1)  # counter edge
    cv2.rectangle(img, (10, 175), (330, 350), (150, 160, 170), -1)  # prep counter
    cv2.rectangle(img, (40, 190), (160, 250), (240, 240, 235), -1)  # cutting board
    cv2.circle(img, (230, 230), 35, (60, 140, 220), -1)  # bowl
    cv2.rectangle(img, (352, 162), (608, 342), (45, 45, 50), -1)  # stove body
    for cx, cy in ((420, 210), (540, 210), (420, 290), (540, 290)):
        cv2.circle(img, (cx, cy), 34, (20, 20, 20), -1)
        cv2.circle(img, (cx, cy), 24, (80, 80, 85), 2)
    if lit:
        for cx, cy in ((420, 210), (540, 290)):
            cv2.circle(img, (cx, cy), 22, (0, 140, 255), -1)  # orange flame (BGR)
            cv2.circle(img, (cx, cy), 10, (120, 230, 255), -1)
    cv2.putText(img, "KITCHEN 1", (400, 120), cv2.FONT_HERSHEY_SIMPLEX, 1.0, (30, 30, 30), 2)
    texture = rng.normal(0, 7, img.shape)
    out = np.clip(img.astype(np.float32) * brightness + texture, 0, 255)
    return out.astype(np.uint8)


def with_sensor_noise(frame: Frame, seed: int, sigma: float = 2.5) -> Frame:
    rng = np.random.default_rng(seed)
    return np.clip(frame.astype(np.float32) + rng.normal(0, sigma, frame.shape), 0, 255).astype(
        np.uint8
    )


def night(seed: int = 7) -> Frame:
    """The same kitchen with the lights off: dark, low contrast, noisy."""
    return with_sensor_noise(kitchen(seed, brightness=0.18), seed + 1, sigma=2.0)


def covered_black(seed: int = 1) -> Frame:
    return with_sensor_noise(np.full((H, W, 3), 6, dtype=np.uint8), seed, sigma=1.5)


def covered_by_hand(seed: int = 1) -> Frame:
    """A palm right on the lens: a smooth skin-coloured gradient, out of focus."""
    img = np.zeros((H, W, 3), dtype=np.uint8)
    for y in range(H):
        shade = 0.55 + 0.35 * y / H
        img[y, :] = (int(120 * shade), int(150 * shade), int(200 * shade))
    cv2.ellipse(img, (320, 200), (420, 300), 0, 0, 360, (110, 140, 190), -1)
    img = cv2.GaussianBlur(img, (0, 0), 25)
    return with_sensor_noise(img, seed, sigma=1.5)


def shifted(frame: Frame, dx: int = 60, dy: int = 25) -> Frame:
    """The camera turned: the view slides and a new strip appears at the edge."""
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    return cv2.warpAffine(frame, matrix, (W, H), borderMode=cv2.BORDER_REFLECT)


def defocused(frame: Frame, sigma: float = 6.0) -> Frame:
    return cv2.GaussianBlur(frame, (0, 0), sigma)


def person(frame: Frame, x: int, y: int = 120) -> Frame:
    """A cook (white coat, dark head) standing at x."""
    img = frame.copy()
    cv2.rectangle(img, (x - 30, y), (x + 30, y + 170), (235, 235, 235), -1)
    cv2.circle(img, (x, y - 22), 22, (60, 90, 140), -1)
    return img


def blob(frame: Frame, x: int, y: int, w: int = 18, h: int = 10) -> Frame:
    """A small animal: a dark-grey elongated blob with a tail."""
    img = frame.copy()
    cv2.ellipse(img, (x, y), (w // 2, h // 2), 0, 0, 360, (75, 75, 80), -1)
    cv2.line(img, (x - w // 2, y), (x - w, y + 3), (70, 70, 75), 2)
    return img


def normal_day(count: int, seed: int = 3) -> Iterator[Frame]:
    """A normal stretch of video: sensor noise, a small lighting flicker, a cook passing."""
    base = kitchen()
    for i in range(count):
        flicker = 1.0 + 0.06 * np.sin(i * 1.3)
        frame = np.clip(base.astype(np.float32) * flicker, 0, 255).astype(np.uint8)
        if 4 <= i % 12 <= 6:
            frame = person(frame, 80 + 20 * (i % 12))
        yield with_sensor_noise(frame, seed + i)


def write_video(path: Path, frames: list[Frame], fps: float = 10.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (W, H))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


KITCHEN_ZONES = """
zones:
  - {name: prep-1, kind: prep, polygon: [[0, 0.45], [0.53, 0.45], [0.53, 1], [0, 1]]}
  - {name: stove-1, kind: stove, polygon: [[0.54, 0.3], [1, 0.3], [1, 1], [0.54, 1]]}
"""


def kitchen_yaml(extra: str = "", *, camera_id: str = "cam-1", premises_id: str = "p-1") -> str:
    return (
        f"camera_id: {camera_id}\npremises_id: {premises_id}\ntimezone: Asia/Shanghai\n"
        + KITCHEN_ZONES
        + extra
    )
