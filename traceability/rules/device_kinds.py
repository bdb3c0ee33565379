"""The kinds of probe device, defined once: the rules engine judges per kind, profiles
choose rules per kind, the registry and the admin API accept exactly these."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["DEVICE_KINDS", "DeviceKind"]


class DeviceKind(StrEnum):
    FRIDGE = "fridge"
    FREEZER = "freezer"
    HOT_HOLDING = "hot_holding"
    CORE_PROBE = "core_probe"
    DISHWASHER = "dishwasher"
    DISINFECTION_CABINET = "disinfection_cabinet"
    SAMPLE_FRIDGE = "sample_fridge"
    ROOM = "room"


DEVICE_KINDS: tuple[str, ...] = tuple(kind.value for kind in DeviceKind)
"""The kinds' names, in their order of definition."""
