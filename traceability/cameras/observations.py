"""The one interface through which the vision checker hands its results to the platform.

Of ``traceability``, the checker (``kitchen_vision``) depends on this module and
``traceability.errors`` alone: it turns what a camera's pipeline found into a
:class:`CameraBatch` of the plain data types below and gives it to an
:class:`ObservationSink`; it reads a stove probe's latest logged temperature through
:class:`StoveReadings`. The implementations (``traceability.cameras.vision_ledger``;
``traceability.public_record.stove_readings``) write the log, the evidence, the
snapshots and the alerts, and read the probe; the process entry points wire them in.

Nothing here touches a database or an image library: the types are data, the protocols
say what is called.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class SeenObservation:
    """An observation notable enough to log (the checker decides which are)."""

    type: str
    """What was seen, e.g. ``motion``, ``camera_covered``."""
    detector: str
    zone: str | None
    confidence: float | None
    at: datetime
    """When the frame was taken (aware)."""


@dataclass(frozen=True)
class EvidenceImage:
    """A JPEG kept as evidence of a violation, faces blurred by ``face_detector``."""

    jpeg: bytes
    sha256: str
    face_detector: str
    faces_blurred: int = 0


@dataclass(frozen=True)
class VisionAlert:
    """A violation the checker's rules raised: an alert to open (once while unclosed)."""

    rule: str
    alert_class: int
    camera_id: str
    premises_id: str
    zone: str | None
    started_at: datetime
    detected_at: datetime
    description: str
    measurements: dict[str, float] = field(default_factory=dict)
    snapshot: EvidenceImage | None = None
    clip: EvidenceImage | None = None
    """A pest event's contact sheet."""
    evidence_withheld: str | None = None
    """Why no evidence image was made (fail closed), if none was."""


@dataclass(frozen=True)
class PublishedSnapshot:
    """A public kitchen snapshot (faces blurred), kept by its hash for a while."""

    jpeg: bytes
    sha256: str
    taken_at: datetime
    face_detector: str


@dataclass(frozen=True)
class WithheldSnapshot:
    """A snapshot that was due but not published, and why (a short code)."""

    taken_at: datetime
    reason: str
    detector: str


@dataclass(frozen=True)
class CameraBatch:
    """One camera's results since its last batch, logged in one transaction."""

    camera_id: str
    premises_id: str
    findings: tuple[SeenObservation | VisionAlert, ...] = ()
    """Observations and violations in the order the frames produced them."""
    snapshots: tuple[PublishedSnapshot | WithheldSnapshot, ...] = ()
    frames: int = 0
    """Frames analysed for this batch."""
    newest_frame_at: datetime | None = None
    detectors: tuple[str, ...] = ()
    """The detectors that ran on the last frame (``blur:<face detector>`` last)."""
    live: bool = True
    """Frames from a live source: they count as the camera being online and may carry
    snapshots; an uploaded clip's do neither."""
    snapshot_keep_hours: float = 48.0
    """How long the camera's published snapshot images are kept."""


@dataclass
class LoggedBatch:
    """What logging one batch (or, summed, a camera's run) did."""

    events: int = 0
    observations_logged: int = 0
    alerts_opened: list[str] = field(default_factory=list)
    alert_rules: list[str] = field(default_factory=list)
    """The rule of each alert opened, in the same order."""
    snapshots_published: list[str] = field(default_factory=list)
    snapshots_withheld: list[str] = field(default_factory=list)
    already_open: list[str] = field(default_factory=list)
    evidence_sha256: list[str] = field(default_factory=list)


class ObservationSink(Protocol):
    """Where a camera's batches go: each one logged and committed, or nothing of it."""

    def record(self, batch: CameraBatch, now: datetime) -> LoggedBatch: ...


class StoveReadings(Protocol):
    """A stove probe's latest logged temperature: (measured at, °C), or None."""

    def latest(self, device_id: str) -> tuple[datetime, float] | None: ...
