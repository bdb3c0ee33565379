"""The limit rules as data: cold holding, frozen, sample retention, hot holding, danger zone,
chlorine.

Each is one ``Limit``: which readings are out of range, which count as back
inside (the hysteresis margin), how long out of range is tolerated, and how its
breach and recovery events are worded. ``limit_for`` reads one from a profile
rule; ``excursion.Excursion`` judges any of them the same way.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TypedDict

from traceability.rules.profiles import (
    ChemicalSanitisingRule,
    ChlorineOperation,
    ColdLimitRule,
    DangerZoneRule,
    ExcursionOperation,
    HotHoldingRule,
)
from traceability.rules.verdicts import CHLORINE, TEMPERATURE

LimitRule = ColdLimitRule | HotHoldingRule | DangerZoneRule | ChemicalSanitisingRule


@dataclass(frozen=True)
class Interval:
    """Values between ``low`` and ``high`` (``None``: unbounded), ends included when ``closed``."""

    low: float | None = None
    high: float | None = None
    closed: bool = False

    def contains(self, value: float) -> bool:
        if self.closed:
            return (self.low is None or value >= self.low) and (
                self.high is None or value <= self.high
            )
        return (self.low is None or value > self.low) and (self.high is None or value < self.high)


@dataclass(frozen=True)
class EpisodeFacts:
    """What an episode out of range looked like when its event is raised."""

    minutes_out: float  # counted toward the tolerance (within the window)
    total_minutes_out: float  # over the whole episode
    episode_minutes: float
    highest: float
    lowest: float

    def as_numbers(self) -> dict[str, float]:
        return {
            "minutes_out": self.minutes_out,
            "total_minutes_out": self.total_minutes_out,
            "episode_minutes": self.episode_minutes,
            "highest": self.highest,
            "lowest": self.lowest,
        }


_FACTS = frozenset(EpisodeFacts.__dataclass_fields__)


@dataclass(frozen=True)
class Wording:
    """An event's text (a ``str.format`` template) and its measurements (key ← named number)."""

    text: str
    measurements: tuple[tuple[str, str], ...]

    def fields(self) -> set[str]:
        named = {name for _, name, _, _ in string.Formatter().parse(self.text) if name}
        return named | {source for _, source in self.measurements}


@dataclass(frozen=True)
class Limit:
    """One limit rule: out of range inside any of ``out``, back inside within ``clear``.

    ``numbers`` and ``words`` are the rule's own terms (its limit, margins, labels)
    that the wording names beside the episode's facts; measurements take numbers only.
    """

    quantity: str
    out: tuple[Interval, ...]
    clear: Interval
    tolerance: timedelta
    window: timedelta | None
    hysteresis: timedelta
    breach: Wording
    recovery: Wording
    numbers: Mapping[str, float] = field(default_factory=dict)
    words: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # A wording naming an unknown term would only fail at the first breach.
        known = _FACTS | set(self.numbers) | set(self.words)
        for wording in (self.breach, self.recovery):
            missing = wording.fields() - known
            if missing:
                raise ValueError(f"wording {wording.text!r} names unknown {sorted(missing)}")
            texts = {source for _, source in wording.measurements} & set(self.words)
            if texts:
                raise ValueError(f"measurements must be numbers, not {sorted(texts)}")
        if _FACTS & (set(self.numbers) | set(self.words)):
            raise ValueError("a rule's terms must not shadow the episode's facts")

    def is_out(self, value: float) -> bool:
        return any(interval.contains(value) for interval in self.out)

    def is_clear(self, value: float) -> bool:
        return self.clear.contains(value)

    def worded(self, wording: Wording, facts: EpisodeFacts) -> tuple[str, dict[str, float]]:
        numbers = {**self.numbers, **facts.as_numbers()}
        detail = wording.text.format_map({**self.words, **numbers})
        return detail, {key: numbers[source] for key, source in wording.measurements}


# --------------------------------------------------------------------------- wordings

_COLD_BREACH = Wording(
    "{label} above {limit:.1f} °C for {minutes_out:.0f} min (max {highest:.1f} °C)",
    (
        ("max_celsius", "highest"),
        ("minutes_out", "minutes_out"),
        ("limit_celsius", "limit"),
        ("tolerance_minutes", "tolerance_minutes"),
    ),
)
_COLD_RECOVERY = Wording(
    "{label} back at or below {clear_at:.1f} °C for {hysteresis_minutes:.0f} min; "
    "{total_minutes_out:.0f} min above {limit:.1f} °C in {episode_minutes:.0f} min "
    "(max {highest:.1f} °C)",
    (
        ("max_celsius", "highest"),
        ("minutes_out", "total_minutes_out"),
        ("episode_minutes", "episode_minutes"),
        ("limit_celsius", "limit"),
    ),
)
_HOT_BREACH = Wording(
    "hot holding below {limit:.1f} °C for {minutes_out:.0f} min (min {lowest:.1f} °C)",
    (
        ("min_celsius", "lowest"),
        ("minutes_out", "minutes_out"),
        ("limit_celsius", "limit"),
        ("tolerance_minutes", "tolerance_minutes"),
    ),
)
_HOT_RECOVERY = Wording(
    "hot holding back at or above {clear_at:.1f} °C for {hysteresis_minutes:.0f} min; "
    "{total_minutes_out:.0f} min below {limit:.1f} °C in {episode_minutes:.0f} min "
    "(min {lowest:.1f} °C)",
    (
        ("min_celsius", "lowest"),
        ("minutes_out", "total_minutes_out"),
        ("episode_minutes", "episode_minutes"),
        ("limit_celsius", "limit"),
    ),
)
_DANGER_BREACH = Wording(
    "hot-held food between {lower:.1f} and {upper:.1f} °C for {minutes_out:.0f} min "
    "(limit {limit_minutes:.0f} min, min {lowest:.1f} °C): {action}",
    (
        ("min_celsius", "lowest"),
        ("minutes_out", "minutes_out"),
        ("limit_minutes", "limit_minutes"),
    ),
)
_DANGER_RECOVERY = Wording(
    "hot holding back at or above {clear_at:.1f} °C for {hysteresis_minutes:.0f} min "
    "after {total_minutes_out:.0f} min between {lower:.1f} and {upper:.1f} °C",
    (
        ("min_celsius", "lowest"),
        ("minutes_out", "total_minutes_out"),
        ("episode_minutes", "episode_minutes"),
    ),
)
_CHLORINE_BREACH = Wording(
    "chlorine outside {band} for {minutes_out:.0f} min "
    "(lowest {lowest:.0f}, highest {highest:.0f} mg/L)",
    (
        ("min_mg_per_l", "lowest"),
        ("max_mg_per_l", "highest"),
        ("minutes_out", "minutes_out"),
        ("tolerance_minutes", "tolerance_minutes"),
    ),
)
_CHLORINE_RECOVERY = Wording(
    "chlorine back within {band} (with a {margin:.0f} mg/L margin) for "
    "{hysteresis_minutes:.0f} min after {total_minutes_out:.0f} min outside",
    (
        ("min_mg_per_l", "lowest"),
        ("max_mg_per_l", "highest"),
        ("minutes_out", "total_minutes_out"),
        ("episode_minutes", "episode_minutes"),
    ),
)


# --------------------------------------------------------------------------- from the profile


def limit_for(rule: LimitRule, label: str) -> Limit:
    """The ``Limit`` of a profile's limit rule; ``label`` names the appliance of a cold limit."""
    if isinstance(rule, DangerZoneRule):
        return _danger_zone(rule)
    if isinstance(rule, ChemicalSanitisingRule):
        return _chlorine(rule)
    return _temperature(rule, label)


def _temperature(rule: ColdLimitRule | HotHoldingRule, label: str) -> Limit:
    """An upper (cold holding, frozen, sample retention) or lower (hot holding) limit."""
    op = rule.operational
    if isinstance(rule, ColdLimitRule):
        limit = rule.max_temperature.value
        clear_at = limit - op.hysteresis.margin_celsius
        out, clear = Interval(low=limit), Interval(high=clear_at, closed=True)
        breach, recovery = _COLD_BREACH, _COLD_RECOVERY
    else:
        limit = rule.min_temperature.value
        clear_at = limit + op.hysteresis.margin_celsius
        out, clear = Interval(high=limit), Interval(low=clear_at, closed=True)
        breach, recovery = _HOT_BREACH, _HOT_RECOVERY
    return Limit(
        quantity=TEMPERATURE,
        out=(out,),
        clear=clear,
        **_timing(op),
        breach=breach,
        recovery=recovery,
        numbers={
            "limit": limit,
            "clear_at": clear_at,
            "tolerance_minutes": op.tolerance_minutes,
            "hysteresis_minutes": op.hysteresis.minutes,
        },
        words={"label": label},
    )


def _danger_zone(rule: DangerZoneRule) -> Limit:
    """Hot-held food between two temperatures, for no longer than the regulation's time."""
    lower, upper = rule.lower.value, rule.upper.value
    op = rule.operational
    clear_at = upper + op.hysteresis.margin_celsius
    return Limit(
        quantity=TEMPERATURE,
        out=(Interval(lower, upper),),
        clear=Interval(low=clear_at, closed=True),
        tolerance=timedelta(seconds=rule.max_duration.seconds),
        window=None,
        hysteresis=timedelta(minutes=op.hysteresis.minutes),
        breach=_DANGER_BREACH,
        recovery=_DANGER_RECOVERY,
        numbers={
            "lower": lower,
            "upper": upper,
            "clear_at": clear_at,
            "limit_minutes": rule.max_duration.seconds / 60,
            "hysteresis_minutes": op.hysteresis.minutes,
        },
        words={"action": rule.action},
    )


def _chlorine(rule: ChemicalSanitisingRule) -> Limit:
    """Free chlorine at or above a minimum, and at or below a maximum when there is one."""
    op = rule.operational
    low = rule.min_chlorine.value
    high = None if rule.max_chlorine is None else rule.max_chlorine.value
    margin = op.hysteresis.margin_mg_per_l
    too_low = Interval(high=low)
    return Limit(
        quantity=CHLORINE,
        out=(too_low,) if high is None else (too_low, Interval(low=high)),
        clear=Interval(low + margin, None if high is None else high - margin, closed=True),
        **_timing(op),
        breach=_CHLORINE_BREACH,
        recovery=_CHLORINE_RECOVERY,
        numbers={
            "margin": margin,
            "tolerance_minutes": op.tolerance_minutes,
            "hysteresis_minutes": op.hysteresis.minutes,
        },
        words={"band": f"≥ {low:.0f} mg/L" if high is None else f"{low:.0f}–{high:.0f} mg/L"},
    )


class _Timing(TypedDict):
    tolerance: timedelta
    window: timedelta | None
    hysteresis: timedelta


def _timing(op: ExcursionOperation | ChlorineOperation) -> _Timing:
    """Tolerance, trailing window and hysteresis time from a profile's operational block."""
    return {
        "tolerance": timedelta(minutes=op.tolerance_minutes),
        "window": None if op.window_minutes is None else timedelta(minutes=op.window_minutes),
        "hysteresis": timedelta(minutes=op.hysteresis.minutes),
    }
