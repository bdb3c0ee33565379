"""C2SP tlog-tiles paths and entry bundles, spelled exactly as the spec says."""

from __future__ import annotations

import pytest

from traceability.errors import Invalid
from traceability.transparency.tile_paths import (
    TileRequest,
    encode_index,
    entry_bundle,
    parse_entry_bundle,
    parse_tile_path,
)


@pytest.mark.parametrize(
    ("index", "path"),
    [(0, "000"), (5, "005"), (999, "999"), (1000, "x001/000"), (1234067, "x001/x234/067")],
)
def test_index_encoding_is_the_specs(index: int, path: str) -> None:
    assert encode_index(index) == path
    assert parse_tile_path(f"tile/0/{path}") == TileRequest(0, index, 256)


def test_partial_tiles_and_entry_bundles_parse() -> None:
    assert parse_tile_path("tile/1/x001/x234/067.p/17") == TileRequest(1, 1234067, 17)
    assert parse_tile_path("tile/entries/002.p/255") == TileRequest(None, 2, 255)
    assert TileRequest(None, 1234067, 8).path() == "tile/entries/x001/x234/067.p/8"
    assert TileRequest(2, 0, 256).path() == "tile/2/000"


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/5",  # not three digits
        "tile/0/0005",
        "tile/0/x000/005",  # leading zero group
        "tile/0/001/234",  # missing x
        "tile/0/x001/x234",  # last group with x
        "tile/00/000",  # level with a leading zero
        "tile/64/000",  # level above 63
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tile/data/000",
        "tiles/0/000",
    ],
)
def test_every_other_spelling_is_refused(path: str) -> None:
    with pytest.raises(Invalid):
        parse_tile_path(path)


def test_entry_bundles_are_uint16_length_prefixed() -> None:
    blob = entry_bundle([b"ab", b"", b"x" * 300])
    assert blob[:4] == b"\x00\x02ab"
    assert blob[4:6] == b"\x00\x00"
    assert blob[6:8] == b"\x01\x2c"
    assert parse_entry_bundle(blob) == [b"ab", b"", b"x" * 300]
    with pytest.raises(Invalid, match="65535"):
        entry_bundle([b"x" * 65536])
    with pytest.raises(Invalid, match="inside entry"):
        parse_entry_bundle(blob[:-1])
