"""The admin API: registering, rotating and retiring probes and gateways.

Until organisations and API keys exist, one admin token (SUNLEDGER_ADMIN_TOKEN)
guards it; without that setting the admin API is off.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, ConfigDict, Field

from api.deps import PlatformDep, SessionDep
from traceability.devices import DeviceInfo, DeviceRegistry, decode_public_key
from traceability.errors import Forbidden


class Unauthorised(Forbidden):
    status_code = 401


def require_admin(
    platform: PlatformDep, authorization: Annotated[str | None, Header()] = None
) -> None:
    token = platform.settings.admin_token
    if token is None:
        raise Forbidden("the admin API is off: set SUNLEDGER_ADMIN_TOKEN to enable it")
    expected = f"Bearer {token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise Unauthorised("a valid 'Authorization: Bearer <admin token>' header is required")


router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(require_admin)])
registry = DeviceRegistry()


class NewDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=1, max_length=64)
    premises_id: str = Field(min_length=1, max_length=64)
    location: str = Field(min_length=1, max_length=200)
    kind: Literal[
        "fridge",
        "freezer",
        "hot_holding",
        "core_probe",
        "dishwasher",
        "disinfection_cabinet",
        "sample_fridge",
        "room",
    ]
    profile: Literal["cn", "us"] = "cn"
    public_key: str = Field(description="Ed25519 public key, 32 bytes, base64")


class NewGateway(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gateway_id: str = Field(min_length=1, max_length=64)
    premises_id: str = Field(min_length=1, max_length=64)
    public_key: str


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: str


def _device_json(info: DeviceInfo) -> dict[str, Any]:
    return {
        "device_id": info.device_id,
        "premises_id": info.premises_id,
        "location": info.location,
        "kind": info.kind,
        "profile": info.profile,
        "status": info.status,
        "key_id": info.key_id,
        "last_seq": info.last_seq,
    }


@router.post("/devices", status_code=201)
def register_device(new: NewDevice, session: SessionDep) -> dict[str, Any]:
    info = registry.register_device(
        session,
        device_id=new.device_id,
        premises_id=new.premises_id,
        location=new.location,
        kind=new.kind,
        profile=new.profile,
        public_key=decode_public_key(new.public_key),
        now=datetime.now(UTC),
    )
    return _device_json(info)


@router.get("/devices/{device_id}")
def device(device_id: str, session: SessionDep) -> dict[str, Any]:
    info = registry.describe(session, device_id)
    keys = registry.keys(session, "device", device_id)
    return {
        **_device_json(info),
        "keys": [
            {
                "key_id": k.key_id,
                "valid_from": k.valid_from.isoformat(),
                "valid_until": None if k.valid_until is None else k.valid_until.isoformat(),
            }
            for k in keys
        ],
    }


@router.post("/devices/{device_id}/keys", status_code=201)
def rotate_device_key(device_id: str, new: NewKey, session: SessionDep) -> dict[str, Any]:
    key_id = registry.rotate_key(
        session, "device", device_id, decode_public_key(new.public_key), datetime.now(UTC)
    )
    return {"device_id": device_id, "key_id": key_id}


@router.post("/devices/{device_id}/retire")
def retire_device(device_id: str, session: SessionDep) -> dict[str, Any]:
    registry.retire(session, "device", device_id, datetime.now(UTC))
    return {"device_id": device_id, "status": "retired"}


@router.post("/gateways", status_code=201)
def register_gateway(new: NewGateway, session: SessionDep) -> dict[str, Any]:
    key_id = registry.register_gateway(
        session,
        gateway_id=new.gateway_id,
        premises_id=new.premises_id,
        public_key=decode_public_key(new.public_key),
        now=datetime.now(UTC),
    )
    return {"gateway_id": new.gateway_id, "premises_id": new.premises_id, "key_id": key_id}


@router.post("/gateways/{gateway_id}/retire")
def retire_gateway(gateway_id: str, session: SessionDep) -> dict[str, Any]:
    registry.retire(session, "gateway", gateway_id, datetime.now(UTC))
    return {"gateway_id": gateway_id, "status": "retired"}
