"""The admin API: organisations, premises and API keys; probes and gateways.

Called with an admin organisation's API key, or with the bootstrap token
``SUNLEDGER_ADMIN_TOKEN`` (to create the first admin organisation).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from api.auth import directory, get_admin
from api.deps import SessionDep
from api.pagination import PageDep, paged
from traceability.devices.registry import DeviceInfo, DeviceRegistry, decode_public_key
from traceability.orgs import repository as org_repository
from traceability.orgs.registry import RegistryFields
from traceability.rules.device_kinds import DEVICE_KINDS
from traceability.storage.models import OrganisationRow, PremisesRow

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[Depends(get_admin)])
registry = DeviceRegistry()

# The same Literal the kinds were once spelled out in (one OpenAPI enum, the same 422),
# built from their one definition.
DeviceKindName = Literal[*DEVICE_KINDS]  # type: ignore[valid-type]


class NewDevice(BaseModel):
    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=1, max_length=64)
    premises_id: str = Field(min_length=1, max_length=64)
    location: str = Field(min_length=1, max_length=200)
    kind: DeviceKindName
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


class NewOrganisation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    org_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    role: Literal["restaurant", "regulator", "auditor", "admin"]
    districts: list[str] = Field(default_factory=list, max_length=200)


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1, max_length=100)
    valid_days: int | None = Field(default=None, ge=1, le=3650)


class PremisesRegistry(BaseModel):
    """What outside registries carry (all optional)."""

    model_config = ConfigDict(extra="forbid")

    external_ids: dict[str, str] = Field(default_factory=dict, max_length=20)
    """Source → the premises' id there, e.g. {"fhrs": "254719"}."""
    city: str | None = Field(default=None, max_length=100)
    region: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=20)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    phone: str | None = Field(default=None, max_length=40)
    business_type: str | None = Field(default=None, max_length=100)
    scheme: str = Field(default="cn", max_length=32)
    inspection_only: bool = False


class NewPremises(BaseModel):
    model_config = ConfigDict(extra="forbid")

    premises_id: str = Field(min_length=1, max_length=64)
    org_id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(min_length=1, max_length=32)
    licence_number: str | None = Field(default=None, min_length=1, max_length=64)
    licence_issued_on: date | None = None
    licence_expires_on: date | None = None
    licence_status: Literal["valid", "suspended", "revoked", "expired"] = "valid"
    district: str = Field(min_length=1, max_length=64)
    address: str = Field(min_length=1, max_length=300)
    timezone: str = Field(default="Asia/Shanghai", max_length=40)
    first_shift: str = Field(default="07:00", max_length=5)
    registry: PremisesRegistry | None = None


class Webhook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, max_length=500)


def organisation_json(row: OrganisationRow) -> dict[str, Any]:
    return {
        "org_id": row.org_id,
        "name": row.name,
        "role": row.role,
        "districts": json.loads(row.districts),
        "status": row.status,
        "webhook_url": row.webhook_url,
    }


def premises_json(row: PremisesRow) -> dict[str, Any]:
    return {
        "premises_id": row.premises_id,
        "org_id": row.org_id,
        "name": row.name,
        "kind": row.kind,
        "licence_number": row.licence_number,
        "licence_status": row.licence_status,
        "licence_issued_on": (
            None if row.licence_issued_on is None else row.licence_issued_on.isoformat()
        ),
        "licence_expires_on": (
            None if row.licence_expires_on is None else row.licence_expires_on.isoformat()
        ),
        "district": row.district,
        "address": row.address,
        "timezone": row.timezone,
        "first_shift": row.first_shift,
        "city": row.city,
        "region": row.region,
        "postal_code": row.postal_code,
        "latitude": row.latitude,
        "longitude": row.longitude,
        "phone": row.phone,
        "business_type": row.business_type,
        "scheme": row.scheme,
        "inspection_only": row.inspection_only,
    }


@router.post("/orgs", status_code=201)
def create_organisation(new: NewOrganisation, session: SessionDep) -> dict[str, Any]:
    row = directory.create_organisation(
        session,
        org_id=new.org_id,
        name=new.name,
        role=new.role,
        districts=new.districts,
        now=datetime.now(UTC),
    )
    return organisation_json(row)


@router.get("/orgs")
def organisations(session: SessionDep, page: PageDep) -> dict[str, Any]:
    rows = org_repository.organisations(session, offset=page.offset, limit=page.fetch)
    return paged([organisation_json(r) for r in rows], page)


@router.post("/orgs/{org_id}/keys", status_code=201)
def issue_api_key(org_id: str, new: NewApiKey, session: SessionDep) -> dict[str, Any]:
    """A new API key for the organisation. The ``api_key`` is shown only in this answer."""
    issued = directory.issue_key(
        session,
        org_id,
        label=new.label,
        now=datetime.now(UTC),
        valid_for=None if new.valid_days is None else timedelta(days=new.valid_days),
    )
    return {
        "key_id": issued.key_id,
        "org_id": org_id,
        "api_key": issued.token,
        "expires_at": None if issued.expires_at is None else issued.expires_at.isoformat(),
    }


@router.post("/keys/{key_id}/revoke")
def revoke_api_key(key_id: str, session: SessionDep) -> dict[str, Any]:
    row = directory.revoke_key(session, key_id, datetime.now(UTC))
    return {"key_id": key_id, "org_id": row.org_id, "revoked": True}


@router.put("/orgs/{org_id}/webhook")
def set_webhook(org_id: str, hook: Webhook, session: SessionDep) -> dict[str, Any]:
    """Point alert notifications at ``url`` (null turns them off). The HMAC ``secret``
    is shown only in this answer."""
    secret = directory.set_webhook(session, org_id, hook.url)
    return {"org_id": org_id, "url": hook.url, "secret": secret}


@router.post("/premises", status_code=201)
def add_premises(new: NewPremises, session: SessionDep) -> dict[str, Any]:
    fields = new.model_dump(exclude={"registry"})
    registry = None
    if new.registry is not None:
        registry = RegistryFields(
            **new.registry.model_dump(exclude={"external_ids"}),
            external_ids=tuple(sorted(new.registry.external_ids.items())),
        )
    row = directory.add_premises(session, now=datetime.now(UTC), registry=registry, **fields)
    return {
        **premises_json(row),
        "external_ids": org_repository.external_ids(session, row.premises_id),
    }
