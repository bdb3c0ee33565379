"""The data a public page needs, carried in its own HTML so it loads without more round trips.

The consumer page (``/r/{id}``) and the lot page would otherwise ask, once their scripts
ran, for the record, the public config, the trust file and the proof bundles of every
item: on a phone network each of those is a round trip after the scripts. The server
puts the same bytes those endpoints give into the page as ``<script
type="application/json">`` blocks instead (not scripts: nothing in them runs, and the
page's Content-Security-Policy is unchanged). The page trusts them no more than it
trusted the answers: every bundle is verified in the browser against the pinned roots,
and a page that finds no block (or a block it cannot read) asks the endpoint as before.

This module is the pure part: which events a record names, and how a block is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DATA_BLOCKS = ("record", "config", "trust", "proofs")
"""The ids of the blocks (``data-<name>``), as mobile_web/static/js/page_data.js reads them."""

MAX_INLINE_BUNDLES = 100
"""Bundles carried in a page; the page fetches any others (``GET /v1/proofs``) as before."""

_BODY_END = b"</body>"


def referenced_events(document: Any) -> list[str]:
    """The event ids of every ``"event": {"event_id": ...}`` reference in a public record
    or a lot's provenance (the items the page verifies), first seen first, each once."""
    found: dict[str, None] = {}

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "event" and isinstance(value, Mapping):
                    event_id = value.get("event_id")
                    if isinstance(event_id, str) and event_id:
                        found.setdefault(event_id, None)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    return list(found)


def purchase_records(bundles: Iterable[Mapping[str, Any]]) -> list[str]:
    """The purchase records that lot receipts name as their reference document (the lot
    page verifies them once the receipt verified): their event ids."""
    out: dict[str, None] = {}
    for bundle in bundles:
        event = bundle.get("event")
        payload = event.get("payload") if isinstance(event, Mapping) else None
        if not isinstance(payload, Mapping):
            continue
        number = payload.get("reference_document_number")
        if payload.get("reference_document_type") == "purchase_inspection" and isinstance(
            number, str
        ):
            out.setdefault(number, None)
    return list(out)


def data_block(name: str, data: bytes) -> bytes:
    """One ``<script type="application/json" id="data-<name>">`` element holding the JSON
    ``data`` (UTF-8). Every ``<`` is written ``\\u003c`` (the same JSON), so nothing in the
    data can close the element or open a comment."""
    if name not in DATA_BLOCKS:
        raise ValueError(f"no data block {name!r}")
    escaped = data.replace(b"<", b"\\u003c")
    return (
        b'<script type="application/json" id="data-'
        + name.encode()
        + b'">'
        + escaped
        + (b"</script>\n")
    )


def split_at_body_end(html: bytes) -> tuple[bytes, bytes]:
    """The page before its ``</body>`` and from it on: the blocks go in between, after
    everything the page shows while it loads."""
    at = html.rfind(_BODY_END)
    if at < 0:
        raise ValueError("the page has no </body>")
    return html[:at], html[at:]
