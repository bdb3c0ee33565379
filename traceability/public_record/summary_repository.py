"""The SQL behind probe day summaries: the readings a window covers and the summary cache."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from traceability.storage.models import DeviceRow, EventRow, PremisesRow, ProbeDaySummaryRow
from traceability.transparency.events import EventKind


def active_probes(session: Session) -> Sequence[tuple[DeviceRow, str]]:
    """Every active probe with its premises' time zone."""
    rows = session.execute(
        select(DeviceRow, PremisesRow.timezone)
        .join(PremisesRow, PremisesRow.premises_id == DeviceRow.premises_id)
        .where(DeviceRow.status == "active")
        .order_by(DeviceRow.device_id)
    ).all()
    return [(device, str(zone)) for device, zone in rows]


def readings_between(
    session: Session, device_id: str, start: datetime, end: datetime
) -> list[tuple[int, bytes]]:
    """(leaf index, body) of the device's readings that occurred in ``[start, end)``."""
    rows = session.execute(
        select(EventRow.leaf_index, EventRow.body)
        .where(
            EventRow.subject == f"device:{device_id}",
            EventRow.occurred_at >= start,
            EventRow.occurred_at < end,
            EventRow.kind == EventKind.PROBE_READING.value,
        )
        .order_by(EventRow.leaf_index)
    ).all()
    return [(int(index), bytes(body)) for index, body in rows]


def readings_in_leaf_range(
    session: Session, device_id: str, first: int, last: int
) -> list[tuple[int, bytes]]:
    """(leaf index, body) of the device's readings with leaf index in ``[first, last]``."""
    rows = session.execute(
        select(EventRow.leaf_index, EventRow.body)
        .where(
            EventRow.leaf_index >= first,
            EventRow.leaf_index <= last,
            EventRow.subject == f"device:{device_id}",
            EventRow.kind == EventKind.PROBE_READING.value,
        )
        .order_by(EventRow.leaf_index)
    ).all()
    return [(int(index), bytes(body)) for index, body in rows]


def summaries_since(
    session: Session, device_ids: Sequence[str], since: date
) -> list[ProbeDaySummaryRow]:
    if not device_ids:
        return []
    return list(
        session.execute(
            select(ProbeDaySummaryRow)
            .where(
                ProbeDaySummaryRow.device_id.in_(list(device_ids)),
                ProbeDaySummaryRow.day >= since,
            )
            .order_by(ProbeDaySummaryRow.device_id, ProbeDaySummaryRow.day)
        ).scalars()
    )


def day_summaries(session: Session, device_ids: Sequence[str], since: date) -> list[Any]:
    """The cached summaries of these devices since ``since``, as plain rows (read-only)."""
    if not device_ids:
        return []
    table = ProbeDaySummaryRow.__table__
    return list(
        session.execute(
            select(table).where(table.c.device_id.in_(list(device_ids)), table.c.day >= since)
        ).all()
    )


def summary(session: Session, device_id: str, day: date) -> ProbeDaySummaryRow | None:
    return session.get(ProbeDaySummaryRow, (device_id, day))
