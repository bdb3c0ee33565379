"""The log as C2SP tlog-tiles: ``/checkpoint``, ``/tile/<L>/<N>[.p/<W>]`` and
``/tile/entries/<N>[.p/<W>]``, static-looking resources a CDN can cache."""

from __future__ import annotations

import gzip

from fastapi import APIRouter, Request, Response

from api.deps import PlatformDep, SessionDep
from traceability.transparency.published_tiles import read_entry_bundle, read_tile
from traceability.transparency.tile_paths import parse_tile_path

router = APIRouter(tags=["tlog-tiles"])

IMMUTABLE = "public, max-age=31536000, immutable"
PARTIAL = "public, max-age=60"
CHECKPOINT = "public, max-age=5"
OCTETS = "application/octet-stream"


@router.get(
    "/checkpoint",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
)
def checkpoint(platform: PlatformDep, session: SessionDep) -> Response:
    """The newest checkpoint as a C2SP signed note, with the witnesses' cosignatures."""
    note = platform.served_checkpoint(session)
    return Response(
        note,
        media_type="text/plain; charset=utf-8",
        headers={"Cache-Control": CHECKPOINT},
    )


@router.get(
    "/tile/{path:path}",
    response_class=Response,
    responses={200: {"content": {OCTETS: {}}}},
)
def tile(path: str, session: SessionDep, request: Request) -> Response:
    """A Merkle tree tile (level ``L``) or an entry bundle (``entries``, gzip-compressed
    when the client accepts it): 404 beyond the newest checkpoint, 422 for a path that
    is not spelled as C2SP tlog-tiles says."""
    wanted = parse_tile_path("tile/" + path)
    headers = {"Cache-Control": PARTIAL if wanted.partial else IMMUTABLE}
    if wanted.level is not None:
        return Response(read_tile(session, wanted), media_type=OCTETS, headers=headers)
    body = read_entry_bundle(session, wanted)
    headers["Vary"] = "Accept-Encoding"
    if "gzip" in request.headers.get("accept-encoding", "").lower():
        body = gzip.compress(body, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type=OCTETS, headers=headers)
