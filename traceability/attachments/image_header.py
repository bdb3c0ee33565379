"""An image's width and height read from its header, before anything decodes it.

A few kilobytes can declare a canvas of gigabytes (a decompression bomb: a
16383x16383 lossless WebP of 10 KB, a 20000x20000 JPEG). Every format we accept
(PNG, JPEG, WebP) is measured here from the bytes alone, and an image over
``MAX_IMAGE_PIXELS`` or ``MAX_IMAGE_SIDE``, or whose header is truncated or
malformed, is refused before a decoder allocates anything.
"""

from __future__ import annotations

import struct

from traceability.errors import Invalid
from traceability.messages import message

MAX_IMAGE_PIXELS = 60_000_000
MAX_IMAGE_SIDE = 16_384
"""Longer than any camera's side (a 200-megapixel phone photo is 16,320 wide)."""

# Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic).
_JPEG_SOF = frozenset(
    {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
)
# Markers without a length field: TEM, RST0-7 (SOI is consumed before the loop).
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
_WEBP_MAX_CHUNKS = 64


def image_size(data: bytes, media_type: str) -> tuple[int, int]:
    """(width, height) from the header; ``Invalid`` naming what is wrong with it."""
    if media_type == "image/png":
        return _png_size(data)
    if media_type == "image/jpeg":
        return _jpeg_size(data)
    if media_type == "image/webp":
        return _webp_size(data)
    raise Invalid(f"{media_type} is not an image format we measure")


def check_image_size(data: bytes, media_type: str) -> tuple[int, int]:
    """The header's (width, height), refused when empty, too long a side or too many pixels."""
    width, height = image_size(data, media_type)
    name = media_type.removeprefix("image/").upper()
    if width == 0 or height == 0:
        raise Invalid(message("attachment.image_empty", format=name, width=width, height=height))
    if max(width, height) > MAX_IMAGE_SIDE:
        raise Invalid(
            message(
                "attachment.image_side_too_large",
                format=name,
                width=width,
                height=height,
                max=MAX_IMAGE_SIDE,
            )
        )
    if width * height > MAX_IMAGE_PIXELS:
        raise Invalid(
            message(
                "attachment.image_too_many_pixels",
                format=name,
                width=width,
                height=height,
                max=MAX_IMAGE_PIXELS,
            )
        )
    return width, height


def _png_size(data: bytes) -> tuple[int, int]:
    # Signature (8), then the IHDR chunk first: length (4) "IHDR" width (4) height (4).
    if len(data) < 24 or data[12:16] != b"IHDR":
        raise Invalid("the PNG has no IHDR header")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2  # after SOI (FF D8)
    while True:
        if at >= len(data):
            raise Invalid("the JPEG ends before its frame header (SOF)")
        if data[at] != 0xFF:
            raise Invalid(f"the JPEG is corrupt: no marker at byte {at}")
        while at < len(data) and data[at] == 0xFF:  # fill bytes
            at += 1
        if at >= len(data):
            raise Invalid("the JPEG ends before its frame header (SOF)")
        marker = data[at]
        at += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0xD9, 0xDA):  # EOI, or SOS: image data, and no frame header seen
            raise Invalid("the JPEG has no frame header (SOF) before its image data")
        if at + 2 > len(data):
            raise Invalid(f"the JPEG's segment FF{marker:02X} at byte {at - 2} is truncated")
        (length,) = struct.unpack(">H", data[at : at + 2])
        if length < 2 or at + length > len(data):
            raise Invalid(f"the JPEG's segment FF{marker:02X} at byte {at - 2} is truncated")
        if marker in _JPEG_SOF:
            if length < 8:
                raise Invalid(f"the JPEG's frame header at byte {at - 2} is truncated")
            height, width = struct.unpack(">HH", data[at + 3 : at + 7])
            if height == 0:
                # The height would come later in a DNL segment: nothing to check it by.
                raise Invalid("the JPEG's frame header does not declare its height")
            return int(width), int(height)
        at += length


def _webp_size(data: bytes) -> tuple[int, int]:
    """The largest size any of the canvas (VP8X), lossy (VP8) or lossless (VP8L) headers
    declares."""
    if len(data) < 20 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise Invalid("the WebP has no RIFF/WEBP header")
    sizes: list[tuple[int, int]] = []
    at = 12
    for _ in range(_WEBP_MAX_CHUNKS):
        if at + 8 > len(data):
            break
        fourcc = data[at : at + 4]
        (length,) = struct.unpack("<I", data[at + 4 : at + 8])
        body = data[at + 8 : at + 8 + length]
        name = fourcc.decode("latin-1")
        if fourcc in (b"VP8X", b"VP8 ", b"VP8L") and len(body) < 10:
            raise Invalid(f"the WebP's {name.strip()} header is truncated")
        if fourcc == b"VP8X":
            width = 1 + int.from_bytes(body[4:7], "little")
            height = 1 + int.from_bytes(body[7:10], "little")
            sizes.append((width, height))
        elif fourcc == b"VP8 ":
            if body[3:6] != b"\x9d\x01\x2a":
                raise Invalid("the WebP's VP8 header has no start code")
            width, height = struct.unpack("<HH", body[6:10])
            sizes.append((width & 0x3FFF, height & 0x3FFF))
        elif fourcc == b"VP8L":
            if body[0] != 0x2F:
                raise Invalid("the WebP's VP8L header has no signature")
            bits = int.from_bytes(body[1:5], "little")
            sizes.append((1 + (bits & 0x3FFF), 1 + ((bits >> 14) & 0x3FFF)))
        at += 8 + length + (length & 1)  # chunks are padded to an even length
    if not sizes:
        raise Invalid("the WebP has no VP8, VP8L or VP8X header")
    return max(w for w, _h in sizes), max(h for _w, h in sizes)
