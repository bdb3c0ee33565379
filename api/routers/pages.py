"""The web pages (mobile_web/static): the consumer's QR page, the lot page, the regulator
console, the kitchen pages, their assets, and the public config the pages verify with.

The pages are static files; their data comes from the JSON API, and the consumer and lot
pages verify every item in the browser. Those two carry their data in their HTML
(``traceability.public_record.page_data``: the record or lot, the public config, the
trust file and the items' proof bundles, the same bytes the endpoints give), streamed
after the page's head so the browser fetches the scripts while the server builds it. The
lot page shares its GS1 Digital Link path with the JSON answer of ``api.routers.public``:
it is served only to requests that ask for HTML.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import mimetypes
import zlib
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import lru_cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session
from starlette.routing import Match
from starlette.types import Scope

from api.deps import Platform, PlatformDep, SessionDep
from api.page_scripts import ENTRIES, joined_script
from api.routers.public import RECORD_CACHE, lot_path, matches, public_base, record_body
from traceability.errors import Invalid, NotFound, SunledgerError
from traceability.proofs.batch import build_bundles
from traceability.public_record.contacts import CITY_DEFAULT, public_contacts
from traceability.public_record.page_data import (
    MAX_INLINE_BUNDLES,
    data_block,
    purchase_records,
    referenced_events,
    split_at_body_end,
)
from traceability.public_record.provenance import lot_provenance
from traceability.public_record.published_trust import published_trust
from traceability.public_record.version import current_version
from traceability.records.gs1 import lot_from_path

log = logging.getLogger(__name__)

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
def consumer_page(
    premises_id: PremisesId, request: Request, session: SessionDep, platform: PlatformDep
) -> Response:
    """The consumer's page of a premises (the QR code's target); it verifies in the browser.

    The page carries its record, the public config, the trust file and its items' proof
    bundles (``page_data``). It is cached as the record is (``Cache-Control`` and an ETag
    named after the record's version and the page's own bytes, so ``If-None-Match``
    answers 304 with one query); the ETag is weak because bundles built in the same
    minute may differ in bytes (a witness's cosignature, a newer checkpoint for an
    event not yet anchored) while proving the same. An unknown premises gets the bare
    page, which says so once its own request for the record is answered 404."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    html = _asset("consumer.html")
    try:
        version = current_version(session, premises_id, now)
    except NotFound:
        return _page("consumer.html")
    page = hashlib.sha256(html).hexdigest()[:12]
    headers = {
        **PAGE_HEADERS,
        "Cache-Control": RECORD_CACHE,
        "ETag": f'W/"p{page}-{version.etag.strip(chr(34))}"',
        "Vary": "Accept-Encoding",
    }
    if matches(request.headers.get("if-none-match"), headers["ETag"]):
        return Response(status_code=304, headers=headers)
    base = public_base(request, platform)

    def data(session: Session) -> dict[str, bytes]:
        record = record_body(session, platform, version, base)
        return {"record": record, **_verifying_data(session, platform, json.loads(record))}

    return _with_data(html, request, platform, data, headers)


def _verifying_data(session: Session, platform: Platform, document: Any) -> dict[str, bytes]:
    """The config, the trust file and the bundles of the events ``document`` names (and of
    the purchase records its lot receipts name), as JSON bytes by block name."""
    out = {"config": _json(public_config(platform))}
    try:
        out["trust"] = _json(_published_trust(platform))
    except SunledgerError as exc:  # no contract yet: the page asks /v1/trust, and says so
        log.info("page_data_without_trust", extra={"detail": exc.detail})
    wanted = referenced_events(document)[:MAX_INLINE_BUNDLES]
    found = build_bundles(session, platform.log, platform.signer, wanted, platform.witnessing)
    more = purchase_records(found["bundles"].values())
    more = [e for e in more if e not in found["bundles"]][: MAX_INLINE_BUNDLES - len(wanted)]
    if more:
        extra = build_bundles(session, platform.log, platform.signer, more, platform.witnessing)
        found["bundles"].update(extra["bundles"])
        found["missing"].update(extra["missing"])
    out["proofs"] = _json(found)
    return out


def _published_trust(platform: Platform) -> dict[str, Any]:
    chain = platform.embedded_chain if platform.settings.chain == "embedded" else None
    config = published_trust(
        platform.settings, platform.sessions, platform.log, platform.signer, chain
    )
    return config.to_json()


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _with_data(
    html: bytes,
    request: Request,
    platform: Platform,
    data: Callable[[Session], dict[str, bytes]],
    headers: dict[str, str],
) -> StreamingResponse:
    """The page with its data blocks before ``</body>``, streamed: its head (which names
    every script) goes out at once, the blocks once ``data`` has built them in a session
    of their own (bundles may publish a checkpoint: committed). Gzipped for a client that
    accepts it. Should building fail, the page goes without blocks and asks the API."""
    head, tail = split_at_body_end(html)
    gzipped = "gzip" in request.headers.get("accept-encoding", "").lower()

    def blocks() -> bytes:
        session = platform.sessions()
        try:
            built = data(session)
            session.commit()
        except NotFound:  # an unknown lot: the page's own request is answered 404
            session.rollback()
            return b""
        except Exception:  # the headers are sent: the page fetches what is not here
            session.rollback()
            log.exception("page_data_failed")
            return b""
        finally:
            session.close()
        return b"".join(data_block(name, value) for name, value in built.items())

    def body() -> Iterator[bytes]:
        if not gzipped:
            yield head
            yield blocks() + tail
            return
        packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        yield packer.compress(head) + packer.flush(zlib.Z_SYNC_FLUSH)
        yield packer.compress(blocks() + tail) + packer.flush()

    if gzipped:
        headers = {**headers, "Content-Encoding": "gzip"}
    return StreamingResponse(body(), media_type=HTML, headers=headers)


@router.get("/console", response_class=Response, responses={200: {"content": {HTML: {}}}})
def console_page() -> Response:
    """The regulator console (sign in with an API key)."""
    return _page("console.html")


@router.get("/kitchen", response_class=Response, responses={200: {"content": {HTML: {}}}})
def kitchen_page() -> Response:
    """The restaurant's pages: today's checklist, CSV upload, open alerts."""
    return _page("kitchen.html")


@router.get("/static/js/bundle/{entry}.js", response_class=Response)
def page_script(entry: Annotated[str, Path(max_length=40)], request: Request) -> Response:
    """The consumer or lot page's modules joined into one script (``api.page_scripts``):
    one request instead of thirteen on a phone's six connections. Served as an asset."""
    if entry not in ENTRIES:
        raise NotFound(f"no page script {entry}")
    return _served(f"bundle/{entry}.js", _joined(entry), request)


@lru_cache(maxsize=8)
def _joined(entry: str) -> bytes:
    return joined_script(entry, _asset)


@router.get("/favicon.ico", response_class=Response, include_in_schema=False)
def favicon(request: Request) -> Response:
    """The pages name their icon (``<link rel=icon>``); this answers the browsers and tools
    that ask for /favicon.ico anyway, with the same SVG, instead of a 404."""
    return _served("img/favicon.svg", _asset("img/favicon.svg"), request)


@router.get("/static/{asset:path}", response_class=Response)
def static_asset(asset: Annotated[str, Path(max_length=200)], request: Request) -> Response:
    """A script, style sheet or image of the pages: gzipped for a client that accepts it
    (a phone on a slow network loads the page's scripts in a third of the bytes), and 304
    to a client that already holds this version."""
    return _served(asset, _asset(asset), request)


def _served(name: str, data: bytes, request: Request) -> Response:
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    media_type = ASSET_TYPES.get(suffix) or mimetypes.guess_type(name)[0]
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
        data = _gzipped(name, data)
    return Response(data, media_type=media_type or "application/octet-stream", headers=headers)


@lru_cache(maxsize=64)
def _gzipped(name: str, data: bytes) -> bytes:
    """An asset compressed once (scripts and styles shrink to about a third)."""
    return gzip.compress(data, compresslevel=9, mtime=0)


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


def lot_page(gtin: str, lot: str, request: Request, platform: PlatformDep) -> Response:
    """The lot page, for browsers, carrying its data as the consumer page does (not cached:
    a lot has no version to name); other clients get the JSON of ``public.lot``. A lot
    that is not found gets the bare page, which says so once its own request is answered."""
    wanted = lot_path(request)

    def data(session: Session) -> dict[str, bytes]:
        found = lot_provenance(session, wanted.gtin, wanted.lot_code)
        return {"record": _json(found), **_verifying_data(session, platform, found)}

    headers = {**PAGE_HEADERS, "Vary": "Accept-Encoding"}
    return _with_data(_asset("lot.html"), request, platform, data, headers)


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
