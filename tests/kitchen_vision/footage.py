"""Real footage and physically modelled tampering, for the tamper tests and bench/vision_eval.py.

The clips under ``data/real`` are excerpts of real camera footage (``data/SOURCES.md``),
each one shot from a (nearly) still camera. A scene is played at any sampling
rate by ping-ponging through its frames, so a two-second excerpt gives a long normal
stretch without a cut, and every sample gets its own sensor noise.

The view the camera sees is the central 75 % of the excerpt, so that a camera turning
pans onto real content instead of an invented border. The tampers, applied to real
frames, each a function of the seconds since its onset:

- ``wrap``: cling film over the lens, put on over one second: diffusion (a blur),
  scattered light (a bright veil) and the contrast and colour lost under it.
- ``hand``: a palm coming over the lens: a dark, out-of-focus, skin-coloured blob
  entering from a corner and filling the picture within a second.
- ``cap``: a lens cap or tape: black with sensor noise.
- ``turn``: the camera turned: a perspective pan over three seconds to a quarter of
  the width away, then still.
- ``defocus``: the focus ring turned at once (Gaussian blur, sigma 2.5 px at 240 wide).
- ``gradual_defocus``: the same blur growing from nothing over 20 seconds.

And the things that must raise nothing: ``lights`` (off for six seconds, on again),
``steam`` (a white plume drifting over the lower part), ``flicker`` (±12 % mains
beat) and the clips as they are (people, traffic).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from kitchen_vision.observations import Frame

REAL = Path(__file__).resolve().parent / "data" / "real"
CLIPS = ("street", "pedestrian", "carphone")
SOURCE_FPS = 25.0
VIEW = 0.75

Model = Callable[[Frame, float, float], Frame]
"""(frame of the whole excerpt, seconds since onset, seconds since the start) -> the view."""


@cache
def rate(name: str) -> float:
    capture = cv2.VideoCapture(str(REAL / f"{name}.mp4"))
    fps = float(capture.get(cv2.CAP_PROP_FPS)) or SOURCE_FPS
    capture.release()
    return fps


@cache
def clip(name: str) -> tuple[Frame, ...]:
    capture = cv2.VideoCapture(str(REAL / f"{name}.mp4"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    if not frames:
        raise FileNotFoundError(f"{REAL / name}.mp4: no frames (run data/make_clips.py)")
    return tuple(frames)


def source_frame(name: str, t: float) -> Frame:
    """The excerpt's frame at t seconds, ping-ponging back and forth through the shot."""
    frames = clip(name)
    n = len(frames)
    k = int(round(t * rate(name))) % (2 * n - 2)
    return frames[k if k < n else 2 * n - 2 - k]


def view(frame: Frame, pan: float = 0.0) -> Frame:
    """The camera's view: the central 75 %, panned by ``pan`` (0..1 of the free margin)
    with the slight keystone of a camera rotating about its vertical axis."""
    h, w = frame.shape[:2]
    vw, vh = int(w * VIEW), int(h * VIEW)
    x0 = (w - vw) / 2 + pan * (w - vw) / 2
    y0 = (h - vh) / 2
    k = 0.04 * pan * vh
    src = np.float32([[x0, y0 - k], [x0 + vw, y0 + k], [x0 + vw, y0 + vh - k], [x0, y0 + vh + k]])
    dst = np.float32([[0, 0], [vw, 0], [vw, vh], [0, vh]])
    matrix = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(frame, matrix, (vw, vh), borderMode=cv2.BORDER_REPLICATE)


def noisy(frame: Frame, seed: int, sigma: float = 2.0) -> Frame:
    rng = np.random.default_rng(seed)
    out = frame.astype(np.float32) + rng.normal(0, sigma, frame.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def _ramp(dt: float, seconds: float) -> float:
    return float(min(1.0, max(0.0, dt / seconds)))


def none(frame: Frame, dt: float, t: float) -> Frame:
    return view(frame)


def wrap(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame).astype(np.float32)
    r = _ramp(dt, 1.0)
    if r == 0:
        return v.astype(np.uint8)
    blurred = cv2.GaussianBlur(v, (0, 0), 0.5 + 3.5 * r)
    grey = blurred.mean(axis=2, keepdims=True)
    desaturated = grey + (blurred - grey) * (1 - 0.6 * r)
    mean = float(desaturated.mean())
    flattened = mean + (desaturated - mean) * (1 - 0.7 * r)
    veil = np.array([228, 226, 222], np.float32)
    out = (1 - 0.5 * r) * flattened + 0.5 * r * veil
    return np.clip(out, 0, 255).astype(np.uint8)


def hand(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame).astype(np.float32)
    r = _ramp(dt, 1.0)
    if r == 0:
        return v.astype(np.uint8)
    h, w = v.shape[:2]
    mask = np.zeros((h, w), np.float32)
    # From the lower right corner to beyond the whole picture.
    cx, cy = int(w * (1.1 - 0.6 * r)), int(h * (1.2 - 0.7 * r))
    cv2.ellipse(mask, (cx, cy), (int(w * 1.3 * r), int(h * 1.3 * r)), -20, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), w / 20)[:, :, None]
    yy = np.linspace(0.6, 1.0, h, dtype=np.float32)[:, None, None]
    skin = np.array([70, 95, 135], np.float32)[None, None, :] * yy * np.ones((1, w, 1), np.float32)
    out = v * (1 - mask) + skin * mask
    return np.clip(out, 0, 255).astype(np.uint8)


def cap(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame)
    if dt < 0:
        return v
    return np.full_like(v, 4)


def turn(frame: Frame, dt: float, t: float) -> Frame:
    return view(frame, pan=_ramp(dt, 3.0))


def defocus(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame)
    return v if dt < 0 else cv2.GaussianBlur(v, (0, 0), 2.5)


def gradual_defocus(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame)
    sigma = 3.0 * _ramp(dt, 20.0)
    return v if sigma < 0.05 else cv2.GaussianBlur(v, (0, 0), sigma)


def lights(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame)
    if 0 <= dt < 6:
        # Off: a little light from elsewhere, the camera's gain up (more noise).
        dark = v.astype(np.float32) * 0.15
        return noisy(np.clip(dark, 0, 255).astype(np.uint8), int(t * 1000), sigma=3.0)
    return v


def steam(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame).astype(np.float32)
    h, w = v.shape[:2]
    mask = np.zeros((h, w), np.float32)
    rise = (t * 0.15) % 1.0
    for i in range(3):
        x = int(w * (0.3 + 0.15 * i + 0.05 * np.sin(t * 1.3 + i)))
        y = int(h * (1.0 - 0.5 * ((rise + i / 3) % 1.0)))
        cv2.circle(mask, (x, y), int(h * 0.25), 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), h / 10)[:, :, None] * 0.55
    out = v * (1 - mask) + 235 * mask
    return np.clip(out, 0, 255).astype(np.uint8)


def flicker(frame: Frame, dt: float, t: float) -> Frame:
    v = view(frame).astype(np.float32) * (1 + 0.12 * np.sin(2 * np.pi * 1.7 * t))
    return np.clip(v, 0, 255).astype(np.uint8)


TAMPERS: dict[str, tuple[Model, str]] = {
    "wrap": (wrap, "camera_covered"),
    "hand": (hand, "camera_covered"),
    "cap": (cap, "camera_covered"),
    "turn": (turn, "camera_moved"),
    "defocus": (defocus, "camera_defocused"),
    "gradual_defocus": (gradual_defocus, "camera_defocused"),
}
NORMALS: dict[str, Model] = {
    "none": none,
    "lights": lights,
    "steam": steam,
    "flicker": flicker,
}


def sample(name: str, model: Model, t: float, onset: float, seed: int) -> Frame:
    """One sampled frame of a scene: the clip at t, the model applied, sensor noise."""
    return noisy(model(source_frame(name, t), t - onset, t), seed)
