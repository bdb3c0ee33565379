"""Who is calling: API keys (``Authorization: Bearer slk_...``) turned into a ``Principal``."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header

from api.deps import PlatformDep, SessionDep
from traceability.errors import Unauthenticated
from traceability.messages import message
from traceability.orgs.registry import Directory, Principal

directory = Directory()


def _bearer(authorization: str | None) -> str:
    if authorization is None:
        raise Unauthenticated(message("auth.header_missing"))
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(message("auth.header_malformed"))
    return token.strip()


def get_principal(
    session: SessionDep, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    return directory.authenticate(session, _bearer(authorization), datetime.now(UTC))


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def role(*roles: str) -> Callable[[Principal], Principal]:
    """A dependency that lets only these roles through (403 names the role needed)."""

    def check(principal: PrincipalDep) -> Principal:
        principal.require(*roles)
        return principal

    check.__name__ = f"role_{'_'.join(roles)}"
    return check


RestaurantDep = Annotated[Principal, Depends(role("restaurant"))]
RegulatorDep = Annotated[Principal, Depends(role("regulator"))]
AdminDep = Annotated[Principal, Depends(role("admin"))]


def get_admin(
    platform: PlatformDep,
    session: SessionDep,
    authorization: Annotated[str | None, Header()] = None,
) -> Principal:
    """An admin organisation's key, or the bootstrap ``SUNLEDGER_ADMIN_TOKEN``."""
    token = _bearer(authorization)
    bootstrap = platform.settings.admin_token
    if bootstrap is not None and hmac.compare_digest(
        token.encode(), bootstrap.get_secret_value().encode()
    ):
        return Principal(org_id="platform", role="admin", key_id="admin-token")
    principal = directory.authenticate(session, token, datetime.now(UTC))
    principal.require("admin")
    return principal
