"""The demo's files in the data directory: the marker a finished seeding leaves (with its
summary), the clips, and ``--reset`` removing them (nothing else)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from traceability.demo import clips
from traceability.errors import Invalid

MARKER_FILE = "demo-city.json"
MARKER_FORMAT = "sunledger-demo-city/1"
CLIPS_DIR = "demo-clips"
DATA_FILES = (
    "sunledger.db",
    "sunledger.db-wal",
    "sunledger.db-shm",
    "log-signing.key",
    "embedded-chain.jsonl",
    "celerybeat-schedule",
    MARKER_FILE,
    "demo-keys.json",
    "demo-device-keys.json",
    "demo-server.log",
)
"""The demo's files in the data directory (``--reset`` removes these and ``demo-clips/``)."""


@dataclass
class SeedSummary:
    """What a seeding did (or, for a city seeded before, what the marker says)."""

    seeded_at: str
    premises: int = 0
    districts: int = 0
    devices: int = 0
    cameras: int = 0
    readings: int = 0
    records: int = 0
    inspections: int = 0
    grades: int = 0
    alerts: dict[str, int] = field(default_factory=dict)
    vision: str = "not run"
    events: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return dict(vars(self))


def marker(data_dir: Path) -> SeedSummary | None:
    """The summary a finished seeding left in ``data_dir``, if any."""
    path = data_dir / MARKER_FILE
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.pop("format") != MARKER_FORMAT:
            raise ValueError
        return SeedSummary(**document)
    except (ValueError, TypeError, KeyError):
        raise Invalid(f"{path} is not a {MARKER_FORMAT} file (run with --reset)") from None


def write_marker(data_dir: Path, summary: SeedSummary) -> None:
    """Mark the seeding finished (what :func:`marker` reads)."""
    document = {"format": MARKER_FORMAT, **summary.to_json()}
    (data_dir / MARKER_FILE).write_text(json.dumps(document, indent=1) + "\n")


def reset(data_dir: Path) -> list[str]:
    """Remove the demo's files from ``data_dir`` (nothing else); return what was removed."""
    removed = []
    for name in DATA_FILES:
        path = data_dir / name
        if path.exists() or path.is_symlink():
            path.unlink()
            removed.append(name)
    clip_dir = data_dir / CLIPS_DIR
    if clip_dir.is_dir():
        for kind in clips.CLIPS:
            (clip_dir / f"{kind}.avi").unlink(missing_ok=True)
        for leftover in clip_dir.glob(".*.partial.avi"):
            leftover.unlink()
        try:
            clip_dir.rmdir()
            removed.append(CLIPS_DIR + "/")
        except OSError:
            pass  # someone else's file is in there: leave it
    return removed


def clip_path(data_dir: Path, kind: str) -> Path:
    return data_dir / CLIPS_DIR / f"{kind}.avi"
