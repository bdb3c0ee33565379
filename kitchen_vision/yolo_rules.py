"""Per-class rules over a pluggable YOLO model's observations.

Minimum confidence, persistence, repeat interval and zones per class.

A class seen at or above ``min_confidence`` (with the box's anchor point in one of the
rule's zones, when the rule names zones) starts a track; the track survives gaps of
up to ``max_gap_seconds`` between sightings. Once it has lasted ``persist_seconds``
it yields a violation, and again every ``repeat_seconds`` while it lasts. Each
violation carries the model file's name and SHA-256, and says that no accuracy is
claimed for the model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from kitchen_vision.observations import Box, Observation
from kitchen_vision.yolo import NO_ACCURACY_CLAIM, Polygon, anchor_point, zones_containing


@dataclass(frozen=True)
class ClassRule:
    class_name: str
    """The model's class this rule watches (e.g. ``no_hat``, ``rat``, ``bin_open``)."""
    violation: str
    """The violation's rule name in the log (e.g. ``no_hat``, ``pest_seen``)."""
    min_confidence: float = 0.5
    persist_seconds: float = 0.0
    repeat_seconds: float = 600.0
    zones: tuple[str, ...] | None = None
    """Zone names the anchor point must fall in; None means anywhere in the view."""
    anchor: Literal["centre", "foot"] = "centre"
    max_gap_seconds: float = 2.0


@dataclass(frozen=True)
class YoloViolation:
    rule: str
    class_name: str
    zone: str | None
    started_at: float
    """Source time (s) of the first sighting of this track."""
    time: float
    frame: int
    confidence: float
    box: Box | None
    model_name: str
    model_sha256: str
    detector: str
    claim: str = NO_ACCURACY_CLAIM

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "class": self.class_name,
            "zone": self.zone,
            "started_at": round(self.started_at, 3),
            "time": round(self.time, 3),
            "frame": self.frame,
            "confidence": round(self.confidence, 4),
            "box": self.box.to_json() if self.box is not None else None,
            "model_name": self.model_name,
            "model_sha256": self.model_sha256,
            "detector": self.detector,
            "claim": self.claim,
        }


@dataclass
class _Track:
    started_at: float
    last_seen: float


@dataclass
class YoloRules:
    rules: Sequence[ClassRule]
    zones: Mapping[str, Polygon] = field(default_factory=dict)
    """Zone polygons from the camera configuration (names to lists of points)."""
    relative_zones: bool = False
    """The polygons are in fractions of the frame; ``update`` then needs ``frame_size``."""
    _tracks: dict[tuple[str, str | None], _Track] = field(default_factory=dict, init=False)
    _reported: dict[tuple[str, str | None], float] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        for rule in self.rules:
            unknown = set(rule.zones or ()) - set(self.zones)
            if unknown:
                raise ValueError(f"rule {rule.violation!r} names unknown zones {sorted(unknown)}")

    def update(
        self,
        observations: Sequence[Observation],
        time: float,
        frame_size: tuple[int, int] | None = None,
    ) -> list[YoloViolation]:
        """Feed one analysed frame's observations (from ``YoloDetector``); get new violations.

        ``frame_size`` (w, h) is needed when the zones are relative."""
        if self.relative_zones and frame_size is None:
            raise ValueError("relative zones need the frame size")
        size = frame_size if self.relative_zones else None
        seen: dict[tuple[str, str | None], Observation] = {}
        for rule in self.rules:
            for obs in observations:
                if obs.type != rule.class_name or obs.confidence < rule.min_confidence:
                    continue
                if "model_sha256" not in obs.detail:
                    raise ValueError(f"observation from {obs.detector} names no model SHA-256")
                zone = self._zone_for(rule, obs, size)
                if zone is False:
                    continue
                key = (rule.violation, zone)
                best = seen.get(key)
                if best is None or obs.confidence > best.confidence:
                    seen[key] = obs
        violations = []
        rules_by_name = {rule.violation: rule for rule in self.rules}
        for key, obs in seen.items():
            rule = rules_by_name[key[0]]
            track = self._tracks.get(key)
            if track is None or time - track.last_seen > rule.max_gap_seconds:
                track = self._tracks[key] = _Track(started_at=time, last_seen=time)
            track.last_seen = time
            if time - track.started_at < rule.persist_seconds:
                continue
            last = self._reported.get(key)
            if last is not None and time - last < rule.repeat_seconds:
                continue
            self._reported[key] = time
            violations.append(
                YoloViolation(
                    rule=rule.violation,
                    class_name=rule.class_name,
                    zone=key[1],
                    started_at=track.started_at,
                    time=time,
                    frame=obs.frame,
                    confidence=obs.confidence,
                    box=obs.box,
                    model_name=str(obs.detail.get("model_name", "")),
                    model_sha256=str(obs.detail["model_sha256"]),
                    detector=obs.detector,
                )
            )
        for key in [k for k, t in self._tracks.items() if k not in seen]:
            if time - self._tracks[key].last_seen > rules_by_name[key[0]].max_gap_seconds:
                del self._tracks[key]
        return violations

    def _zone_for(
        self, rule: ClassRule, obs: Observation, size: tuple[int, int] | None
    ) -> str | None | Literal[False]:
        """The rule zone the observation falls in, None for a zone-less rule, False if outside."""
        if rule.zones is None:
            return None
        if obs.box is None:
            return False
        point = anchor_point(obs.box, rule.anchor)
        wanted = {name: self.zones[name] for name in rule.zones}
        inside = zones_containing(point, wanted, size)
        return inside[0] if inside else False
