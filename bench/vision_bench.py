"""Frames per second per core of the vision detectors at 640×360, next to bare decoding.

    .venv/bin/python bench/vision_bench.py [--frames 300] [--json]

Generates a 640×360 MJPG video of a drawn kitchen (noise texture, a cook
walking, a lit stove) with cv2.VideoWriter, then measures in one run and on one
thread (cv2.setNumThreads(1)):

- decoding the video (cv2.VideoCapture.read) — the floor every camera pays;
- each detector alone on the decoded frames: tamper, motion (MOG2, 2 zones),
  flame colour, faces and mask (when kitchen_vision.faces / masks exist);
- the whole pipeline (enabled detectors + rules, evidence only when a rule fires).

From these it states how many cameras sampled at 1 frame/s one core can watch,
for a source that must be decoded in full at 25 frames/s (H.264/RTSP: every frame
is decoded even if one a second is analysed) and for a 1 frame/s source.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kitchen_vision.config import parse_config
from kitchen_vision.evidence import load_face_detector
from kitchen_vision.flame import FlameRegionDetector
from kitchen_vision.motion import MotionDetector
from kitchen_vision.observations import Detector, Frame, FrameContext
from kitchen_vision.pipeline import Pipeline
from kitchen_vision.sources import SampledFrame
from kitchen_vision.tamper import TamperDetector

W, H = 640, 360
CONFIG = """
camera_id: bench
premises_id: p-bench
timezone: UTC
opening_hours: ["00:00-24:00"]
rules: [tamper, motion, pest, unattended_flame, faces, mask]
zones:
  - {name: prep-1, kind: prep, polygon: [[0, 0.45], [0.53, 0.45], [0.53, 1], [0, 1]]}
  - {name: stove-1, kind: stove, polygon: [[0.54, 0.3], [1, 0.3], [1, 1], [0.54, 1]]}
stove: {zone: stove-1, flame_region: [[0.6, 0.5], [0.9, 0.5], [0.9, 0.9], [0.6, 0.9]]}
"""


def kitchen(rng: np.random.Generator, cook_x: int | None) -> Frame:
    img = np.full((H, W, 3), (200, 205, 210), dtype=np.uint8)
    for x in range(0, W, 32):
        cv2.line(img, (x, 0), (x, 160), (170, 175, 180), 1)
    cv2.rectangle(img, (20, 40), (300, 52), (60, 90, 120), -1)
    for x in range(30, 290, 36):
        cv2.rectangle(img, (x, 10), (x + 22, 40), (40, 120, 200), -1)
    cv2.rectangle(img, (10, 175), (330, 350), (150, 160, 170), -1)
    cv2.rectangle(img, (352, 162), (608, 342), (45, 45, 50), -1)
    for cx, cy in ((420, 210), (540, 210), (420, 290), (540, 290)):
        cv2.circle(img, (cx, cy), 34, (20, 20, 20), -1)
    cv2.circle(img, (420, 210), 22, (0, 140, 255), -1)
    if cook_x is not None:
        cv2.rectangle(img, (cook_x - 30, 120), (cook_x + 30, 290), (235, 235, 235), -1)
        cv2.circle(img, (cook_x, 98), 22, (60, 90, 140), -1)
    noise = rng.normal(0, 6, img.shape)
    return np.clip(img.astype(np.float32) + noise, 0, 255).astype(np.uint8)


def make_video(path: Path, frames: int) -> None:
    rng = np.random.default_rng(1)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (W, H))
    for i in range(frames):
        cook = 60 + (i * 7) % 500 if (i // 50) % 2 == 0 else None
        writer.write(kitchen(rng, cook))
    writer.release()


def decode(path: Path) -> tuple[list[Frame], float]:
    capture = cv2.VideoCapture(str(path))
    frames: list[Frame] = []
    started = time.perf_counter()
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.asarray(frame, dtype=np.uint8))
    elapsed = time.perf_counter() - started
    capture.release()
    return frames, elapsed


def rate(frames: list[Frame], make: Callable[[], Detector | list[Detector]]) -> float:
    """Frames per second of ``make()``'s detector(s), best of three passes."""
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    best = []
    for _ in range(3):
        made = make()
        detectors = made if isinstance(made, list) else [made]
        started = time.perf_counter()
        for i, frame in enumerate(frames):
            context = FrameContext("bench", i, i / 25, now)
            for detector in detectors:
                detector.observe(frame, context)
        best.append(len(frames) / (time.perf_counter() - started))
    return max(best)


def pipeline_rate(frames: list[Frame], face_detector: Detector | None) -> float:
    raw = yaml.safe_load(CONFIG)
    if face_detector is None:
        raw["rules"] = [r for r in raw["rules"] if r not in ("faces", "mask")]
    config = parse_config(raw)
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    best = []
    for _ in range(3):
        pipeline = Pipeline(config, face_detector=face_detector)
        started = time.perf_counter()
        for i, frame in enumerate(frames):
            pipeline.process(SampledFrame(i, i / 25, frame, now))
        best.append(len(frames) / (time.perf_counter() - started))
    return max(best)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    config = parse_config(yaml.safe_load(CONFIG))
    stove = config.stove
    assert stove is not None and stove.flame_region is not None
    flame_region = stove.flame_region
    results: dict[str, float | str | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "kitchen.avi"
        make_video(video, args.frames)
        decodes = []
        frames: list[Frame] = []
        for _ in range(3):
            frames, elapsed = decode(video)
            decodes.append(len(frames) / elapsed)
    results["decode_mjpg_640x360"] = max(decodes)
    results["tamper"] = rate(frames, lambda: TamperDetector())
    results["motion_mog2"] = rate(frames, lambda: MotionDetector(config.zones))
    results["flame_colour"] = rate(
        frames, lambda: FlameRegionDetector(flame_region, "stove-1", 0.08)
    )
    results["tamper+motion"] = rate(
        frames, lambda: [TamperDetector(), MotionDetector(config.zones)]
    )
    faces = load_face_detector()
    results["face_detector"] = None if faces is None else faces.name
    if faces is not None:
        results["faces"] = rate(frames, lambda: faces)
        try:
            from kitchen_vision.masks import MaskDetector

            results["faces+mask"] = rate(frames, lambda: MaskDetector(faces))  # type: ignore[arg-type]
        except ImportError:
            results["faces+mask"] = None
    results["pipeline_without_faces"] = pipeline_rate(frames, None)
    results["pipeline"] = pipeline_rate(frames, faces)
    decode_s = 1 / float(results["decode_mjpg_640x360"] or 1)
    pipeline_s = 1 / float(results["pipeline"] or 1)
    results["cameras_per_core_1fps_of_25fps_stream"] = round(1 / (pipeline_s + 25 * decode_s), 1)
    results["cameras_per_core_1fps_source"] = round(1 / (pipeline_s + decode_s), 1)
    results["machine"] = f"{cpu_model()}, {os.cpu_count()} CPUs, {platform.machine()}"
    results["opencv"] = cv2.__version__
    results["frames"] = len(frames)
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"| measure (640×360, 1 thread, {len(frames)} frames) | frames/s/core |")
    print("|---|---:|")
    for key, value in results.items():
        if isinstance(value, float):
            print(f"| {key} | {value:,.1f} |")
    print()
    for key in (
        "face_detector",
        "cameras_per_core_1fps_of_25fps_stream",
        "cameras_per_core_1fps_source",
        "opencv",
        "machine",
    ):
        print(f"- {key}: {results[key]}")


if __name__ == "__main__":
    main()
