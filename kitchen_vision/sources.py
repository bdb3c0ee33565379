"""Frame sources: video files, image folders and live streams, sampled at a per-camera rate.

Every source yields ``SampledFrame``s resized to the configured width. Files are
sampled by their own clock (every n-th frame for a rate of fps/n; skipped frames
are only grabbed, not converted); streams by the wall clock. A stream that cannot
be opened or stops delivering is reopened with exponential backoff, and
``OfflineTracker`` turns a long outage into one ``camera_offline`` violation.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol, cast

import cv2
import numpy as np

from kitchen_vision.observations import Frame
from traceability.errors import Invalid

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
DEFAULT_FPS = 25.0
OPEN_TIMEOUT_MS = 5000
READ_TIMEOUT_MS = 5000

Clock = Callable[[], datetime]


class SourceError(Invalid):
    """A source that cannot be read (the message names it)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class SampledFrame:
    index: int
    """Index of the frame in its source, counting every decoded frame (0-based)."""
    time: float
    """Seconds from the start of the file, or since the stream first opened."""
    image: Frame
    wall_clock: datetime
    """When the frame was taken: the stream's receive time, or a file's start time + position."""


def resized(image: Frame, width: int) -> Frame:
    height, current = image.shape[:2]
    if current == width:
        return image
    size = (width, max(1, round(height * width / current)))
    interpolation = cv2.INTER_AREA if current > width else cv2.INTER_LINEAR
    return np.asarray(cv2.resize(image, size, interpolation=interpolation), dtype=np.uint8)


class FrameSource(Protocol):
    def frames(self) -> Iterator[SampledFrame]: ...


def _step(source_fps: float, sample_fps: float) -> int:
    return max(1, round(source_fps / sample_fps))


class VideoFileSource:
    def __init__(
        self,
        path: Path,
        *,
        sample_fps: float,
        frame_width: int = 640,
        start: datetime | None = None,
    ) -> None:
        self.path = path
        self.sample_fps = sample_fps
        self.frame_width = frame_width
        self.start = start or utc_now()
        capture = cv2.VideoCapture(str(path))
        try:
            if not capture.isOpened():
                raise SourceError(f"{path}: cannot be opened as a video")
            fps = capture.get(cv2.CAP_PROP_FPS)
            self.fps = fps if fps and math.isfinite(fps) and fps > 0 else DEFAULT_FPS
            count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
            self.frame_count = count if count > 0 else None
        finally:
            capture.release()
        self.step = _step(self.fps, sample_fps)

    @property
    def samples(self) -> int | None:
        """How many frames will be analysed (for a progress bar), when the file says."""
        return None if self.frame_count is None else math.ceil(self.frame_count / self.step)

    def frames(self) -> Iterator[SampledFrame]:
        capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise SourceError(f"{self.path}: cannot be opened as a video")
        try:
            index = 0
            while True:
                if index % self.step:
                    if not capture.grab():
                        return
                    index += 1
                    continue
                ok, image = capture.read()
                if not ok or image is None:
                    return
                seconds = index / self.fps
                yield SampledFrame(
                    index,
                    seconds,
                    resized(np.asarray(image, dtype=np.uint8), self.frame_width),
                    self.start + timedelta(seconds=seconds),
                )
                index += 1
        finally:
            capture.release()


class ImageFolderSource:
    """Images in name order, taken as frames ``folder_fps`` apart (default: one per sample)."""

    def __init__(
        self,
        folder: Path,
        *,
        sample_fps: float,
        folder_fps: float | None = None,
        frame_width: int = 640,
        start: datetime | None = None,
    ) -> None:
        self.folder = folder
        self.files = sorted(
            p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not self.files:
            raise SourceError(f"{folder}: holds no images ({', '.join(IMAGE_SUFFIXES)})")
        self.fps = folder_fps or sample_fps
        self.step = _step(self.fps, sample_fps)
        self.frame_width = frame_width
        self.start = start or utc_now()
        self.unreadable: list[Path] = []

    @property
    def samples(self) -> int:
        return math.ceil(len(self.files) / self.step)

    def frames(self) -> Iterator[SampledFrame]:
        for index in range(0, len(self.files), self.step):
            path = self.files[index]
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self.unreadable.append(path)
                continue
            seconds = index / self.fps
            yield SampledFrame(
                index,
                seconds,
                resized(np.asarray(image, dtype=np.uint8), self.frame_width),
                self.start + timedelta(seconds=seconds),
            )


@dataclass(frozen=True)
class Backoff:
    initial: float = 1.0
    factor: float = 2.0
    maximum: float = 60.0

    def delays(self) -> Iterator[float]:
        delay = self.initial
        while True:
            yield delay
            delay = min(self.maximum, delay * self.factor)


class Capture(Protocol):
    def isOpened(self) -> bool: ...
    def grab(self) -> bool: ...
    def retrieve(self) -> tuple[bool, Frame]: ...
    def release(self) -> None: ...


def open_stream(url: str) -> Capture:
    """``cv2.VideoCapture`` on a URL with open and read timeouts (FFmpeg back end)."""
    timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS]
    timeouts += [cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
    capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG, timeouts)
    return cast(Capture, capture)


class StreamSource:
    """A live stream (RTSP, HTTP MJPEG/HLS, ...), reopened with backoff when it drops.

    ``max_attempts`` bounds consecutive failed opens (None: keep trying until
    ``stop`` is set); ``on_outage(now)`` is called after every failed attempt, so
    the caller can raise an offline alert while the source is still retrying.
    """

    def __init__(
        self,
        url: str,
        *,
        sample_fps: float,
        frame_width: int = 640,
        clock: Clock = utc_now,
        backoff: Backoff | None = None,
        max_attempts: int | None = None,
        opener: Callable[[str], Capture] = open_stream,
        on_outage: Callable[[datetime], None] | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.url = url
        self.sample_fps = sample_fps
        self.frame_width = frame_width
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.opener = opener
        self.on_outage = on_outage
        self.stop = stop or threading.Event()
        self.sleep = sleep or self.stop.wait
        self.waits: list[float] = []
        """Every backoff delay slept, in order (what a test or a status page reads)."""

    def frames(self) -> Iterator[SampledFrame]:
        index = 0
        first: datetime | None = None
        failures = 0
        delays = self.backoff.delays()
        interval = timedelta(seconds=1 / self.sample_fps)
        while not self.stop.is_set():
            capture = self.opener(self.url)
            if not capture.isOpened():
                capture.release()
                failures += 1
                if self.on_outage is not None:
                    self.on_outage(self.clock())
                if self.max_attempts is not None and failures >= self.max_attempts:
                    raise SourceError(f"{self.url}: could not be opened after {failures} attempts")
                delay = next(delays)
                self.waits.append(delay)
                self.sleep(delay)
                continue
            failures = 0
            delays = self.backoff.delays()
            last: datetime | None = None
            try:
                while not self.stop.is_set():
                    if not capture.grab():
                        break  # dropped: reopen
                    now = self.clock()
                    index += 1
                    if last is not None and now - last < interval:
                        continue
                    ok, image = capture.retrieve()
                    if not ok:
                        break
                    first = first or now
                    last = now
                    yield SampledFrame(
                        index - 1,
                        (now - first).total_seconds(),
                        resized(image, self.frame_width),
                        now,
                    )
            finally:
                capture.release()


class OfflineTracker:
    """No frame for ``offline_after`` → one offline report, until frames come back."""

    def __init__(self, offline_after: timedelta, started: datetime) -> None:
        self.offline_after = offline_after
        self.last_frame_at = started
        self.reported = False

    def frame(self, now: datetime) -> bool:
        """A frame arrived; True when it ends a reported outage."""
        self.last_frame_at = now
        back, self.reported = self.reported, False
        return back

    def check(self, now: datetime) -> datetime | None:
        """The outage's start if it just became long enough to report, else None."""
        if self.reported or now - self.last_frame_at < self.offline_after:
            return None
        self.reported = True
        return self.last_frame_at


def is_stream(spec: str) -> bool:
    return "://" in spec and not spec.startswith("file://")


def open_source(
    spec: str,
    *,
    sample_fps: float,
    frame_width: int = 640,
    start: datetime | None = None,
) -> VideoFileSource | ImageFolderSource | StreamSource:
    """The source a path or URL names: a stream URL, an image folder or a video file."""
    if is_stream(spec):
        return StreamSource(spec, sample_fps=sample_fps, frame_width=frame_width)
    path = Path(spec.removeprefix("file://"))
    if path.is_dir():
        return ImageFolderSource(path, sample_fps=sample_fps, frame_width=frame_width, start=start)
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    return VideoFileSource(path, sample_fps=sample_fps, frame_width=frame_width, start=start)
