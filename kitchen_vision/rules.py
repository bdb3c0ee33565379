"""Observations over time → violations.

- ``pest_suspected`` (class 1): motion in any zone while the kitchen is closed,
  for ``pest_persist_seconds``; the violation wants a clip of the event window.
- ``unattended_flame`` (class 2): the stove is lit (its probe's latest reading at
  or above the threshold, or flame colour in the flame region) and nobody moved
  in its zone for ``unattended_minutes``.
- ``camera_covered`` / ``camera_moved`` / ``camera_defocused`` (class 2): a
  confirmed tamper observation.
- ``camera_offline`` (class 2): no frame for ``offline_minutes``
  (``kitchen_vision.sources.OfflineTracker`` decides; ``offline_violation`` builds it).
- configured ``observation_rules``: an observation type (e.g. ``no_mask``, or a class
  of the camera's YOLO model) held for ``persist_seconds``, in the rule's zones
  (placed by the box's centre or foot point), with the class the configuration gives;
  a violation from an operator's model names the model file and its SHA-256.

A condition is one *episode* while it keeps holding with gaps shorter than a
few sampling intervals (an observation rule may set its own ``max_gap_seconds``).
A violation is raised once the episode has lasted its persistence time, and
again for the same rule and zone only after the repeat interval
(``repeat_minutes``), however many episodes come in between.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from kitchen_vision.config import CameraConfig, ObservationRule
from kitchen_vision.observations import FrameContext, Observation
from kitchen_vision.tamper import KINDS as TAMPER_KINDS
from kitchen_vision.yolo import anchor_point, zones_containing

PEST = "pest_suspected"
UNATTENDED_FLAME = "unattended_flame"
OFFLINE = "camera_offline"


class StoveProbe(Protocol):
    """The latest reading of a stove's temperature probe: (measured_at, °C), or None."""

    def latest(self, device_id: str) -> tuple[datetime, float] | None: ...


@dataclass(frozen=True)
class Evidence:
    """A blurred JPEG ready to store; ``metadata`` says how it was blurred."""

    jpeg: bytes
    sha256: str
    metadata: dict[str, object]


@dataclass(frozen=True)
class VisionViolation:
    rule: str
    alert_class: int
    camera_id: str
    premises_id: str
    zone: str | None
    started_at: datetime
    detected_at: datetime
    frame: int
    time: float
    description: str
    measurements: dict[str, float] = field(default_factory=dict)
    wants_clip: bool = False
    snapshot: Evidence | None = None
    clip: Evidence | None = None
    """Pest events: the frames of the event window as one blurred contact sheet."""
    evidence_withheld: str | None = None
    """Why no evidence image was kept (no face detector could blur it), when none was."""

    def to_observation(self) -> Observation:
        """How ``analyze`` prints a violation among the observations."""
        detail: dict[str, object] = {"rule": self.rule, "alert_class": self.alert_class}
        if self.snapshot is not None:
            detail["evidence_sha256"] = self.snapshot.sha256
            detail["evidence"] = self.snapshot.metadata
        if self.clip is not None:
            detail["clip_sha256"] = self.clip.sha256
        if self.evidence_withheld is not None:
            detail["evidence_withheld"] = self.evidence_withheld
        return Observation(
            frame=self.frame,
            time=self.time,
            type="violation",
            confidence=1.0,
            detector="rules",
            zone=self.zone,
            detail=detail,
        )


@dataclass
class _Episode:
    since: datetime | None = None
    last_active: datetime | None = None
    last_raised: datetime | None = None


class Persistence:
    """Episodes of a condition per key; answers when a violation is due (see module doc)."""

    def __init__(self, gap: timedelta) -> None:
        self.gap = gap
        self._state: dict[tuple[str, str | None], _Episode] = {}

    def update(
        self,
        key: tuple[str, str | None],
        active: bool,
        now: datetime,
        *,
        persist: timedelta,
        repeat: timedelta,
        since: datetime | None = None,
        gap: timedelta | None = None,
    ) -> datetime | None:
        """The episode's start if a violation is due now, else None; ``gap`` overrides the
        longest pause an episode survives for this key."""
        gap = self.gap if gap is None else gap
        state = self._state.setdefault(key, _Episode())
        if not active:
            if state.last_active is not None and now - state.last_active > gap:
                state.since = None
            return None
        if state.since is None or (state.last_active is not None and now - state.last_active > gap):
            state.since = since or now
        state.last_active = now
        if now - state.since < persist:
            return None
        if state.last_raised is not None and now - state.last_raised < repeat:
            return None
        state.last_raised = now
        return state.since


class RuleBook:
    """One camera's rules; feed it each analysed frame's observations in order."""

    def __init__(self, config: CameraConfig, stove_probe: StoveProbe | None = None) -> None:
        self.config = config
        self.stove_probe = stove_probe
        interval = 1 / config.sample_fps
        self.persistence = Persistence(gap=timedelta(seconds=max(5.0, 3 * interval)))
        self._last_motion: dict[str, datetime] = {}
        self._unattended_since: datetime | None = None
        self._lit_by: str | None = None

    @property
    def repeat(self) -> timedelta:
        return timedelta(minutes=self.config.thresholds.repeat_minutes)

    def judge(
        self, observations: Sequence[Observation], context: FrameContext
    ) -> list[VisionViolation]:
        now = context.wall_clock
        for obs in observations:
            if obs.type == "motion" and obs.zone is not None:
                self._last_motion[obs.zone] = now
        found: list[VisionViolation] = []
        if self.config.enabled("tamper"):
            found += self._tamper(observations, context)
        if self.config.enabled("pest"):
            found += self._pest(observations, context)
        if self.config.enabled("unattended_flame") and self.config.stove is not None:
            found += self._flame(observations, context)
        found += self._configured(observations, context)
        return found

    def _violation(
        self,
        rule: str,
        alert_class: int,
        context: FrameContext,
        since: datetime,
        description: str,
        *,
        zone: str | None = None,
        measurements: dict[str, float] | None = None,
        wants_clip: bool = False,
    ) -> VisionViolation:
        return VisionViolation(
            rule=rule,
            alert_class=alert_class,
            camera_id=self.config.camera_id,
            premises_id=self.config.premises_id,
            zone=zone,
            started_at=since,
            detected_at=context.wall_clock,
            frame=context.frame,
            time=context.time,
            description=description,
            measurements=measurements or {},
            wants_clip=wants_clip,
        )

    def _tamper(
        self, observations: Sequence[Observation], context: FrameContext
    ) -> list[VisionViolation]:
        found = []
        seen = {o.type: o for o in observations if o.type in TAMPER_KINDS}
        for kind in TAMPER_KINDS:
            obs = seen.get(kind)
            frames = int(obs.detail.get("frames", 1)) if obs is not None else 1
            back = timedelta(seconds=(frames - 1) / self.config.sample_fps)
            since = self.persistence.update(
                (kind, None),
                obs is not None,
                context.wall_clock,
                persist=timedelta(0),
                repeat=self.repeat,
                since=context.wall_clock - back,
            )
            if since is not None and obs is not None:
                what = kind.removeprefix("camera_")
                found.append(
                    self._violation(
                        kind,
                        2,
                        context,
                        since,
                        f"camera {self.config.camera_id} looks {what} "
                        f"(confirmed over {frames} frames by the {obs.detector} detector)",
                        measurements={"confidence": round(obs.confidence, 4)},
                    )
                )
        return found

    def _pest(
        self, observations: Sequence[Observation], context: FrameContext
    ) -> list[VisionViolation]:
        local = context.wall_clock.astimezone(self.config.zone_info)
        closed = not self.config.opening_hours.is_open(local)
        moving = [o for o in observations if o.type == "motion"] if closed else []
        since = self.persistence.update(
            (PEST, None),
            bool(moving),
            context.wall_clock,
            persist=timedelta(seconds=self.config.thresholds.pest_persist_seconds),
            repeat=self.repeat,
        )
        if since is None:
            return []
        biggest = max(moving, key=lambda o: o.confidence)
        zones = sorted({o.zone for o in moving if o.zone is not None})
        return [
            self._violation(
                PEST,
                1,
                context,
                since,
                f"motion in {', '.join(zones) or 'the kitchen'} at {local:%H:%M} local time, "
                f"outside opening hours, since {since.astimezone(self.config.zone_info):%H:%M:%S}"
                ": a pest is suspected",
                zone=biggest.zone,
                measurements={"confidence": round(biggest.confidence, 4)},
                wants_clip=True,
            )
        ]

    def _lit(self, observations: Sequence[Observation], now: datetime) -> tuple[str | None, float]:
        stove = self.config.stove
        assert stove is not None
        if stove.probe_device_id is not None and self.stove_probe is not None:
            latest = self.stove_probe.latest(stove.probe_device_id)
            if latest is not None:
                measured_at, celsius = latest
                fresh = now - measured_at <= timedelta(minutes=stove.probe_max_age_minutes)
                if fresh and celsius >= stove.probe_threshold_c:
                    return f"probe {stove.probe_device_id} at {celsius:.1f} °C", celsius
        flame = [o for o in observations if o.type == "flame"]
        if flame:
            return "flame seen in the flame region", flame[0].confidence
        return None, 0.0

    def _flame(
        self, observations: Sequence[Observation], context: FrameContext
    ) -> list[VisionViolation]:
        stove = self.config.stove
        assert stove is not None
        now = context.wall_clock
        lit_by, value = self._lit(observations, now)
        presence = timedelta(seconds=self.config.thresholds.presence_seconds)
        zones = [stove.zone] if stove.zone is not None else list(self._last_motion)
        last_seen = max(
            (self._last_motion[z] for z in zones if z in self._last_motion), default=None
        )
        present = last_seen is not None and now - last_seen <= presence
        if lit_by is None or present:
            self._unattended_since = None
            return []
        if self._unattended_since is None:
            self._unattended_since = (
                now if last_seen is None else max(last_seen + presence, now - presence)
            )
        since = self.persistence.update(
            (UNATTENDED_FLAME, stove.zone),
            now - self._unattended_since >= timedelta(minutes=stove.unattended_minutes),
            now,
            persist=timedelta(0),
            repeat=self.repeat,
            since=self._unattended_since,
        )
        if since is None:
            return []
        minutes = (now - self._unattended_since).total_seconds() / 60
        measurements = {"unattended_minutes": round(minutes, 2)}
        if lit_by.startswith("probe"):
            measurements["stove_celsius"] = round(value, 2)
        return [
            self._violation(
                UNATTENDED_FLAME,
                2,
                context,
                self._unattended_since,
                f"the stove is lit ({lit_by}) and nobody was seen in "
                f"{stove.zone or 'any zone'} for {minutes:.1f} minutes",
                zone=stove.zone,
                measurements=measurements,
            )
        ]

    def _configured(
        self, observations: Sequence[Observation], context: FrameContext
    ) -> list[VisionViolation]:
        found = []
        for rule in self.config.observation_rules:
            for zone in rule.zones or (None,):
                matching = [
                    o
                    for o in observations
                    if o.type == rule.type
                    and o.confidence >= rule.min_confidence
                    and (zone is None or self._in_zone(o, zone, rule, context))
                ]
                since = self.persistence.update(
                    (rule.rule, zone),
                    bool(matching),
                    context.wall_clock,
                    persist=timedelta(seconds=rule.persist_seconds),
                    repeat=timedelta(minutes=rule.repeat_minutes),
                    gap=(
                        None
                        if rule.max_gap_seconds is None
                        else timedelta(seconds=rule.max_gap_seconds)
                    ),
                )
                if since is None:
                    continue
                best = max(matching, key=lambda o: o.confidence)
                text = f"{rule.type} seen by {best.detector}"
                model = best.detail.get("model_sha256")
                if model is not None:
                    text += f" (model {best.detail.get('model_name', '?')} sha256 {model})"
                if best.experimental:
                    text += " [experimental check]"
                found.append(
                    self._violation(
                        rule.rule,
                        rule.alert_class,
                        context,
                        since,
                        f"{text} for {rule.persist_seconds:g} s or more"
                        + (f" in {zone}" if zone else ""),
                        zone=zone or best.zone,
                        measurements={"confidence": round(best.confidence, 4)},
                    )
                )
        return found

    def _in_zone(
        self, obs: Observation, zone: str, rule: ObservationRule, context: FrameContext
    ) -> bool:
        if rule.anchor == "centre":
            return obs.zone == zone
        if obs.box is None:
            return False
        if context.frame_size is None:
            raise ValueError(f"rule {rule.rule!r} places boxes by their foot: needs the frame size")
        found = self.config.zone(zone)
        if found is None:
            raise ValueError(f"rule {rule.rule!r} names unknown zone {zone!r}")
        point = anchor_point(obs.box, rule.anchor)
        return bool(zones_containing(point, {zone: found.polygon}, context.frame_size))


def offline_violation(
    config: CameraConfig, since: datetime, now: datetime, frame: int = -1
) -> VisionViolation:
    minutes = (now - since).total_seconds() / 60
    return VisionViolation(
        rule=OFFLINE,
        alert_class=2,
        camera_id=config.camera_id,
        premises_id=config.premises_id,
        zone=None,
        started_at=since,
        detected_at=now,
        frame=frame,
        time=0.0,
        description=f"camera {config.camera_id} has sent no frame for {minutes:.0f} minutes",
        measurements={"offline_minutes": round(minutes, 2)},
    )
