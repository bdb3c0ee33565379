"""What anyone may read without a key: the sunshine record, QR codes, lot provenance.

The lot paths follow GS1 Digital Link (``/01/{gtin}/10/{lot}``) so a code
printed on a crate resolves here. They answer JSON; an HTML page for browsers
may later be negotiated on the same paths.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.auth import directory
from api.deps import Platform, PlatformDep, SessionDep
from traceability.errors import NotFound
from traceability.public_record.contacts import public_contacts
from traceability.public_record.provenance import lot_provenance
from traceability.public_record.qr import lot_url, premises_url, qr_png, qr_svg
from traceability.public_record.record import sunshine_record
from traceability.public_record.version import RecordVersion, current_version
from traceability.records.gs1 import LotPath, lot_from_path

router = APIRouter(tags=["public"])
# The record alone, included before every other router: the most requested path is matched
# first instead of after some hundred others.
record_router = APIRouter(tags=["public"])

SVG = "image/svg+xml"
PNG = "image/png"
CACHE = {"Cache-Control": "public, max-age=300"}
# A CDN may serve a record for 30 s and, while it asks again, a stale one for a minute more.
RECORD_CACHE = "public, max-age=30, stale-while-revalidate=60"


def public_base(request: Request, platform: Platform) -> str:
    """The base of the URLs QR codes and links point to: the setting, else the request's own
    (so a server on another port or host encodes where it is actually reached)."""
    return platform.settings.public_base_url or str(request.base_url)


def matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    return header.strip() == "*" or etag in (t.strip() for t in header.split(","))


@record_router.get(
    "/v1/public/restaurants/{premises_id}",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, 304: {"description": "unchanged"}},
)
async def restaurant(premises_id: str, request: Request, platform: PlatformDep) -> Response:
    """The sunshine record of a premises: licence, grade, latest inspection, live probes,
    seven days of temperatures, alerts of 90 days with their rectification, latest
    self-checks, ingredient lots, and each item's anchoring status and proof link.

    Built from logged summaries and state, never a rescan of readings. The record is that
    of the current minute; its strong ETag names its version (``public_record.version``:
    the premises' record version, the anchored sizes, the minute), read with one indexed
    query, so ``If-None-Match`` answers 304 without building the record, and a worker
    answers a version it already built from memory.

    The most read endpoint, so it costs one hop to a worker thread: the version query, the
    304 or the kept bytes, and a build only when this worker has not built that version,
    all in one read-only session (nothing here writes; no commit)."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    return await run_in_threadpool(
        _record_answer,
        platform,
        premises_id,
        now,
        request.headers.get("if-none-match"),
        public_base(request, platform),
    )


def _record_answer(
    platform: Platform, premises_id: str, now: datetime, if_none_match: str | None, base: str
) -> Response:
    with platform.sessions() as session:
        version = current_version(session, premises_id, now)
        headers = {"ETag": version.etag, "Cache-Control": RECORD_CACHE}
        if matches(if_none_match, version.etag):
            return Response(status_code=304, headers=headers)
        data = record_body(session, platform, version, base)
    return Response(data, media_type="application/json", headers=headers)


def record_body(session: Session, platform: Platform, version: RecordVersion, base: str) -> bytes:
    """The JSON bytes of the record of ``version`` reached at ``base``: built once per
    version and kept (``platform.record_bodies``). The consumer page carries the same
    bytes (``api.routers.pages``)."""
    # The body names the base it was reached at (links.page), so bodies are kept per base.
    data = platform.record_bodies.get(version, base)
    if data is None:
        premises_id = version.premises_id
        record = sunshine_record(session, premises_id, version.minute)
        record["links"] = {
            "page": premises_url(base, premises_id),
            "qr_svg": f"/v1/public/restaurants/{premises_id}/qr.svg",
            "qr_png": f"/v1/public/restaurants/{premises_id}/qr.png",
        }
        record["contacts"] = public_contacts(platform.settings, record["premises"]["district"])
        data = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        platform.record_bodies.put(version, data, base)
    return data


@router.get(
    "/v1/public/restaurants/{premises_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}},
)
def restaurant_qr_svg(
    premises_id: str, request: Request, session: SessionDep, platform: PlatformDep
) -> Response:
    """A QR code (SVG) pointing to ``{base}/r/{premises_id}`` (``public_base``)."""
    premises = directory.premises(session, premises_id)
    url = premises_url(public_base(request, platform), premises.premises_id)
    return Response(qr_svg(url, premises.name), media_type=SVG, headers=CACHE)


@router.get(
    "/v1/public/restaurants/{premises_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}},
)
def restaurant_qr_png(
    premises_id: str, request: Request, session: SessionDep, platform: PlatformDep
) -> Response:
    """A QR code (PNG) pointing to ``{base}/r/{premises_id}`` (``public_base``)."""
    premises = directory.premises(session, premises_id)
    url = premises_url(public_base(request, platform), premises.premises_id)
    return Response(qr_png(url), media_type=PNG, headers=CACHE)


def lot_path(request: Request) -> LotPath:
    """The lot the request's path names, read from the path as sent (``raw_path``): a ``/``
    inside a lot code travels as ``%2F``, which the decoded path no longer tells apart."""
    raw = request.scope.get("raw_path")
    path = raw.decode("latin-1") if isinstance(raw, bytes) else quote(request.url.path)
    found = lot_from_path(path)
    if found is None:
        raise NotFound(
            f"{path[:200]} is not a lot's path /01/{{gtin}}/10/{{lot}}: "
            "a '/' inside a lot code is written %2F"
        )
    return found


def _lot_answer(request: Request, session: Session, platform: Platform) -> Any:
    wanted = lot_path(request)
    found = lot_provenance(session, wanted.gtin, wanted.lot_code)
    if wanted.tail is None:
        return JSONResponse(found)
    url = lot_url(public_base(request, platform), found["gtin"], wanted.lot_code)
    return Response(qr_svg(url, f"lot {wanted.lot_code}"), media_type=SVG, headers=CACHE)


@router.get(
    "/01/{gtin}/10/{lot:path}/qr.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}},
)
def lot_qr_svg(
    gtin: str, lot: str, request: Request, session: SessionDep, platform: PlatformDep
) -> Any:
    """A QR code (SVG) of the lot's GS1 Digital Link URI (a ``/`` in the lot is ``%2F``)."""
    return _lot_answer(request, session, platform)


@router.get("/01/{gtin}/10/{lot:path}")
def lot(gtin: str, lot: str, request: Request, session: SessionDep, platform: PlatformDep) -> Any:
    """A received lot's provenance: every receipt of it, with premises, supplier, dates and
    each event's proof link and anchoring status. 422 for a GTIN with a wrong check digit.
    The lot code is percent-encoded in the path (a ``/`` in it as ``%2F``)."""
    return _lot_answer(request, session, platform)
