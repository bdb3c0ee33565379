"""The food-safety rule engine for IoT probes: pure, and judged on time, never one reading.

One ``DeviceMonitor`` per probe turns its readings (``observe``) and the passing
of time (``tick``) into breach and recovery events. All numbers come from a
``JurisdictionProfile``; the device kind picks the rules (``profile.device_kinds``).

How time is judged, for every rule:

- A reading stands for the time until the next reading (zero-order hold), but
  for no longer than the device's silence threshold: the interval between two
  readings is out of range when the reading at its start is.
- Limit rules (cold_holding, frozen, sample_retention, hot_holding,
  danger_zone, chemical_sanitising): an episode starts at the first
  out-of-range reading. Time out of range accumulates within the episode,
  counted over a trailing window when the rule has one; when it reaches the
  tolerance the rule breaches, once per episode. The episode ends only after
  readings have stayed inside the limit by the hysteresis margin for the
  hysteresis minutes; a recovery event follows if it had breached. ``tick``
  also counts the time since the last reading, so a probe stuck on a warm
  reading breaches without new readings.
- Cycle rules (core_temperature, dishwasher_rinse, disinfection, cooling) are
  judged per cycle. Consecutive failing cycles are one episode: one breach at
  the first, a recovery at the next passing cycle.
- A target "held for H seconds" is proven only by readings: consecutive
  readings at or above it spanning H. With no hold, one reading suffices.

Readings older than (or as old as) the last one are ignored. The whole state is
JSON-able (``to_state``/``from_state``) and the same calls on a restored
monitor give the same events as on the original.

Where each part lives: ``verdicts`` (readings in, events out, the ``Tracker``
protocol), ``limits`` (the limit rules as data) judged by ``excursion``,
``cycles``, ``cooling``, ``silence`` (probe silent) and ``state`` (the JSON-able
state); this module composes them per device.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from traceability.errors import Invalid
from traceability.rules.cooling import Cooling
from traceability.rules.cycles import CycleRule, cycle_for
from traceability.rules.device_kinds import DeviceKind
from traceability.rules.excursion import Excursion
from traceability.rules.limits import LimitRule, limit_for
from traceability.rules.profiles import CoolingRule, JurisdictionProfile
from traceability.rules.silence import Silence
from traceability.rules.state import aware_utc
from traceability.rules.verdicts import Observation, RuleEvent, Source, Tracker

__all__ = ["STATE_FORMAT", "DeviceKind", "DeviceMonitor", "Observation", "RuleEvent"]

STATE_FORMAT = "sunledger-rule-monitor/1"


# --------------------------------------------------------------------------- the monitor

_LABELS = {
    DeviceKind.FRIDGE: "fridge",
    DeviceKind.FREEZER: "freezer",
    DeviceKind.SAMPLE_FRIDGE: "sample fridge",
}


def _silent_minutes(rule_names: list[str], profile: JurisdictionProfile) -> float:
    """The smallest silent_minutes of the rules a device is judged by (probe_silent's if none)."""
    minutes = [
        getattr(profile.rules, name).operational.silent_minutes
        for name in rule_names
        if name != "probe_silent"
    ]
    return min(minutes, default=profile.rules.probe_silent.operational.silent_minutes)


def _tracker(
    name: str, kind: DeviceKind, profile: JurisdictionProfile, device_id: str, cap: timedelta
) -> Tracker:
    rule = getattr(profile.rules, name)
    source = Source(name, rule.alert_class, device_id)
    if isinstance(rule, LimitRule):
        return Excursion(source, limit_for(rule, _LABELS.get(kind, kind.value)), cap)
    if isinstance(rule, CycleRule):
        return cycle_for(source, rule)
    if isinstance(rule, CoolingRule):
        return Cooling(source, rule)
    raise Invalid(f"rule {name!r} cannot be judged from probe readings")


class DeviceMonitor:
    """The rules of one probe, fed its readings in time order and told the time."""

    def __init__(self, device_id: str, kind: DeviceKind, profile: JurisdictionProfile) -> None:
        self._device_id = device_id
        self._kind = DeviceKind(kind)
        self._profile = profile
        rule_names = list(profile.device_kinds[self._kind.value])
        silence = timedelta(minutes=_silent_minutes(rule_names, profile))
        self._trackers: dict[str, Tracker] = {
            name: _tracker(name, self._kind, profile, device_id, silence) for name in rule_names
        }
        silent_rule = profile.rules.probe_silent
        self._silence = Silence(Source("probe_silent", silent_rule.alert_class, device_id), silence)

    @property
    def device_id(self) -> str:
        return self._device_id

    @property
    def kind(self) -> DeviceKind:
        return self._kind

    @property
    def open_breaches(self) -> frozenset[str]:
        """The rules currently in breach."""
        names = {name for name, tracker in self._trackers.items() if tracker.in_breach}
        if self._silence.in_breach:
            names.add("probe_silent")
        return frozenset(names)

    def observe(self, obs: Observation) -> list[RuleEvent]:
        """Judge one reading; a reading not newer than the last one is ignored (``[]``)."""
        if obs.device_id != self._device_id:
            raise Invalid(
                f"reading of device {obs.device_id!r} given to the monitor of {self._device_id!r}"
            )
        at = aware_utc(obs.measured_at, "measured_at")
        last = self._silence.last_seen
        if last is not None and at <= last:
            return []
        events = self._silence.observe(at)
        for tracker in self._trackers.values():
            value = obs.values.get(tracker.quantity)
            if value is not None:
                events.extend(tracker.observe(at, float(value)))
        return events

    def tick(self, now: datetime) -> list[RuleEvent]:
        """Time passing without readings: probe silent, and breaches only time can make."""
        now = aware_utc(now, "now")
        last = self._silence.last_seen
        if last is not None and now <= last:
            return []
        events = self._silence.tick(now)
        for tracker in self._trackers.values():
            events.extend(tracker.tick(now))
        return events

    def to_state(self) -> dict[str, Any]:
        """Everything the monitor remembers, as JSON-able data."""
        return {
            "format": STATE_FORMAT,
            "device_id": self._device_id,
            "kind": self._kind.value,
            "profile": self._profile.name,
            "silence": self._silence.to_state(),
            "rules": {name: tracker.to_state() for name, tracker in self._trackers.items()},
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any], profile: JurisdictionProfile) -> DeviceMonitor:
        """A monitor restored from ``to_state``; ``Invalid`` for malformed or foreign state."""
        try:
            if state["format"] != STATE_FORMAT:
                raise Invalid(f"unknown rule monitor state format {state['format']!r}")
            if state["profile"] != profile.name:
                raise Invalid(
                    f"rule monitor state of profile {state['profile']!r} "
                    f"restored with profile {profile.name!r}"
                )
            monitor = cls(str(state["device_id"]), DeviceKind(state["kind"]), profile)
            rules = state["rules"]
            if set(rules) != set(monitor._trackers):
                raise Invalid(
                    f"rule monitor state judges {sorted(rules)}, "
                    f"the profile {sorted(monitor._trackers)}"
                )
            monitor._silence.load_state(state["silence"])
            for name, tracker in monitor._trackers.items():
                tracker.load_state(rules[name])
        except (KeyError, TypeError, ValueError) as exc:
            raise Invalid(f"malformed rule monitor state: {exc!r}") from exc
        return monitor
