"""The web pages (mobile_web/static): the consumer's QR page, the lot page, the regulator
console, the kitchen pages, their assets, and the public config the pages verify with.

The pages are static files; all data comes from the JSON API, and the consumer and lot
pages verify every item in the browser. The lot page shares its GS1 Digital Link path with
the JSON answer of ``api.routers.public``: it is served only to requests that ask for HTML.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from starlette.routing import Match
from starlette.types import Scope

from api.deps import PlatformDep
from traceability.errors import Invalid, NotFound
from traceability.public_record.contacts import CITY_DEFAULT, public_contacts
from traceability.records.gs1 import lot_from_path

STATIC = "mobile_web"
HTML = "text/html; charset=utf-8"
# Scripts and styles only from us; the chain RPC may be any endpoint the reader picks.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src *; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
COMPRESSIBLE = frozenset({".js", ".css", ".html", ".svg", ".json"})
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}

PremisesId = Annotated[str, Path(min_length=1, max_length=64)]


def _static_root() -> Traversable:
    return files(STATIC).joinpath("static")


@lru_cache(maxsize=64)
def _asset(relative: str) -> bytes:
    """The bytes of one file under mobile_web/static; ``NotFound`` for anything else."""
    parts = relative.split("/")
    if not relative or any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise NotFound(f"no asset {relative}")
    node = _static_root()
    for part in parts:
        node = node.joinpath(part)
    if not node.is_file():
        raise NotFound(f"no asset {relative}")
    return node.read_bytes()


def _page(name: str) -> Response:
    return Response(_asset(name), media_type=HTML, headers=PAGE_HEADERS)


class HtmlOnlyRoute(APIRoute):
    """A route that matches only requests whose Accept header names text/html, so the
    same path keeps answering JSON to every other client."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE:
            return match, child
        accept = dict(scope.get("headers") or []).get(b"accept", b"").decode("latin-1")
        if "text/html" not in accept.lower():
            return Match.NONE, {}
        return match, child


router = APIRouter(tags=["pages"])


@router.get("/", response_class=Response, responses={200: {"content": {HTML: {}}}})
def landing_page() -> Response:
    """The landing page: find a premises by name, district or address, without its QR code."""
    return _page("index.html")


@router.get("/r/{premises_id}", response_class=Response, responses={200: {"content": {HTML: {}}}})
def consumer_page(premises_id: PremisesId) -> Response:
    """The consumer's page of a premises (the QR code's target); it verifies in the browser.

    A ``Link`` header has the browser fetch the premises' record while it loads the page's
    scripts (the path spelled as the page's ``encodeURIComponent`` spells it)."""
    record = "/v1/public/restaurants/" + quote(premises_id, safe="!*'()")
    link = f"<{record}>; rel=preload; as=fetch; crossorigin"
    return Response(
        _asset("consumer.html"), media_type=HTML, headers={**PAGE_HEADERS, "Link": link}
    )


@router.get("/console", response_class=Response, responses={200: {"content": {HTML: {}}}})
def console_page() -> Response:
    """The regulator console (sign in with an API key)."""
    return _page("console.html")


@router.get("/kitchen", response_class=Response, responses={200: {"content": {HTML: {}}}})
def kitchen_page() -> Response:
    """The restaurant's pages: today's checklist, CSV upload, open alerts."""
    return _page("kitchen.html")


@router.get("/static/{asset:path}", response_class=Response)
def static_asset(asset: Annotated[str, Path(max_length=200)], request: Request) -> Response:
    """A script, style sheet or image of the pages: gzipped for a client that accepts it
    (a phone on a slow network loads the page's scripts in a third of the bytes), and 304
    to a client that already holds this version."""
    data = _asset(asset)
    suffix = "." + asset.rsplit(".", 1)[-1] if "." in asset else ""
    media_type = ASSET_TYPES.get(suffix) or mimetypes.guess_type(asset)[0]
    digest = hashlib.sha256(data).hexdigest()[:32]
    gzipped = suffix in COMPRESSIBLE and "gzip" in request.headers.get("accept-encoding", "")
    headers = {
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
        "Vary": "Accept-Encoding",
        # Each encoding is its own representation, with its own validator.
        "ETag": f'"{digest}-gz"' if gzipped else f'"{digest}"',
    }
    if request.headers.get("if-none-match") == headers["ETag"]:
        return Response(status_code=304, headers=headers)
    if gzipped:
        headers["Content-Encoding"] = "gzip"
        data = _gzipped(asset)
    return Response(data, media_type=media_type or "application/octet-stream", headers=headers)


@lru_cache(maxsize=64)
def _gzipped(relative: str) -> bytes:
    """The asset compressed once (scripts and styles shrink to about a third)."""
    return gzip.compress(_asset(relative), compresslevel=9, mtime=0)


@router.get("/v1/public/config")
def public_config(platform: PlatformDep) -> dict[str, Any]:
    """What the pages verify with by default: the log's origin and verifier key, and the
    chain RPC to read anchored roots from (the embedded chain's read-only endpoint, or the
    configured chain's RPC). A reader may override both (``?key=``, ``?rpc=`` on a page)."""
    settings = platform.settings
    origin = platform.log.origin
    return {
        "log": {
            "origin": origin,
            "log_id": hashlib.sha256(origin.encode()).hexdigest(),
        },
        "public_key": platform.signer.verifier_key(),
        "chain": settings.chain,
        "rpc_url": "/v1/chain/rpc" if settings.chain == "embedded" else settings.chain_rpc_url,
        "anchor_contract": settings.anchor_contract,
        "evidence_path": "/v1/public/evidence/{sha256}",
        # The city's contacts (a premises' record names its district's own).
        "contacts": public_contacts(settings, CITY_DEFAULT),
    }


def lot_page(gtin: str, lot: str) -> Response:
    """The lot page, for browsers; other clients get the JSON of ``public.lot``."""
    return _page("lot.html")


class LotPageRoute(HtmlOnlyRoute):
    """The lot page's route: HTML requests for a lot's own path (a ``/`` inside the lot
    code is ``%2F``), not for its ``qr.svg``."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child = super().matches(scope)
        if match is Match.NONE:
            return match, child
        raw = scope.get("raw_path")
        if isinstance(raw, bytes):
            try:
                found = lot_from_path(raw.decode("latin-1"))
            except Invalid:
                found = None
            if found is None or found.tail is not None:
                return Match.NONE, {}
        return match, child


# Included before api.routers.public, so browsers get the page on the lot's path.
router.add_api_route(
    "/01/{gtin}/10/{lot:path}",
    lot_page,
    methods=["GET"],
    include_in_schema=False,
    route_class_override=LotPageRoute,
)
