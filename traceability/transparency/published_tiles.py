"""Reading the log as C2SP tlog-tiles: tiles and entry bundles within a checkpoint.

Only resources inside the tree of the newest signed checkpoint are served:
anything inside it can never change, so full tiles may be cached forever and
a partial tile ``.p/W`` is always the first ``W`` hashes of the stored tile.
Entry bundles are re-hashed against their level-0 tile before they leave, so
rows changed behind the log's back are reported rather than served.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from traceability import merkle
from traceability.errors import NotFound
from traceability.transparency import log_repository as repo
from traceability.transparency.tile_paths import TileRequest, entry_bundle
from traceability.transparency.tiles import TILE_WIDTH, LogCorrupted


def published_size(session: Session) -> int:
    """The size of the newest signed checkpoint (0 when none is signed)."""
    latest = repo.latest_checkpoint(session)
    return 0 if latest is None else int(latest.tree_size)


def _check_published(request: TileRequest, size: int) -> None:
    level = 0 if request.level is None else request.level
    end = (request.index * TILE_WIDTH + request.width) * TILE_WIDTH**level
    if end > size:
        raise NotFound(
            f"{request.path()} reaches leaf {end}, beyond the newest checkpoint (size {size})"
        )


def read_tile(session: Session, request: TileRequest) -> bytes:
    """The hashes of a tile (``request.level`` set), as the spec lays them out."""
    assert request.level is not None
    _check_published(request, published_size(session))
    blob = repo.read_tiles(session, [(request.level, request.index)]).get(
        (request.level, request.index)
    )
    want = request.width * merkle.HASH_SIZE
    if blob is None or len(blob) < want:
        raise LogCorrupted(f"tile {request.level}/{request.index} is missing or short")
    return blob[:want]


def read_entry_bundle(session: Session, request: TileRequest) -> bytes:
    """The entry bundle of level-0 tile ``request.index``, checked against that tile."""
    assert request.level is None
    _check_published(request, published_size(session))
    start = request.index * TILE_WIDTH
    end = start + request.width
    tile = read_tile(session, TileRequest(0, request.index, request.width))
    rows = repo.event_bodies(session, start, end)
    if [index for index, _ in rows] != list(range(start, end)):
        raise LogCorrupted(f"events {start}..{end - 1} are not all stored")
    for index, body in rows:
        offset = (index - start) * merkle.HASH_SIZE
        if merkle.leaf_hash(body) != tile[offset : offset + merkle.HASH_SIZE]:
            raise LogCorrupted(f"the event at leaf {index} does not hash to its tile entry")
    return entry_bundle(body for _, body in rows)
