"""Sources: a video file sampled at a rate, an image folder, and a stream that cannot be
opened (reconnect with bounded backoff; offline after N minutes on an injected clock)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest
import scenes
from local_ports import free_port

from kitchen_vision.sources import (
    Backoff,
    ImageFolderSource,
    OfflineTracker,
    SourceError,
    StreamSource,
    VideoFileSource,
    open_source,
)

START = datetime(2026, 11, 25, 9, tzinfo=UTC)


def test_a_video_file_is_sampled_at_the_configured_rate(tmp_path: Path) -> None:
    frames = [scenes.with_sensor_noise(scenes.kitchen(), i) for i in range(30)]
    for i, frame in enumerate(frames):
        cv2.putText(frame, str(i), (20, 340), cv2.FONT_HERSHEY_SIMPLEX, 1, (0, 0, 255), 2)
    video = scenes.write_video(tmp_path / "clip.avi", frames, fps=10)
    source = open_source(str(video), sample_fps=2, frame_width=320, start=START)
    assert isinstance(source, VideoFileSource) and source.step == 5 and source.samples == 6
    sampled = list(source.frames())
    assert [s.index for s in sampled] == [0, 5, 10, 15, 20, 25]
    assert [s.time for s in sampled] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5]
    assert sampled[3].wall_clock == START + timedelta(seconds=1.5)
    assert sampled[0].image.shape == (180, 320, 3)
    # The sampled frames are the right ones: frame 15 matches what was written as 15.
    written = cv2.resize(frames[15], (320, 180), interpolation=cv2.INTER_AREA)
    assert cv2.absdiff(sampled[3].image, written).mean() < 6
    other = cv2.resize(frames[16], (320, 180), interpolation=cv2.INTER_AREA)
    assert (
        cv2.absdiff(sampled[3].image, other).mean() > cv2.absdiff(sampled[3].image, written).mean()
    )


def test_an_image_folder_in_name_order(tmp_path: Path) -> None:
    for i in range(7):
        cv2.imwrite(str(tmp_path / f"img_{i:03d}.jpg"), scenes.kitchen(seed=i))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "img_999.png").write_bytes(b"broken")
    source = ImageFolderSource(tmp_path, sample_fps=1, folder_fps=2, start=START)
    sampled = list(source.frames())
    assert [s.index for s in sampled] == [0, 2, 4, 6]
    assert [s.time for s in sampled] == [0.0, 1.0, 2.0, 3.0]
    assert source.unreadable == []  # img_999 is index 7: not sampled at this rate
    every = ImageFolderSource(tmp_path, sample_fps=1, start=START)
    assert len(list(every.frames())) == 7 and [p.name for p in every.unreadable] == ["img_999.png"]
    with pytest.raises(SourceError, match="holds no images"):
        ImageFolderSource(_empty(tmp_path), sample_fps=1)
    with pytest.raises(SourceError, match="no such file"):
        open_source(str(tmp_path / "missing.mp4"), sample_fps=1)


def _empty(tmp_path: Path) -> Path:
    empty = tmp_path / "empty"
    empty.mkdir()
    return empty


class FakeClock:
    """Time that moves only when the source sleeps (the backoff waits)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_an_unreachable_stream_backs_off_then_goes_offline() -> None:
    url = f"http://127.0.0.1:{free_port()}/stream.mjpg"  # nothing listens there
    clock = FakeClock(START)
    tracker = OfflineTracker(timedelta(minutes=3), clock())
    offline: list[tuple[datetime, datetime]] = []

    def on_outage(now: datetime) -> None:
        since = tracker.check(now)
        if since is not None:
            offline.append((since, now))

    source = StreamSource(
        url,
        sample_fps=1,
        clock=clock,
        sleep=clock.sleep,
        backoff=Backoff(initial=1, factor=2, maximum=60),
        max_attempts=10,
        on_outage=on_outage,
    )
    with pytest.raises(SourceError, match="after 10 attempts"):
        list(source.frames())
    assert source.waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    # Outages are checked after each failed attempt: at 0, 1, 3, 7, 15, 31, 63, 123, 183 s...
    # the first check at or past 3 minutes reports once, with the outage's start.
    assert offline == [(START, START + timedelta(seconds=183))]
    assert tracker.frame(clock()) is True and tracker.check(clock()) is None
