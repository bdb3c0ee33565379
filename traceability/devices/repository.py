"""All SQL of devices, gateways, their keys and probe alerts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from traceability.storage.models import DeviceRow, GatewayRow, SignerKeyRow


def device(session: Session, device_id: str) -> DeviceRow | None:
    return session.get(DeviceRow, device_id)


def devices(session: Session, device_ids: Iterable[str]) -> dict[str, DeviceRow]:
    wanted = sorted(set(device_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(DeviceRow)
        .where(DeviceRow.device_id.in_(wanted))
        .execution_options(populate_existing=True)
    ).scalars()
    return {row.device_id: row for row in rows}


def gateway(session: Session, gateway_id: str) -> GatewayRow | None:
    return session.get(GatewayRow, gateway_id)


def add(session: Session, row: Any) -> None:
    session.add(row)
    session.flush()


def active_keys(
    session: Session, owner_type: str, owner_ids: Iterable[str]
) -> dict[str, SignerKeyRow]:
    """The current key of each owner (the one without an end)."""
    wanted = sorted(set(owner_ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(SignerKeyRow).where(
            SignerKeyRow.owner_type == owner_type,
            SignerKeyRow.owner_id.in_(wanted),
            SignerKeyRow.valid_until.is_(None),
        )
    ).scalars()
    return {row.owner_id: row for row in rows}


def key(session: Session, key_id: str) -> SignerKeyRow | None:
    return session.get(SignerKeyRow, key_id)


def keys_of(session: Session, owner_type: str, owner_id: str) -> Sequence[SignerKeyRow]:
    return list(
        session.execute(
            select(SignerKeyRow)
            .where(SignerKeyRow.owner_type == owner_type, SignerKeyRow.owner_id == owner_id)
            .order_by(SignerKeyRow.valid_from)
        ).scalars()
    )


def end_keys(session: Session, owner_type: str, owner_id: str, at: datetime) -> None:
    session.execute(
        update(SignerKeyRow)
        .where(
            SignerKeyRow.owner_type == owner_type,
            SignerKeyRow.owner_id == owner_id,
            SignerKeyRow.valid_until.is_(None),
        )
        .values(valid_until=at)
        .execution_options(synchronize_session=False)
    )


def advance_devices(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Store each device's new last sequence number, last reading time and rule state.

    One executemany (pipelined by psycopg) rather than a round trip per device.
    """
    if not rows:
        return
    table = DeviceRow.__table__
    assert isinstance(table, Table)
    session.connection().execute(
        update(table)
        .where(table.c.device_id == bindparam("b_device_id"))
        .values(
            last_seq=bindparam("b_last_seq"),
            last_reading_at=bindparam("b_last_reading_at"),
            rule_state=bindparam("b_rule_state"),
        ),
        [{f"b_{key}": value for key, value in row.items()} for row in rows],
    )


def advance_gateway(session: Session, gateway_id: str, seq: int) -> None:
    session.execute(
        update(GatewayRow)
        .where(GatewayRow.gateway_id == gateway_id)
        .values(last_seq=seq)
        .execution_options(synchronize_session=False)
    )


def active_devices(session: Session) -> Sequence[DeviceRow]:
    return list(session.execute(select(DeviceRow).where(DeviceRow.status == "active")).scalars())
