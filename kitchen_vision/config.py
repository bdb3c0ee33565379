"""Per-camera configuration, loaded from YAML, with errors that name the bad key.

One file describes one camera, or several under ``cameras:`` (what ``sunledger
vision run`` watches). Zone polygons are in fractions of the frame (0–1), so a
configuration does not depend on the stream's resolution. Times of day are in
the premises' time zone.

```yaml
camera_id: cam-1
premises_id: p-1
source: rtsp://10.0.0.5/stream1      # a video file, an image folder, or a stream URL
timezone: Asia/Shanghai
start_time: "2026-11-25T22:00:00+08:00"  # files only: wall clock of the first frame
sample_fps: 1
opening_hours: ["10:00-14:00", "17:00-22:00"]
rules: [tamper, motion, pest, unattended_flame, offline, faces, mask, work_clothes]
zones:
  - {name: stove-1, kind: stove, polygon: [[0.5, 0.4], [1, 0.4], [1, 1], [0.5, 1]]}
  - {name: prep-1, kind: prep, polygon: [[0, 0.4], [0.5, 0.4], [0.5, 1], [0, 1]]}
work_clothes_colour: "#ffffff"
stove: {zone: stove-1, probe_device_id: st-1, probe_threshold_c: 60, unattended_minutes: 5}
thresholds: {tamper_confirm_frames: 3, offline_minutes: 5, repeat_minutes: 30}
face_model: models/centerface.onnx   # optional: default the CenterFace file shipped with us
yolo: {model: models/kitchen.onnx, classes: [person, no_hat, rat]}  # with `yolo` in rules
observation_rules:                   # an observation type (or a YOLO class) held for a while
  - {type: no_mask, class: 3, persist_seconds: 20, zones: [prep-1]}
  - {type: rat, rule: pest_seen, class: 1, persist_seconds: 2, zones: [prep-1], anchor: foot,
     max_gap_seconds: 3}
```
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import cv2
import numpy as np
import numpy.typing as npt
import yaml  # type: ignore[import-untyped]

from traceability.errors import Invalid

ZONE_KINDS = ("prep", "stove", "storage", "bins", "other")
RULES = (
    "tamper",
    "motion",
    "pest",
    "unattended_flame",
    "offline",
    "faces",
    "mask",
    "work_clothes",
    "yolo",
)
DEFAULT_RULES = ("tamper", "motion", "pest", "unattended_flame", "offline", "faces")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_HOURS = re.compile(r"^([01]?[0-9]|2[0-4]):([0-5][0-9])\s*-\s*([01]?[0-9]|2[0-4]):([0-5][0-9])$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class ConfigError(Invalid):
    """A camera configuration that cannot be used; the message names the key."""


Point = tuple[float, float]


@dataclass(frozen=True)
class Zone:
    name: str
    kind: str
    polygon: tuple[Point, ...]
    """Vertices in fractions of the frame's width and height."""

    def mask(self, width: int, height: int) -> npt.NDArray[np.uint8]:
        """A 0/255 mask of the zone for a frame of this size."""
        points = np.array(
            [[round(x * (width - 1)), round(y * (height - 1))] for x, y in self.polygon],
            dtype=np.int32,
        )
        out = np.zeros((height, width), dtype=np.uint8)
        cv2.fillPoly(out, [points], 255)
        return out


@dataclass(frozen=True)
class OpeningHours:
    """Daily opening periods in local time; an end before its start runs past midnight.
    No periods at all means "always open" (nothing is judged by the clock)."""

    periods: tuple[tuple[time, time], ...] = ()

    def is_open(self, local: datetime) -> bool:
        if not self.periods:
            return True
        now = local.time().replace(tzinfo=None)
        for start, end in self.periods:
            if start <= end:
                if start <= now < end:
                    return True
            elif now >= start or now < end:
                return True
        return False


@dataclass(frozen=True)
class StoveConfig:
    zone: str | None = None
    """The zone someone must be present in while the stove is lit."""
    flame_region: tuple[Point, ...] | None = None
    """Where the flame shows in the picture (bright, orange pixels mean lit)."""
    probe_device_id: str | None = None
    """A temperature probe on the stove; its latest logged reading decides "lit"."""
    probe_threshold_c: float = 60.0
    probe_max_age_minutes: float = 5.0
    """Older probe readings are ignored (a silent probe proves nothing)."""
    flame_min_fraction: float = 0.08
    """Share of the flame region that must look like flame."""
    unattended_minutes: float = 5.0


@dataclass(frozen=True)
class Thresholds:
    tamper_confirm_frames: int = 3
    tamper_warmup_frames: int = 5
    tamper_confirm_seconds: float = 2.0
    """A tamper is reported once it has lasted this long and ``tamper_confirm_frames`` samples."""
    tamper_horizon_minutes: float = 10.0
    """Time constant of the tamper reference, refreshed only from frames judged normal."""
    motion_min_blob_px: int = 12
    """At the motion detector's working size (320 px wide): about 50 px at 640×360."""
    motion_warmup_frames: int = 3
    pest_persist_seconds: float = 1.0
    presence_seconds: float = 60.0
    """Motion in a zone within this many seconds counts as someone being there."""
    repeat_minutes: float = 30.0
    offline_minutes: float = 5.0
    episode_gap_seconds: float = 60.0
    """An observation type unseen for this long starts a new logged episode."""


@dataclass(frozen=True)
class ObservationRule:
    """A violation from any detector's observation type (e.g. ``no_mask``, or a class of the
    camera's YOLO model such as ``rat``), held for a while."""

    type: str
    rule: str
    alert_class: int
    min_confidence: float = 0.5
    persist_seconds: float = 10.0
    repeat_minutes: float = 30.0
    zones: tuple[str, ...] = ()
    anchor: Literal["centre", "foot"] = "centre"
    """How a box is placed in ``zones``: ``centre``, the zone its detector gave it (the first
    holding the box's centre), or ``foot``, each zone holding its bottom middle (for things
    standing on the floor)."""
    max_gap_seconds: float | None = None
    """Sightings further apart start a new episode (default: the camera's, a few sampling
    intervals and at least 5 s)."""


@dataclass(frozen=True)
class SnapshotConfig:
    """可视: a public kitchen snapshot every ``every_minutes`` while the kitchen is open,
    faces blurred, at most ``width`` pixels wide and ``max_bytes`` long; the images are
    kept ``keep_hours`` (their hashes stay in the log)."""

    every_minutes: float
    max_bytes: int = 60_000
    width: int = 640
    keep_hours: float = 48.0


@dataclass(frozen=True)
class CameraConfig:
    camera_id: str
    premises_id: str
    source: str | None = None
    name: str = ""
    timezone: str = "UTC"
    start_time: datetime | None = None
    sample_fps: float = 1.0
    frame_width: int = 640
    opening_hours: OpeningHours = field(default_factory=OpeningHours)
    zones: tuple[Zone, ...] = ()
    rules: frozenset[str] = frozenset(DEFAULT_RULES)
    work_clothes_colour: tuple[int, int, int] | None = None
    """BGR, from ``#rrggbb``."""
    stove: StoveConfig | None = None
    thresholds: Thresholds = field(default_factory=Thresholds)
    observation_rules: tuple[ObservationRule, ...] = ()
    yolo_model: str | None = None
    yolo_classes: tuple[str, ...] = ()
    face_model: str | None = None
    """Another CenterFace ONNX file (default: the one shipped in kitchen_vision/data). If it
    does not load, no evidence image is kept: the violations say why."""
    snapshot: SnapshotConfig | None = None
    """Off (None) unless the camera's configuration asks for public snapshots."""

    @property
    def zone_info(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def enabled(self, rule: str) -> bool:
        return rule in self.rules

    def zone(self, name: str) -> Zone | None:
        return next((z for z in self.zones if z.name == name), None)

    def to_json(self) -> dict[str, Any]:
        """A JSON form (what the camera registry stores); ``parse_config`` reads it back."""
        out: dict[str, Any] = {
            "camera_id": self.camera_id,
            "premises_id": self.premises_id,
            "source": self.source,
            "name": self.name,
            "timezone": self.timezone,
            "sample_fps": self.sample_fps,
            "frame_width": self.frame_width,
            "opening_hours": [f"{a:%H:%M}-{b:%H:%M}" for a, b in self.opening_hours.periods],
            "zones": [
                {"name": z.name, "kind": z.kind, "polygon": [list(p) for p in z.polygon]}
                for z in self.zones
            ],
            "rules": sorted(self.rules),
            "thresholds": vars(self.thresholds),
        }
        if self.snapshot is not None:
            out["snapshot"] = vars(self.snapshot)
        if self.start_time is not None:
            out["start_time"] = self.start_time.isoformat()
        if self.work_clothes_colour is not None:
            b, g, r = self.work_clothes_colour
            out["work_clothes_colour"] = f"#{r:02x}{g:02x}{b:02x}"
        if self.stove is not None:
            stove = dict(vars(self.stove))
            if self.stove.flame_region is not None:
                stove["flame_region"] = [list(p) for p in self.stove.flame_region]
            out["stove"] = {k: v for k, v in stove.items() if v is not None}
        if self.observation_rules:
            out["observation_rules"] = [
                {**vars(r), "class": r.alert_class, "zones": list(r.zones)}
                for r in self.observation_rules
            ]
            for rule in out["observation_rules"]:
                del rule["alert_class"]
                # Left out at their defaults: stored configurations keep their form.
                if rule["anchor"] == "centre":
                    del rule["anchor"]
                if rule["max_gap_seconds"] is None:
                    del rule["max_gap_seconds"]
        if self.yolo_model is not None:
            out["yolo"] = {"model": self.yolo_model, "classes": list(self.yolo_classes)}
        if self.face_model is not None:
            out["face_model"] = self.face_model
        return out


def _expect(value: Any, kind: type | tuple[type, ...], key: str, what: str) -> Any:
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise ConfigError(f"{key}: expected {what}, got {value!r}")
    if not isinstance(value, kind):
        raise ConfigError(f"{key}: expected {what}, got {type(value).__name__} {value!r}")
    return value


def _number(
    raw: Mapping[str, Any], name: str, key: str, default: float, *, low: float, high: float
) -> float:
    if name not in raw:
        return default
    value = float(_expect(raw[name], (int, float), f"{key}.{name}" if key else name, "a number"))
    where = f"{key}.{name}" if key else name
    if not low <= value <= high:
        raise ConfigError(f"{where}: {value} is outside {low}..{high}")
    return value


def _polygon(raw: Any, key: str) -> tuple[Point, ...]:
    _expect(raw, list, key, "a list of [x, y] points")
    if len(raw) < 3:
        raise ConfigError(f"{key}: a polygon needs at least 3 points, got {len(raw)}")
    points: list[Point] = []
    for i, point in enumerate(raw):
        where = f"{key}[{i}]"
        _expect(point, list, where, "[x, y]")
        if len(point) != 2:
            raise ConfigError(f"{where}: expected [x, y], got {point!r}")
        x, y = (float(_expect(v, (int, float), where, "numbers")) for v in point)
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise ConfigError(f"{where}: {point!r} is outside the frame (fractions 0..1)")
        points.append((x, y))
    return tuple(points)


def _hours(raw: Any) -> OpeningHours:
    if raw is None:
        return OpeningHours()
    _expect(raw, list, "opening_hours", 'a list like ["10:00-14:00"]')
    periods = []
    for i, text in enumerate(raw):
        where = f"opening_hours[{i}]"
        match = _HOURS.match(str(_expect(text, str, where, '"HH:MM-HH:MM"')).strip())
        if match is None:
            raise ConfigError(f'{where}: {text!r} is not "HH:MM-HH:MM"')
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 == 24 or (h2 == 24 and m2) or m1 > 59:
            raise ConfigError(f'{where}: {text!r} is not "HH:MM-HH:MM"')
        start = time(h1, m1)
        end = time.max if h2 == 24 else time(h2, m2)  # "24:00": to the end of the day
        periods.append((start, end))
    return OpeningHours(tuple(periods))


def _zones(raw: Any) -> tuple[Zone, ...]:
    if raw is None:
        return ()
    _expect(raw, list, "zones", "a list of {name, kind, polygon}")
    zones: list[Zone] = []
    for i, item in enumerate(raw):
        where = f"zones[{i}]"
        _expect(item, dict, where, "a mapping with name, kind and polygon")
        _unknown(item, {"name", "kind", "polygon"}, where)
        name = item.get("name")
        if not isinstance(name, str) or not _ID.match(name):
            raise ConfigError(f"{where}.name: {name!r} must be 1-64 letters, digits, '.', '_', '-'")
        if any(z.name == name for z in zones):
            raise ConfigError(f"{where}.name: zone {name!r} is named twice")
        kind = item.get("kind", "other")
        if kind not in ZONE_KINDS:
            raise ConfigError(f"{where}.kind: {kind!r} is not one of {', '.join(ZONE_KINDS)}")
        if "polygon" not in item:
            raise ConfigError(f"{where}.polygon: missing")
        zones.append(Zone(name, kind, _polygon(item["polygon"], f"{where}.polygon")))
    return tuple(zones)


def _unknown(raw: Mapping[str, Any], known: set[str], key: str) -> None:
    extra = sorted(set(raw) - known)
    if extra:
        prefix = f"{key}." if key else ""
        raise ConfigError(f"{prefix}{extra[0]}: unknown key (known: {', '.join(sorted(known))})")


def _stove(raw: Any, zones: Sequence[Zone]) -> StoveConfig | None:
    if raw is None:
        return None
    _expect(raw, dict, "stove", "a mapping")
    known = {
        "zone",
        "flame_region",
        "probe_device_id",
        "probe_threshold_c",
        "probe_max_age_minutes",
        "flame_min_fraction",
        "unattended_minutes",
    }
    _unknown(raw, known, "stove")
    zone = raw.get("zone")
    if zone is not None and not any(z.name == zone for z in zones):
        raise ConfigError(f"stove.zone: no zone named {zone!r} in zones")
    if zone is None:
        zone = next((z.name for z in zones if z.kind == "stove"), None)
    region = raw.get("flame_region")
    probe = raw.get("probe_device_id")
    if region is None and probe is None:
        raise ConfigError("stove: give flame_region or probe_device_id (how to tell it is lit)")
    if probe is not None:
        _expect(probe, str, "stove.probe_device_id", "a device id")
    return StoveConfig(
        zone=zone,
        flame_region=None if region is None else _polygon(region, "stove.flame_region"),
        probe_device_id=probe,
        probe_threshold_c=_number(raw, "probe_threshold_c", "stove", 60.0, low=-50, high=1000),
        probe_max_age_minutes=_number(
            raw, "probe_max_age_minutes", "stove", 5.0, low=0.1, high=1440
        ),
        flame_min_fraction=_number(raw, "flame_min_fraction", "stove", 0.08, low=0.001, high=1),
        unattended_minutes=_number(raw, "unattended_minutes", "stove", 5.0, low=0, high=1440),
    )


def _thresholds(raw: Any) -> Thresholds:
    if raw is None:
        return Thresholds()
    _expect(raw, dict, "thresholds", "a mapping")
    defaults = Thresholds()
    _unknown(raw, set(vars(defaults)), "thresholds")
    values: dict[str, Any] = {}
    for name, default in vars(defaults).items():
        if isinstance(default, int):
            value = raw.get(name, default)
            _expect(value, int, f"thresholds.{name}", "a whole number")
            if not 1 <= value <= 100_000:
                raise ConfigError(f"thresholds.{name}: {value} is outside 1..100000")
            values[name] = value
        else:
            values[name] = _number(raw, name, "thresholds", default, low=0, high=10**6)
    return Thresholds(**values)


def _observation_rules(raw: Any, zones: Sequence[Zone]) -> tuple[ObservationRule, ...]:
    if raw is None:
        return ()
    _expect(raw, list, "observation_rules", "a list")
    rules = []
    known = {
        "type",
        "rule",
        "class",
        "min_confidence",
        "persist_seconds",
        "repeat_minutes",
        "zones",
        "anchor",
        "max_gap_seconds",
    }
    for i, item in enumerate(raw):
        where = f"observation_rules[{i}]"
        _expect(item, dict, where, "a mapping")
        _unknown(item, known, where)
        kind = _expect(item.get("type"), str, f"{where}.type", "an observation type")
        alert_class = item.get("class")
        if alert_class not in (1, 2, 3):
            raise ConfigError(f"{where}.class: {alert_class!r} is not 1, 2 or 3")
        names = tuple(_expect(item.get("zones", []), list, f"{where}.zones", "zone names"))
        for name in names:
            if not any(z.name == name for z in zones):
                raise ConfigError(f"{where}.zones: no zone named {name!r}")
        anchor = item.get("anchor", "centre")
        if anchor not in ("centre", "foot"):
            raise ConfigError(f"{where}.anchor: {anchor!r} is not centre or foot")
        gap = (
            _number(item, "max_gap_seconds", where, 0.0, low=0, high=86400)
            if "max_gap_seconds" in item
            else None
        )
        rules.append(
            ObservationRule(
                type=kind,
                rule=str(item.get("rule", kind)),
                alert_class=alert_class,
                min_confidence=_number(item, "min_confidence", where, 0.5, low=0, high=1),
                persist_seconds=_number(item, "persist_seconds", where, 10.0, low=0, high=86400),
                repeat_minutes=_number(item, "repeat_minutes", where, 30.0, low=0, high=10**5),
                zones=names,
                anchor=anchor,
                max_gap_seconds=gap,
            )
        )
    return tuple(rules)


def _colour(raw: Any) -> tuple[int, int, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not _COLOUR.match(raw):
        raise ConfigError(f'work_clothes_colour: {raw!r} is not a colour like "#ffffff"')
    r, g, b = (int(raw[i : i + 2], 16) for i in (1, 3, 5))
    return (b, g, r)


_KNOWN = {
    "face_model",
    "camera_id",
    "premises_id",
    "source",
    "name",
    "timezone",
    "start_time",
    "sample_fps",
    "frame_width",
    "opening_hours",
    "zones",
    "rules",
    "work_clothes_colour",
    "stove",
    "thresholds",
    "observation_rules",
    "yolo",
    "snapshot",
}


def _snapshot(raw: Any) -> SnapshotConfig | None:
    if raw is None:
        return None
    _expect(raw, dict, "snapshot", "a mapping with every_minutes (and max_bytes, width)")
    _unknown(raw, {"every_minutes", "max_bytes", "width", "keep_hours"}, "snapshot")
    if "every_minutes" not in raw:
        raise ConfigError("snapshot.every_minutes: missing")
    max_bytes = raw.get("max_bytes", 60_000)
    _expect(max_bytes, int, "snapshot.max_bytes", "a whole number of bytes")
    if not 5_000 <= max_bytes <= 1_000_000:
        raise ConfigError(f"snapshot.max_bytes: {max_bytes} is outside 5000..1000000")
    width = raw.get("width", 640)
    _expect(width, int, "snapshot.width", "a whole number of pixels")
    if not 160 <= width <= 1920:
        raise ConfigError(f"snapshot.width: {width} is outside 160..1920")
    return SnapshotConfig(
        every_minutes=_number(raw, "every_minutes", "snapshot", 15.0, low=1, high=1440),
        max_bytes=max_bytes,
        width=width,
        keep_hours=_number(raw, "keep_hours", "snapshot", 48.0, low=1, high=24 * 90),
    )


def parse_config(raw: Any, *, base_dir: Path | None = None) -> CameraConfig:
    """A camera configuration from parsed YAML/JSON; ``ConfigError`` naming the bad key."""
    _expect(raw, dict, "(top level)", "a mapping")
    _unknown(raw, _KNOWN, "")
    ids = {}
    for key in ("camera_id", "premises_id"):
        value = raw.get(key)
        if value is None:
            raise ConfigError(f"{key}: missing")
        if not isinstance(value, str) or not _ID.match(value):
            raise ConfigError(f"{key}: {value!r} must be 1-64 letters, digits, '.', '_' or '-'")
        ids[key] = value
    timezone = str(raw.get("timezone", "UTC"))
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: {timezone!r} is not an IANA time zone") from None
    start_time = raw.get("start_time")
    if start_time is not None:
        if isinstance(start_time, str):
            try:
                start_time = datetime.fromisoformat(start_time)
            except ValueError:
                raise ConfigError(f"start_time: {start_time!r} is not ISO 8601") from None
        _expect(start_time, datetime, "start_time", "an ISO 8601 time")
        if start_time.tzinfo is None:
            start_time = start_time.replace(tzinfo=ZoneInfo(timezone))
    source = raw.get("source")
    if source is not None:
        source = str(_expect(source, str, "source", "a path or URL"))
        if base_dir is not None and "://" not in source and not Path(source).is_absolute():
            source = str(base_dir / source)
    rules = raw.get("rules", list(DEFAULT_RULES))
    _expect(rules, list, "rules", "a list of rule names")
    for i, rule in enumerate(rules):
        if rule not in RULES:
            raise ConfigError(f"rules[{i}]: {rule!r} is not one of {', '.join(RULES)}")
    zones = _zones(raw.get("zones"))
    yolo = raw.get("yolo")
    model = None
    classes: tuple[str, ...] = ()
    if yolo is not None:
        _expect(yolo, dict, "yolo", "a mapping with model and classes")
        _unknown(yolo, {"model", "classes"}, "yolo")
        model = str(_expect(yolo.get("model"), str, "yolo.model", "a path to an ONNX file"))
        if base_dir is not None and not Path(model).is_absolute():
            model = str(base_dir / model)
        classes = tuple(
            str(c) for c in _expect(yolo.get("classes", []), list, "yolo.classes", "names")
        )
    face_model = raw.get("face_model")
    if face_model is not None:
        face_model = str(_expect(face_model, str, "face_model", "a path to an ONNX file"))
        if base_dir is not None and not Path(face_model).is_absolute():
            face_model = str(base_dir / face_model)
    frame_width = raw.get("frame_width", 640)
    _expect(frame_width, int, "frame_width", "a whole number of pixels")
    if not 64 <= frame_width <= 4096:
        raise ConfigError(f"frame_width: {frame_width} is outside 64..4096")
    return CameraConfig(
        camera_id=ids["camera_id"],
        premises_id=ids["premises_id"],
        source=source,
        name=str(raw.get("name", "")),
        timezone=timezone,
        start_time=start_time,
        sample_fps=_number(raw, "sample_fps", "", 1.0, low=0.01, high=120),
        frame_width=frame_width,
        opening_hours=_hours(raw.get("opening_hours")),
        zones=zones,
        rules=frozenset(rules),
        work_clothes_colour=_colour(raw.get("work_clothes_colour")),
        stove=_stove(raw.get("stove"), zones),
        thresholds=_thresholds(raw.get("thresholds")),
        observation_rules=_observation_rules(raw.get("observation_rules"), zones),
        yolo_model=model,
        yolo_classes=classes,
        face_model=face_model,
        snapshot=_snapshot(raw.get("snapshot")),
    )


def load_configs(path: Path) -> list[CameraConfig]:
    """Every camera in a YAML file: one camera, or a list under ``cameras:``."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML ({exc})") from None
    base = path.parent
    if isinstance(raw, dict) and "cameras" in raw:
        cameras = _expect(raw["cameras"], list, "cameras", "a list of cameras")
        configs = []
        for i, item in enumerate(cameras):
            try:
                configs.append(parse_config(item, base_dir=base))
            except ConfigError as exc:
                raise ConfigError(f"{path}: cameras[{i}].{exc.detail}") from None
        ids = [c.camera_id for c in configs]
        if len(set(ids)) != len(ids):
            raise ConfigError(f"{path}: cameras: a camera_id is used twice")
        return configs
    try:
        return [parse_config(raw, base_dir=base)]
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.detail}") from None


def load_config(path: Path) -> CameraConfig:
    """The one camera a file describes (``ConfigError`` if it lists several)."""
    configs = load_configs(path)
    if len(configs) != 1:
        raise ConfigError(f"{path}: describes {len(configs)} cameras; give a file with one")
    return configs[0]


def default_config(camera_id: str = "camera") -> CameraConfig:
    """For ``analyze`` without a configuration: the whole frame is one kitchen zone and the
    kitchen is always open, so nothing is judged by the clock."""
    return CameraConfig(
        camera_id=camera_id,
        premises_id="unknown",
        zones=(Zone("kitchen", "other", ((0, 0), (1, 0), (1, 1), (0, 1))),),
    )


def repeat_interval(config: CameraConfig) -> timedelta:
    return timedelta(minutes=config.thresholds.repeat_minutes)
