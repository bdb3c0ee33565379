"""Kitchen cameras: the admin registers them, restaurants and their readers list them,
and anyone may fetch a blurred vision evidence image by its SHA-256."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Response
from pydantic import BaseModel, ConfigDict, Field

from api.auth import PrincipalDep, directory, get_admin
from api.deps import SessionDep
from api.pagination import PageDep, paged
from kitchen_vision.config import parse_config
from traceability.cameras.registry import (
    CameraRegistry,
    camera_json,
    public_evidence,
    public_snapshot,
)

router = APIRouter(tags=["cameras"])
registry = CameraRegistry()
PremisesId = Annotated[str, Path(min_length=1, max_length=64)]


class NewCamera(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=200)
    config: dict[str, Any] = Field(
        description="The camera's checker configuration (as the YAML file of "
        "`sunledger vision run`): camera_id, premises_id, source, zones, opening_hours, ..."
    )


@router.post("/v1/admin/cameras", status_code=201, dependencies=[Depends(get_admin)])
def register_camera(new: NewCamera, session: SessionDep) -> dict[str, Any]:
    """Register a camera with its configuration (checked as the vision worker reads it)."""
    config = parse_config(new.config)
    now = datetime.now(UTC)
    row = registry.register(
        session,
        camera_id=config.camera_id,
        premises_id=config.premises_id,
        name=new.name or config.name or config.camera_id,
        config=config.to_json(),
        now=now,
    )
    return camera_json(row, now)


@router.get("/v1/admin/cameras", dependencies=[Depends(get_admin)])
def cameras(session: SessionDep, page: PageDep) -> dict[str, Any]:
    now = datetime.now(UTC)
    rows = registry.all(session, offset=page.offset, limit=page.fetch)
    return paged([camera_json(r, now) for r in rows], page)


@router.get("/v1/premises/{premises_id}/cameras")
def premises_cameras(
    premises_id: PremisesId, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    """The cameras of a premises, online or not (for its restaurant, regulator, auditors)."""
    directory.readable_premises(session, principal, premises_id)
    now = datetime.now(UTC)
    rows = registry.of_premises(session, premises_id)
    return {"premises_id": premises_id, "items": [camera_json(r, now) for r in rows]}


@router.get(
    "/v1/public/evidence/{sha256}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def evidence(sha256: str, session: SessionDep) -> Response:
    """A vision evidence snapshot, faces blurred (the only kind of image stored for it).
    Other attachments are not public here: 404."""
    row = public_evidence(session, sha256)
    return Response(
        bytes(row.data),
        media_type=row.media_type,
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )


@router.get(
    "/v1/public/snapshots/{sha256}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}}}},
)
def snapshot(sha256: str, session: SessionDep) -> Response:
    """A public kitchen snapshot (faces blurred) by the SHA-256 of its bytes, as logged in
    its ``kitchen_snapshot`` observation. 404 once retention deleted it; 422 for a bad hash."""
    row = public_snapshot(session, sha256)
    return Response(
        bytes(row.data),
        media_type=row.media_type,
        headers={"Cache-Control": "public, max-age=86400, immutable"},
    )
