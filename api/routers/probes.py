"""Devices post signed readings here (DESIGN.md, "Device wire format")."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from api.deps import PlatformDep, SessionDep, follow_up_after_commit
from traceability.devices.intake import MALFORMED, ReadingRejected, parse_submission
from traceability.transparency.receipts import sign_batch_receipt

router = APIRouter(prefix="/v1/probes", tags=["devices"])

MAX_BODY = 4 * 1024 * 1024


async def raw_body(request: Request) -> bytes:
    """The body, read on the event loop so the endpoint itself can run in a worker thread."""
    body = await request.body()
    if len(body) > MAX_BODY:
        raise ReadingRejected(MALFORMED, f"the body is {len(body)} bytes; at most {MAX_BODY}")
    return body


@router.post("/readings")
def post_readings(
    body: Annotated[bytes, Depends(raw_body)],
    platform: PlatformDep,
    session: SessionDep,
) -> dict[str, Any]:
    """Up to 1,000 readings, each signed by its device, or one batch signed by a gateway.

    All or nothing: one bad reading refuses the whole submission (HTTP 422) with
    its ``code`` (malformed, unknown_device, retired_device, bad_signature,
    replayed_sequence, non_increasing_sequence, time_in_future, time_too_old,
    impossible_value, batch_too_large, unknown_gateway, retired_gateway,
    gateway_not_authorised), the ``reading`` index and the ``device_id``.
    Accepted readings are logged, one event each, under one signed receipt.
    """
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        raise ReadingRejected(MALFORMED, "the body is not JSON") from None
    submission = parse_submission(parsed)
    result = platform.probe_intake.accept(session, submission, datetime.now(UTC))
    follow_up_after_commit(
        platform,
        session,
        alerts=bool(result.alerts_opened or result.alerts_recovered),
        readings=True,
    )
    return {
        "accepted": result.accepted,
        "receipt": sign_batch_receipt(
            platform.signer, platform.log.origin, result.recorded_at, result.events
        ),
        "alerts_opened": result.alerts_opened,
        "alerts_recovered": result.alerts_recovered,
    }
