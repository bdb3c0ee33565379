"""A first demo: one day of a few kitchens' events, logged and checkpointed.

This is the foundation's demo (the log and the auditor API); the living demo
city with probes, cameras and pages comes with later work. Event ids are
derived from the scenario, so a second run reuses the data directory and
appends nothing new.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

DEMO_NAMESPACE = uuid.UUID("5b6f4a1e-3c55-4c1f-9d0e-2a51e0d8a7c1")
DAY = datetime(2026, 11, 24, tzinfo=UTC)

PREMISES = [
    ("p-0001", "Lotus Noodle House", ["fr-0001", "fr-0002"]),
    ("p-0002", "Riverside School Canteen", ["fr-0003", "fz-0004"]),
    ("p-0003", "Harbour Central Kitchen", ["fr-0005", "fz-0006"]),
]
STAFF = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]


def _id(*parts: object) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, "/".join(str(p) for p in parts)))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _temperature(device: str, minute: int) -> float:
    """A compressor cycle around 3 °C (fridge) or −18 °C (freezer)."""
    base = -18.0 if device.startswith("fz") else 3.0
    cycle = 1.2 * math.sin(2 * math.pi * minute / 40.0)
    return round(base + cycle, 1)


def scenario_events() -> Iterator[dict[str, Any]]:
    """The demo day's events, in time order per premises."""
    for premises, _name, devices in PREMISES:
        for k, staff in enumerate((STAFF[:3], STAFF[3:])):
            at = DAY + timedelta(hours=6, minutes=30 + k)
            yield {
                "id": _id(premises, "morning_check", k),
                "kind": "restaurant_record",
                "subject": f"premises:{premises}",
                "occurred_at": _iso(at),
                "payload": {
                    "record_type": "morning_check",
                    "staff": [
                        {"name": person, "health_certificate_expiry": "2027-06-30"}
                        for person in staff
                    ],
                    "fields": {"shift": "breakfast" if k == 0 else "lunch"},
                },
            }
        yield {
            "id": _id(premises, "receipt", "rice"),
            "kind": "ingredient_receipt",
            "subject": f"lot:{premises}-rice-20261124",
            "occurred_at": _iso(DAY + timedelta(hours=7)),
            "payload": {
                "lot_code": f"{premises.upper()}-RICE-20261124",
                "gtin": "06901234567892",
                "product": "Northeast rice 25 kg",
                "quantity": 2,
                "unit": "bag",
                "previous_source": "Harbour Grain Co., licence SC123456",
                "receiving_location": premises,
                "received_on": "2026-11-24",
                "reference_document_type": "delivery_note",
                "reference_document_number": f"DN-{premises}-0001",
            },
        }
        for device in devices:
            for seq, minute in enumerate(range(0, 24 * 60, 10)):
                at = DAY + timedelta(minutes=minute)
                yield {
                    "id": _id(device, seq),
                    "kind": "probe_reading",
                    "subject": f"device:{device}",
                    "occurred_at": _iso(at),
                    "payload": {
                        "device_id": device,
                        "seq": seq,
                        "measured_at": _iso(at),
                        "values": [
                            {
                                "type": "Temperature",
                                "value": _temperature(device, minute),
                                "uom": "CEL",
                            }
                        ],
                    },
                }
