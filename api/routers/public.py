"""What anyone may read without a key: the sunshine record, QR codes, lot provenance.

The lot paths follow GS1 Digital Link (``/01/{gtin}/10/{lot}``) so a code
printed on a crate resolves here. They answer JSON; an HTML page for browsers
may later be negotiated on the same paths.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.auth import directory
from api.deps import Platform, PlatformDep, SessionDep
from traceability.errors import NotFound
from traceability.public_record import repository as public_repo
from traceability.public_record.provenance import lot_provenance
from traceability.public_record.qr import lot_url, premises_url, qr_png, qr_svg
from traceability.public_record.record import sunshine_record
from traceability.records.gs1 import LotPath, lot_from_path

router = APIRouter(tags=["public"])

SVG = "image/svg+xml"
PNG = "image/png"
CACHE = {"Cache-Control": "public, max-age=300"}
# A CDN may serve a record for 30 s and, while it asks again, a stale one for a minute more.
RECORD_CACHE = "public, max-age=30, stale-while-revalidate=60"


@dataclass(frozen=True)
class _Built:
    validator: tuple[Any, ...]
    made: float
    etag: str
    data: bytes


class _RecordReuse:
    """Per process: the record last built for each premises, reused while its validator
    (the minute, the log's size, the anchored sizes) holds and it is young enough."""

    def __init__(self, size: int = 2048) -> None:
        self._lock = threading.Lock()
        self._built: OrderedDict[tuple[int, str], _Built] = OrderedDict()
        self._size = size

    def get(
        self, key: tuple[int, str], validator: tuple[Any, ...], seconds: float
    ) -> _Built | None:
        with self._lock:
            built = self._built.get(key)
        if built is None or built.validator != validator:
            return None
        return built if time.monotonic() - built.made < seconds else None

    def put(self, key: tuple[int, str], built: _Built) -> None:
        with self._lock:
            self._built[key] = built
            self._built.move_to_end(key)
            while len(self._built) > self._size:
                self._built.popitem(last=False)


_REUSE = _RecordReuse()


def _matches(header: str | None, etag: str) -> bool:
    if header is None:
        return False
    return header.strip() == "*" or etag in (t.strip() for t in header.split(","))


@router.get(
    "/v1/public/restaurants/{premises_id}",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}, 304: {"description": "unchanged"}},
)
def restaurant(
    premises_id: str, request: Request, session: SessionDep, platform: PlatformDep
) -> Response:
    """The sunshine record of a premises: licence, grade, latest inspection, live probes,
    seven days of temperatures, alerts of 90 days with their rectification, latest
    self-checks, ingredient lots, and each item's anchoring status and proof link.

    Built from logged summaries and state, never a rescan of readings. The record is that
    of the current minute; its strong ETag names the newest logged event it shows and
    the digest of its bytes, so ``If-None-Match`` answers 304 until either changes."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    reuse = platform.settings.public_record_reuse_seconds
    key = (id(platform), premises_id)
    built = None
    if reuse > 0:
        validator = (now, platform.log.size(session), *public_repo.anchored_sizes(session))
        built = _REUSE.get(key, validator, reuse)
    if built is None:
        record = sunshine_record(session, premises_id, now)
        base = platform.settings.public_base_url
        record["links"] = {
            "page": premises_url(base, premises_id),
            "qr_svg": f"/v1/public/restaurants/{premises_id}/qr.svg",
            "qr_png": f"/v1/public/restaurants/{premises_id}/qr.png",
        }
        data = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode()
        newest = record["anchoring"]["newest_leaf_index"]
        tag = "-" if newest is None else newest
        etag = f'"r{tag}-{hashlib.sha256(data).hexdigest()[:24]}"'
        if reuse > 0:
            _REUSE.put(key, _Built(validator, time.monotonic(), etag, data))
    else:
        etag, data = built.etag, built.data
    headers = {"ETag": etag, "Cache-Control": RECORD_CACHE}
    if _matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="application/json", headers=headers)


@router.get(
    "/v1/public/restaurants/{premises_id}/qr.svg",
    response_class=Response,
    responses={200: {"content": {SVG: {}}}},
)
def restaurant_qr_svg(premises_id: str, session: SessionDep, platform: PlatformDep) -> Response:
    """A QR code (SVG) pointing to ``{public_base_url}/r/{premises_id}``."""
    premises = directory.premises(session, premises_id)
    url = premises_url(platform.settings.public_base_url, premises.premises_id)
    return Response(qr_svg(url, premises.name), media_type=SVG, headers=CACHE)


@router.get(
    "/v1/public/restaurants/{premises_id}/qr.png",
    response_class=Response,
    responses={200: {"content": {PNG: {}}}},
)
def restaurant_qr_png(premises_id: str, session: SessionDep, platform: PlatformDep) -> Response:
    """A QR code (PNG) pointing to ``{public_base_url}/r/{premises_id}``."""
    premises = directory.premises(session, premises_id)
    url = premises_url(platform.settings.public_base_url, premises.premises_id)
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
    url = lot_url(platform.settings.public_base_url, found["gtin"], wanted.lot_code)
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
