"""The camera registry: which kitchen cameras a premises has, and which are online.

A camera is online when it delivered a frame within ``ONLINE_WITHIN``; the
vision worker records frames (``touch``) as it logs its batches. The
configuration is stored as the JSON ``kitchen_vision.config`` reads; checking
it is the caller's job (this core package does not import the vision checker).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from traceability.attachments.service import parse_digest
from traceability.cameras import repository as repo
from traceability.errors import Conflict, Invalid, NotFound
from traceability.orgs import repository as org_repository
from traceability.storage.models import AttachmentRow, CameraRow, KitchenSnapshotRow
from traceability.transparency.events import rfc3339

ONLINE_WITHIN = timedelta(minutes=5)
ACTIVE = "active"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass(frozen=True)
class CameraCounts:
    registered: int
    online: int


def _redacted(config: dict[str, Any]) -> dict[str, Any]:
    """The configuration without the password of a stream URL (``rtsp://user:pw@host``)."""
    source = config.get("source")
    if isinstance(source, str) and "://" in source:
        scheme, _, rest = source.partition("://")
        userinfo, at, host = rest.partition("@")
        if at and "/" not in userinfo:
            user = userinfo.split(":", 1)[0]
            config = {**config, "source": f"{scheme}://{user}:***@{host}"}
    return config


def camera_json(row: CameraRow, now: datetime) -> dict[str, Any]:
    return {
        "camera_id": row.camera_id,
        "premises_id": row.premises_id,
        "name": row.name,
        "status": row.status,
        "online": is_online(row, now),
        "last_frame_at": None if row.last_frame_at is None else rfc3339(row.last_frame_at),
        "registered_at": rfc3339(row.registered_at),
        "frames_analysed": int(row.frames_analysed or 0),
        "alerts_by_kind": json.loads(row.alerts_by_kind or "{}"),
        "detectors": json.loads(row.detectors or "[]"),
        "config": _redacted(json.loads(row.config)),
    }


def is_online(row: CameraRow, now: datetime) -> bool:
    return (
        row.status == ACTIVE
        and row.last_frame_at is not None
        and now - row.last_frame_at <= ONLINE_WITHIN
    )


class CameraRegistry:
    """Services flush; callers commit."""

    def register(
        self,
        session: Session,
        *,
        camera_id: str,
        premises_id: str,
        name: str,
        config: Mapping[str, Any],
        now: datetime,
    ) -> CameraRow:
        if not _ID.match(camera_id):
            raise Invalid(f"camera id {camera_id!r} must be 1-64 letters, digits, '.', '_' or '-'")
        if org_repository.premises(session, premises_id) is None:
            raise NotFound(f"no premises {premises_id}")
        if repo.camera(session, camera_id) is not None:
            raise Conflict(f"camera {camera_id} is already registered")
        row = CameraRow(
            camera_id=camera_id,
            premises_id=premises_id,
            name=name,
            config=json.dumps(dict(config), sort_keys=True, default=str),
            status=ACTIVE,
            last_frame_at=None,
            registered_at=now,
        )
        try:
            with session.begin_nested():
                repo.add(session, row)
        except IntegrityError:
            raise Conflict(f"camera {camera_id} is already registered") from None
        return row

    def get(self, session: Session, camera_id: str) -> CameraRow:
        row = repo.camera(session, camera_id)
        if row is None:
            raise NotFound(f"no camera {camera_id}")
        return row

    def of_premises(self, session: Session, premises_id: str, limit: int = 500) -> list[CameraRow]:
        return list(repo.cameras_of(session, premises_id, limit=limit))

    def all(self, session: Session, *, offset: int, limit: int) -> list[CameraRow]:
        return list(repo.cameras(session, offset=offset, limit=limit))

    def frame_seen(self, session: Session, camera_id: str, at: datetime) -> None:
        """Note a frame (a no-op for a camera that is not registered, e.g. ``analyze``)."""
        repo.touch(session, camera_id, at)

    def analysed(
        self,
        session: Session,
        camera_id: str,
        *,
        frames: int,
        alerts: Mapping[str, int],
        detectors: Sequence[str],
    ) -> None:
        """Count frames the checker analysed and alerts it opened, and name the detectors
        that ran (a no-op for a camera that is not registered)."""
        repo.add_analysed(session, camera_id, frames, dict(alerts), list(detectors))

    def counts(self, session: Session, premises_id: str, now: datetime) -> CameraCounts:
        registered, online = repo.counts(session, premises_id, now - ONLINE_WITHIN)
        return CameraCounts(registered, online)


VISION_UPLOADER_PREFIX = "vision:"
"""Evidence the vision checker stores is uploaded by ``vision:<camera id>``."""


UNBLURRED_NOTE = "no face detector was available, faces are NOT blurred"
"""What versions before issue 15 wrote in a vision alert whose evidence they stored unblurred
(they no longer store any: kitchen_vision.evidence fails closed)."""


def public_evidence(session: Session, sha256_hex: str) -> AttachmentRow:
    """A blurred vision evidence image anyone may see; ``NotFound`` for anything else
    (a restaurant's uploads are not public through this path)."""
    row = repo.vision_evidence(session, parse_digest(sha256_hex), VISION_UPLOADER_PREFIX)
    if row is None:
        raise NotFound(f"no vision evidence {sha256_hex}")
    if sha256_hex in repo.unblurred_evidence(session, UNBLURRED_NOTE):
        raise NotFound(
            f"vision evidence {sha256_hex} was stored when no face detector could blur it; "
            "it is not published"
        )
    return row


def public_snapshot(session: Session, sha256_hex: str) -> KitchenSnapshotRow:
    """A kitchen snapshot by its SHA-256 (lower-case hex); ``NotFound`` once retention
    deleted it (its event stays in the log)."""
    if not re.fullmatch(r"[0-9a-f]{64}", sha256_hex):
        raise Invalid(f"{sha256_hex!r} is not a SHA-256 in lower-case hex")
    row = repo.snapshot(session, sha256_hex)
    if row is None:
        raise NotFound(f"no kitchen snapshot {sha256_hex} (never published, or past retention)")
    return row


def snapshot_every(row: CameraRow) -> float | None:
    """Minutes between a camera's public snapshots, or None when it publishes none."""
    snapshot = json.loads(row.config).get("snapshot")
    if not isinstance(snapshot, dict):
        return None
    every = snapshot.get("every_minutes")
    return float(every) if isinstance(every, int | float) else None


def latest_snapshots(session: Session, premises_id: str, now: datetime) -> list[dict[str, Any]]:
    """Per active camera of the premises that publishes snapshots: its latest one (or
    None), and whether that is recent (within two intervals; never when there is none)."""
    out: list[dict[str, Any]] = []
    for row in repo.cameras_of(session, premises_id, limit=500):
        every = snapshot_every(row)
        if row.status != ACTIVE or every is None:
            continue
        latest = repo.latest_snapshot(session, row.camera_id)
        recent = latest is not None and now - latest.taken_at <= timedelta(minutes=2 * every)
        out.append(
            {
                "camera_id": row.camera_id,
                "name": row.name,
                "every_minutes": every,
                "recent": recent,
                "latest": None
                if latest is None
                else {
                    "sha256": latest.sha256,
                    "taken_at": rfc3339(latest.taken_at),
                    "bytes": latest.size,
                    "url": f"/v1/public/snapshots/{latest.sha256}",
                    "event_id": latest.event_id,
                },
            }
        )
    return out
