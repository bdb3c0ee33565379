"""C2SP tlog-tiles resource paths and entry bundles (pure, no I/O).

Paths, relative to the log's prefix::

    tile/<L>/<N>[.p/<W>]        a Merkle tree tile of level L (0..63)
    tile/entries/<N>[.p/<W>]    an entry bundle (the leaves of level-0 tile N)

``<N>`` is written in zero-padded groups of three digits, every group but the
last prefixed with ``x`` (1234067 is ``x001/x234/067``); ``<W>`` (1..255) is
the width of a partial tile. Parsing is strict: one spelling per resource.

An entry bundle is the sequence of the tile's entries, each a big-endian
uint16 length followed by that many bytes. Our entries are the public
projection of each event as logged: its RFC 8785 canonical JSON, whose
RFC 6962 leaf hash ``SHA-256(0x00 || entry)`` is the level-0 tile's hash.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from traceability.errors import Invalid
from traceability.transparency.tiles import TILE_WIDTH

MAX_LEVEL = 63
MAX_ENTRY_SIZE = 0xFFFF
"""The largest entry a uint16 length prefix can carry."""

_GROUP = re.compile(r"[0-9]{3}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


@dataclass(frozen=True)
class TileRequest:
    """One tile or entry bundle: ``level`` is None for an entry bundle; ``width`` is 256
    for a full tile, else the partial width."""

    level: int | None
    index: int
    width: int

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    def path(self) -> str:
        """The resource path, ``tile/...``, relative to the log's prefix."""
        head = "entries" if self.level is None else str(self.level)
        tail = f".p/{self.width}" if self.partial else ""
        return f"tile/{head}/{encode_index(self.index)}{tail}"


def encode_index(index: int) -> str:
    """``1234067`` → ``x001/x234/067``; ``5`` → ``005``."""
    if index < 0:
        raise Invalid(f"tile index {index} is negative")
    groups = []
    while True:
        index, low = divmod(index, 1000)
        groups.append(f"{low:03d}")
        if index == 0:
            break
    groups.reverse()
    return "/".join([*("x" + g for g in groups[:-1]), groups[-1]])


def parse_tile_path(path: str) -> TileRequest:
    """Parse ``tile/...`` (without the prefix); :class:`Invalid` names what is wrong."""
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != "tile":
        raise Invalid(f"{path!r} is not a tile path (tile/<L>/<N>[.p/<W>])")
    head, rest = parts[1], parts[2:]
    level: int | None
    if head == "entries":
        level = None
    elif _DECIMAL.fullmatch(head) and int(head) <= MAX_LEVEL:
        level = int(head)
    else:
        raise Invalid(f"tile level {head!r} is not a decimal between 0 and {MAX_LEVEL}")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        width_text = rest[-1]
        if not _DECIMAL.fullmatch(width_text) or not 1 <= int(width_text) < TILE_WIDTH:
            raise Invalid(f"partial tile width {width_text!r} is not a decimal from 1 to 255")
        width = int(width_text)
        rest = [*rest[:-2], rest[-2][: -len(".p")]]
    if any(not _GROUP.fullmatch(g.removeprefix("x")) for g in rest):
        raise Invalid(f"tile index {'/'.join(rest)!r} is not in groups of three digits")
    if any(not g.startswith("x") for g in rest[:-1]) or rest[-1].startswith("x"):
        raise Invalid(f"tile index {'/'.join(rest)!r}: every group but the last starts with x")
    index = int("".join(g.removeprefix("x") for g in rest))
    if encode_index(index) != "/".join(rest):
        raise Invalid(f"tile index {'/'.join(rest)!r} has leading zero groups")
    return TileRequest(level, index, width)


def entry_bundle(entries: Iterable[bytes]) -> bytes:
    """Entries, each prefixed with its big-endian uint16 length."""
    out = bytearray()
    for number, entry in enumerate(entries):
        if len(entry) > MAX_ENTRY_SIZE:
            raise Invalid(
                f"entry {number} of the bundle is {len(entry)} bytes; "
                f"an entry bundle carries at most {MAX_ENTRY_SIZE}"
            )
        out += struct.pack(">H", len(entry)) + entry
    return bytes(out)


def parse_entry_bundle(blob: bytes) -> list[bytes]:
    """The entries of a bundle; :class:`Invalid` when it is truncated."""
    entries: list[bytes] = []
    offset = 0
    while offset < len(blob):
        if offset + 2 > len(blob):
            raise Invalid(f"entry bundle ends inside a length prefix at byte {offset}")
        (size,) = struct.unpack_from(">H", blob, offset)
        offset += 2
        if offset + size > len(blob):
            raise Invalid(f"entry bundle ends inside entry {len(entries)}")
        entries.append(blob[offset : offset + size])
        offset += size
    return entries
