"""A stove probe's latest temperature as logged: what the vision checker's
unattended-flame rule asks (``traceability.cameras.observations.StoveReadings``)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from traceability.public_record import repository as public_repo


class LoggedStoveProbe:
    """A stove probe's latest logged reading, read from the log (``StoveReadings``)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def latest(self, device_id: str) -> tuple[datetime, float] | None:
        with self.sessions() as session:
            row = public_repo.last_reading(session, device_id)
            if row is None:
                return None
            body: dict[str, Any] = json.loads(bytes(row.body))
        payload = body["payload"]
        for value in payload.get("values", []):
            if value.get("type") == "Temperature" and value.get("uom") == "CEL":
                return datetime.fromisoformat(payload["measured_at"]), float(value["value"])
        return None
