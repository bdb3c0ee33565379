"""The checker for one camera: detectors on every sampled frame, then the rules.

``Pipeline.process`` runs the enabled detectors on a frame, hands their
observations to the camera's ``RuleBook`` and attaches evidence to each
violation: a snapshot with faces blurred, and for a suspected pest a contact
sheet of the event window (its SHA-256 is the clip's hash). ``analyze`` does
this over a file, folder or stream and yields the observations, each violation
as one more observation of type ``violation``.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

from kitchen_vision.config import CameraConfig, default_config
from kitchen_vision.evidence import EvidenceMaker, load_blurring_detector, load_face_detector
from kitchen_vision.flame import FlameRegionDetector
from kitchen_vision.motion import MotionDetector
from kitchen_vision.observations import Detector, Frame, FrameContext, Observation
from kitchen_vision.rules import RuleBook, StoveProbe, VisionViolation
from kitchen_vision.snapshots import KitchenSnapshot, SnapshotPublisher, SnapshotWithheld
from kitchen_vision.sources import SampledFrame, open_source
from kitchen_vision.tamper import TamperDetector

CLIP_BEFORE = timedelta(seconds=2)
CLIP_FRAMES = 24
"""At most this many recent frames are kept for a pest clip (a bounded window)."""


class _Auto:
    """Marker: find a face detector in ``kitchen_vision.faces`` if there is one."""


AUTO = _Auto()


@dataclass(frozen=True)
class FrameResult:
    index: int
    time: float
    wall_clock: datetime
    observations: list[Observation]
    violations: list[VisionViolation] = field(default_factory=list)
    detectors: tuple[str, ...] = ()
    """The detectors that ran on the frame, then ``blur:<face detector>`` for the evidence."""
    snapshot: KitchenSnapshot | SnapshotWithheld | None = None
    """A public kitchen snapshot taken on this frame, or why it was withheld."""


def _part_b(module: str, names: Sequence[str], *args: object) -> Detector | None:
    """A detector from an optional module (faces, masks, clothes, yolo) if it offers one."""
    try:
        found = importlib.import_module(f"kitchen_vision.{module}")
    except ImportError:
        return None
    for name in names:
        factory = getattr(found, name, None)
        if callable(factory):
            detector = factory(*args)
            return detector if hasattr(detector, "observe") else None
    return None


def build_detectors(config: CameraConfig, face_detector: Detector | None) -> list[Detector]:
    """The detectors the camera's rules need, cheapest first."""
    detectors: list[Detector] = []
    t = config.thresholds
    if config.enabled("tamper"):
        detectors.append(
            TamperDetector(
                confirm_frames=t.tamper_confirm_frames,
                warmup_frames=t.tamper_warmup_frames,
                confirm_s=t.tamper_confirm_seconds,
                horizon_s=t.tamper_horizon_minutes * 60,
            )
        )
    wants_motion = any(config.enabled(r) for r in ("motion", "pest", "unattended_flame"))
    if wants_motion and config.zones:
        detectors.append(
            MotionDetector(
                config.zones, min_blob_px=t.motion_min_blob_px, warmup_frames=t.motion_warmup_frames
            )
        )
    stove = config.stove
    if config.enabled("unattended_flame") and stove is not None and stove.flame_region:
        detectors.append(
            FlameRegionDetector(stove.flame_region, stove.zone, stove.flame_min_fraction)
        )
    mask = None
    if config.enabled("mask"):
        mask = _part_b("masks", ("load_mask_detector", "MaskDetector"), face_detector)
    if mask is not None:
        detectors.append(mask)  # it reports every face it finds, as mask or no_mask
    elif config.enabled("faces") and face_detector is not None:
        detectors.append(face_detector)
    if config.enabled("work_clothes") and config.work_clothes_colour is not None:
        clothes = _part_b(
            "clothes", ("load_clothes_detector", "WorkClothesDetector"), config, face_detector
        )
        if clothes is not None:
            detectors.append(clothes)
    if config.enabled("yolo") and config.yolo_model is not None:
        yolo = _part_b("yolo", ("load_yolo_detector",), config)
        if yolo is not None:
            detectors.append(yolo)
    return detectors


class Pipeline:
    def __init__(
        self,
        config: CameraConfig,
        *,
        detectors: Sequence[Detector] | None = None,
        face_detector: Detector | None | _Auto = AUTO,
        stove_probe: StoveProbe | None = None,
    ) -> None:
        self.config = config
        unavailable = None
        if isinstance(face_detector, _Auto):
            model = None if config.face_model is None else Path(config.face_model)
            faces = load_face_detector(model)
            blurring, unavailable = load_blurring_detector(model)
        else:
            faces = blurring = face_detector
        self.face_detector = blurring
        """The detector whose faces the evidence blurs (None: no evidence image is made)."""
        self.detectors = (
            list(detectors) if detectors is not None else build_detectors(config, faces)
        )
        self.rules = RuleBook(config, stove_probe)
        self.evidence = EvidenceMaker(blurring, unavailable=unavailable)
        self._recent: deque[tuple[Frame, FrameContext]] = deque(maxlen=CLIP_FRAMES)
        self.snapshots = (
            SnapshotPublisher(config, blurring) if config.snapshot is not None else None
        )

    @property
    def detector_names(self) -> tuple[str, ...]:
        blur = self.face_detector.name if self.face_detector is not None else "none"
        return (*(d.name for d in self.detectors), f"blur:{blur}")

    def context(self, sampled: SampledFrame) -> FrameContext:
        return FrameContext(
            camera_id=self.config.camera_id,
            frame=sampled.index,
            time=sampled.time,
            wall_clock=sampled.wall_clock,
            frame_size=(sampled.image.shape[1], sampled.image.shape[0]),
        )

    def process(self, sampled: SampledFrame) -> FrameResult:
        context = self.context(sampled)
        observations: list[Observation] = []
        for detector in self.detectors:
            observations += detector.observe(sampled.image, context)
        self._recent.append((sampled.image, context))
        violations = [
            self._with_evidence(v, sampled.image, context)
            for v in self.rules.judge(observations, context)
        ]
        snapshot = None
        if self.snapshots is not None and self.snapshots.due(context.wall_clock):
            snapshot = self.snapshots.take(sampled.image, context)
        return FrameResult(
            sampled.index,
            sampled.time,
            sampled.wall_clock,
            observations,
            violations,
            self.detector_names,
            snapshot,
        )

    def _with_evidence(
        self, violation: VisionViolation, image: Frame, context: FrameContext
    ) -> VisionViolation:
        if self.evidence.unavailable is not None:  # fail closed: no unblurred picture
            return replace(violation, evidence_withheld=self.evidence.unavailable)
        snapshot = self.evidence.snapshot(image, context)
        clip = None
        if violation.wants_clip:
            since = violation.started_at - CLIP_BEFORE
            window = [(f, c) for f, c in self._recent if c.wall_clock >= since]
            clip = self.evidence.clip(window or [(image, context)])
        return replace(violation, snapshot=snapshot, clip=clip)

    def run(self, frames: Iterable[SampledFrame]) -> Iterator[FrameResult]:
        for sampled in frames:
            yield self.process(sampled)


def analyze(
    path: str | Path,
    config: CameraConfig | None = None,
    *,
    detectors: Sequence[Detector] | None = None,
    face_detector: Detector | None | _Auto = AUTO,
    stove_probe: StoveProbe | None = None,
) -> Iterator[Observation]:
    """Every observation of a video file, image folder or stream, in frame order; each
    violation the rules raise comes as one more observation of type ``violation``."""
    spec = str(path)
    config = config or default_config(Path(spec).stem or "camera")
    source = open_source(
        spec, sample_fps=config.sample_fps, frame_width=config.frame_width, start=config.start_time
    )
    pipeline = Pipeline(
        config, detectors=detectors, face_detector=face_detector, stove_probe=stove_probe
    )
    for result in pipeline.run(source.frames()):
        yield from result.observations
        for violation in result.violations:
            yield violation.to_observation()
