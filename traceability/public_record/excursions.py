"""What a probe may do outside its range without raising an alert, as the page explains it.

A chart of daily minimum and maximum shows a fridge's door openings as a bar above
8 °C; the rules judge cumulative time out of range, never one reading
(FOOD_SAFETY_RULES.md), so such a bar stands beside no alert. The allowances come
from the probe's jurisdiction profile: the rules' ``operational`` tolerances, and the
danger zone's time limit. They are configuration, not logged facts.
"""

from __future__ import annotations

from typing import Any

from traceability.rules.profiles import DangerZoneRule, ExcursionOperation, JurisdictionProfile


def excursion_allowances(profile: JurisdictionProfile, kind: str) -> list[dict[str, Any]]:
    """For each rule judging this kind with a time allowance: the rule, its alert class and
    how many minutes out of range (within how long a window) it tolerates."""
    found: list[dict[str, Any]] = []
    for name in profile.device_kinds.get(kind, []):
        rule = getattr(profile.rules, name)
        operational = getattr(rule, "operational", None)
        if isinstance(operational, ExcursionOperation):
            found.append(
                {
                    "rule": name,
                    "class": rule.alert_class,
                    "tolerance_minutes": operational.tolerance_minutes,
                    "window_minutes": operational.window_minutes,
                }
            )
        elif isinstance(rule, DangerZoneRule):
            found.append(
                {
                    "rule": name,
                    "class": rule.alert_class,
                    "tolerance_minutes": rule.max_duration.seconds / 60,
                    "window_minutes": None,
                    "between_celsius": [rule.lower.value, rule.upper.value],
                }
            )
    return found
