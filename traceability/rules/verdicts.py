"""What the rules read and what they say: readings in, breach and recovery events out.

Every rule of a probe is a ``Tracker``: fed the readings of its quantity in time
order (``observe``) and told the time (``tick``), it answers with ``RuleEvent``s
and keeps a JSON-able state (``to_state``/``load_state``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

TEMPERATURE = "Temperature"
CHLORINE = "Chlorine"

AlertClass = Literal[1, 2, 3]
Phase = Literal["breach", "recovery"]


@dataclass(frozen=True)
class Observation:
    """One accepted reading, as the engine sees it.

    ``values`` are keyed by EPCIS sensor type ("Temperature" in °C, "Chlorine"
    in mg/L, ...), units already normalised.
    """

    device_id: str
    measured_at: datetime
    values: Mapping[str, float]


@dataclass(frozen=True)
class RuleEvent:
    phase: Phase
    rule: str
    alert_class: AlertClass
    device_id: str
    started_at: datetime
    detected_at: datetime
    detail: str
    measurements: Mapping[str, float]


@dataclass(frozen=True)
class Source:
    """Who raises events: the rule, its alert class and the device."""

    rule: str
    alert_class: AlertClass
    device_id: str

    def event(
        self,
        phase: Phase,
        started_at: datetime,
        detected_at: datetime,
        detail: str,
        measurements: Mapping[str, float],
    ) -> RuleEvent:
        return RuleEvent(
            phase=phase,
            rule=self.rule,
            alert_class=self.alert_class,
            device_id=self.device_id,
            started_at=started_at,
            detected_at=detected_at,
            detail=detail,
            measurements=dict(measurements),
        )


class Tracker(Protocol):
    """One rule of one probe, judging the readings of one quantity."""

    @property
    def rule(self) -> str: ...

    @property
    def quantity(self) -> str: ...

    @property
    def in_breach(self) -> bool: ...

    def observe(self, at: datetime, value: float) -> list[RuleEvent]: ...

    def tick(self, now: datetime) -> list[RuleEvent]: ...

    def to_state(self) -> dict[str, Any]: ...

    def load_state(self, state: Mapping[str, Any]) -> None: ...


def in_minutes(delta: timedelta) -> float:
    return delta.total_seconds() / 60


def whole(count: float) -> str:
    """A count of minutes or seconds as the event texts show it: rounded, no decimals."""
    return f"{count:.0f}"
