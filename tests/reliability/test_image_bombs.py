"""Decompression bombs and broken image headers, uploaded as attachments.

Each file is real: the WebP is a valid lossless bitstream (every prefix code has one
symbol, so each pixel costs 0 bits: 36 bytes declare 16383x16383 pixels, a 1 GB decode),
proved valid by the same bitstream at 64x64 decoding with OpenCV and being accepted;
the PNG is a 1-bit 20000x20000 image with all its (zlib) data; the JPEG is one OpenCV
encoded whose frame header says 20000x20000 (libjpeg allocates what SOF declares). Each
bomb is refused with 422 naming the limit, before any decoder runs; nothing is stored.
"""

from __future__ import annotations

import struct
import zlib

import cv2
import numpy as np
import pytest
from seeded_city import City
from sqlalchemy import func, select

from traceability.attachments.image_header import MAX_IMAGE_PIXELS, image_size
from traceability.errors import Invalid
from traceability.storage.models import AttachmentRow

pytestmark = pytest.mark.reliability


class Bits:
    """An LSB-first bit writer, as the VP8L bitstream is read."""

    def __init__(self) -> None:
        self.value, self.count = 0, 0

    def put(self, value: int, width: int) -> None:
        self.value |= value << self.count
        self.count += width

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def lossless_webp(width: int, height: int) -> bytes:
    bits = Bits()
    bits.put(0x2F, 8)  # VP8L signature
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(0, 1)  # no alpha
    bits.put(0, 3)  # version 0
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    for _code in range(5):  # green, red, blue, alpha, distance: "simple", one symbol: 0
        bits.put(1, 1)
        bits.put(0, 1)
        bits.put(0, 1)
        bits.put(0, 1)
    payload = bits.bytes() + bytes(8)  # OpenCV reads at least 32 bytes of a WebP file
    chunk = b"VP8L" + struct.pack("<I", len(payload)) + payload + b"\0" * (len(payload) & 1)
    body = b"WEBP" + chunk
    return b"RIFF" + struct.pack("<I", len(body)) + body


def png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def one_bit_png(width: int, height: int) -> bytes:
    """A complete 1-bit greyscale PNG of zeros (its IDAT holds every row)."""
    row = b"\0" * (1 + (width + 7) // 8)
    packer = zlib.compressobj(9)
    data = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", data)
        + png_chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    ok, encoded = cv2.imencode(".jpg", np.full((16, 16, 3), 128, np.uint8))
    assert ok
    data = bytearray(encoded.tobytes())
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def upload(city: City, data: bytes, media_type: str) -> tuple[int, str]:
    answer = city.client.post(
        "/v1/premises/p-1/attachments",
        content=data,
        headers={**city.headers("rest-1"), "Content-Type": media_type},
    )
    return answer.status_code, answer.text


def attachments(city: City) -> int:
    with city.app.state.platform.sessions() as session:
        return session.scalar(select(func.count()).select_from(AttachmentRow)) or 0


def test_the_crafted_files_are_real_images() -> None:
    small = cv2.imdecode(np.frombuffer(lossless_webp(64, 48), np.uint8), cv2.IMREAD_UNCHANGED)
    assert small is not None and small.shape[:2] == (48, 64)
    png = cv2.imdecode(np.frombuffer(one_bit_png(640, 480), np.uint8), cv2.IMREAD_UNCHANGED)
    assert png is not None and png.shape[:2] == (480, 640)
    assert image_size(lossless_webp(16383, 16383), "image/webp") == (16383, 16383)
    assert image_size(jpeg_claiming(20000, 20000), "image/jpeg") == (20000, 20000)
    assert image_size(one_bit_png(20000, 20000), "image/png") == (20000, 20000)


@pytest.mark.parametrize(
    ("name", "make", "media_type", "reason"),
    [
        ("WebP 16383x16383", lambda: lossless_webp(16383, 16383), "image/webp", "at most 60000000"),
        ("WebP 16383x4000", lambda: lossless_webp(16383, 4000), "image/webp", "at most 60000000"),
        ("JPEG 20000x20000", lambda: jpeg_claiming(20000, 20000), "image/jpeg", "at most 16384"),
        ("JPEG 9000x9000", lambda: jpeg_claiming(9000, 9000), "image/jpeg", "at most 60000000"),
        ("JPEG 65535x1", lambda: jpeg_claiming(65535, 1), "image/jpeg", "at most 16384"),
        ("PNG 20000x20000", lambda: one_bit_png(20000, 20000), "image/png", "at most 16384"),
        ("PNG 8000x8000", lambda: one_bit_png(8000, 8000), "image/png", "at most 60000000"),
    ],
)
def test_a_decompression_bomb_is_refused_naming_the_limit(
    city: City, name: str, make: object, media_type: str, reason: str
) -> None:
    assert callable(make)
    data = make()
    assert len(data) < 200_000, name  # small files, huge canvases
    before = attachments(city)
    status, text = upload(city, data, media_type)
    assert status == 422, (name, text)
    assert reason in text and "claims" in text, (name, text)
    assert attachments(city) == before


def test_a_small_crafted_webp_is_accepted(city: City) -> None:
    status, text = upload(city, lossless_webp(64, 48), "image/webp")
    assert status == 201, text


def corrupt_headers() -> list[tuple[str, bytes, str]]:
    good_jpeg = jpeg_claiming(16, 16)
    sof = good_jpeg.index(b"\xff\xc0")
    webp = lossless_webp(64, 64)
    return [
        ("JPEG cut inside a segment", good_jpeg[: sof + 4], "truncated"),
        ("JPEG cut before its SOF", good_jpeg[:sof], "ends before its frame header"),
        ("JPEG with scan data and no SOF", b"\xff\xd8\xff\xda\x00\x02" + bytes(50), "no frame"),
        (
            "JPEG with garbage after SOI",
            b"\xff\xd8\xff\xe0\x00\x10" + bytes(14) + b"junk",
            "no marker",
        ),
        ("JPEG of height 0 (DNL)", jpeg_claiming(16, 0), "does not declare its height"),
        ("JPEG of a bad segment length", b"\xff\xd8\xff\xe0\x00\x01" + bytes(40), "truncated"),
        ("WebP cut in its VP8L header", webp[:24], "truncated"),
        ("WebP without an image chunk", b"RIFF\x04\x00\x00\x00WEBPJUNK" + bytes(12), "no VP8"),
        (
            "WebP VP8 without its start code",
            b"RIFF\x16\x00\x00\x00WEBPVP8 \x0a\x00\x00\x00" + bytes(10),
            "start code",
        ),
        ("PNG cut before IHDR", b"\x89PNG\r\n\x1a\n\x00\x00", "no IHDR"),
        (
            "PNG of 0 width",
            one_bit_png(640, 1)[:16] + bytes(4) + one_bit_png(640, 1)[20:],
            "empty canvas",
        ),
    ]


@pytest.mark.parametrize(("name", "data", "reason"), corrupt_headers())
def test_a_truncated_or_corrupt_header_is_refused(
    city: City, name: str, data: bytes, reason: str
) -> None:
    before = attachments(city)
    status, text = upload(city, data, "application/octet-stream")
    assert status == 422, (name, text)
    assert reason in text, (name, text)
    assert attachments(city) == before


def test_the_header_reader_never_raises_anything_but_invalid() -> None:
    """Every prefix of real files, and every single-byte corruption of their headers."""
    files = {
        "image/webp": lossless_webp(64, 48),
        "image/jpeg": jpeg_claiming(16, 16),
        "image/png": one_bit_png(64, 48),
    }
    tried = 0
    for media_type, data in files.items():
        variants = [data[:n] for n in range(len(data))]
        variants += [data[:i] + bytes([b]) + data[i + 1 :] for i in range(40) for b in (0, 0xFF)]
        for variant in variants:
            tried += 1
            try:
                width, height = image_size(variant, media_type)
            except Invalid:
                continue
            assert width >= 0 and height >= 0 and width * height <= 2**64
    assert tried > 500
    assert MAX_IMAGE_PIXELS == 60_000_000
