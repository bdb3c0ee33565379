"""Handing a camera's results to the platform: which of them are logged, as the plain data
of ``traceability.cameras.observations`` (the one interface this package logs through).

What is handed in (the policy):

- every violation, with its evidence (the blurred snapshot, and a pest event's
  blurred contact sheet) or why none was kept;
- the first observation of each *episode* of a type in a zone (the type unseen
  there for ``episode_gap_seconds`` before); not every frame. Faces and people
  are never logged as observations (they say nothing a violation does not, and
  are about persons); motion only while the kitchen is closed;
- the snapshots taken, published or withheld, and what the camera's registry
  entry counts: frames analysed, the newest frame's time, the detectors that ran.

The sink logs a batch in one transaction (see ``traceability.cameras.vision_ledger``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from kitchen_vision.config import CameraConfig
from kitchen_vision.observations import Observation
from kitchen_vision.pipeline import FrameResult
from kitchen_vision.rules import Evidence, VisionViolation
from kitchen_vision.snapshots import KitchenSnapshot, SnapshotWithheld
from traceability.cameras.observations import (
    CameraBatch,
    EvidenceImage,
    LoggedBatch,
    ObservationSink,
    PublishedSnapshot,
    SeenObservation,
    VisionAlert,
    WithheldSnapshot,
)

NEVER_LOGGED = frozenset({"face", "person"})
SNAPSHOT_KEEP_HOURS = 48.0
"""How long snapshot images are kept when the configuration does not say."""


class ObservationDigest:
    """Decides which observations are notable enough to log (see the module doc)."""

    def __init__(self, config: CameraConfig) -> None:
        self.config = config
        self.gap = timedelta(seconds=config.thresholds.episode_gap_seconds)
        self._last: dict[tuple[str, str | None], datetime] = {}

    def notable(self, obs: Observation, at: datetime) -> bool:
        if obs.type in NEVER_LOGGED:
            return False
        if obs.type == "motion":
            local = at.astimezone(self.config.zone_info)
            if self.config.opening_hours.is_open(local):
                return False
        key = (obs.type, obs.zone)
        previous = self._last.get(key)
        self._last[key] = at
        return previous is None or at - previous > self.gap


def evidence_image(evidence: Evidence) -> EvidenceImage:
    faces = evidence.metadata.get("faces_blurred", 0)
    return EvidenceImage(
        jpeg=evidence.jpeg,
        sha256=evidence.sha256,
        face_detector=str(evidence.metadata["face_detector"]),
        faces_blurred=faces if isinstance(faces, int) else 0,
    )


def vision_alert(v: VisionViolation) -> VisionAlert:
    return VisionAlert(
        rule=v.rule,
        alert_class=v.alert_class,
        camera_id=v.camera_id,
        premises_id=v.premises_id,
        zone=v.zone,
        started_at=v.started_at,
        detected_at=v.detected_at,
        description=v.description,
        measurements=dict(v.measurements),
        snapshot=None if v.snapshot is None else evidence_image(v.snapshot),
        clip=None if v.clip is None else evidence_image(v.clip),
        evidence_withheld=v.evidence_withheld,
    )


def snapshot_taken(
    snapshot: KitchenSnapshot | SnapshotWithheld,
) -> PublishedSnapshot | WithheldSnapshot:
    if isinstance(snapshot, SnapshotWithheld):
        return WithheldSnapshot(snapshot.taken_at, snapshot.reason, snapshot.detector)
    return PublishedSnapshot(
        jpeg=snapshot.jpeg,
        sha256=snapshot.sha256,
        taken_at=snapshot.taken_at,
        face_detector=snapshot.face_detector,
    )


class CameraReport:
    """One camera's results as batches for the sink; remembers episodes across batches."""

    def __init__(self, config: CameraConfig, *, live: bool = True) -> None:
        self.config = config
        self.live = live
        """Frames from a live source count as the camera being online; an uploaded clip's not."""
        self.digest = ObservationDigest(config)

    def batch(
        self, results: Sequence[FrameResult], offline: Sequence[VisionViolation] = ()
    ) -> CameraBatch:
        findings: list[SeenObservation | VisionAlert] = []
        for result in results:
            for obs in result.observations:
                if self.digest.notable(obs, result.wall_clock):
                    findings.append(
                        SeenObservation(
                            type=obs.type,
                            detector=obs.detector,
                            zone=obs.zone,
                            confidence=obs.confidence,
                            at=result.wall_clock,
                        )
                    )
            findings += [vision_alert(v) for v in result.violations]
        findings += [vision_alert(v) for v in offline]
        snapshot = self.config.snapshot
        return CameraBatch(
            camera_id=self.config.camera_id,
            premises_id=self.config.premises_id,
            findings=tuple(findings),
            snapshots=tuple(snapshot_taken(r.snapshot) for r in results if r.snapshot is not None),
            frames=len(results),
            newest_frame_at=max((r.wall_clock for r in results), default=None),
            detectors=results[-1].detectors if results else (),
            live=self.live,
            snapshot_keep_hours=SNAPSHOT_KEEP_HOURS if snapshot is None else snapshot.keep_hours,
        )


class CameraLogger:
    """A camera's report handed to a sink: ``record`` logs one batch of results."""

    def __init__(self, report: CameraReport, sink: ObservationSink) -> None:
        self.report = report
        self.sink = sink

    def record(
        self,
        results: Sequence[FrameResult],
        now: datetime,
        *,
        offline: Sequence[VisionViolation] = (),
    ) -> LoggedBatch:
        return self.sink.record(self.report.batch(results, offline), now)
