"""Every list answer pages the same way: ``?offset=&limit=`` in, ``next_offset`` out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Query

MAX_LIMIT = 500


@dataclass(frozen=True)
class Page:
    offset: int
    limit: int

    @property
    def fetch(self) -> int:
        """Ask the repository for one more than the page, to know whether more follow."""
        return self.limit + 1


def page_params(
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
) -> Page:
    return Page(offset, limit)


PageDep = Annotated[Page, Depends(page_params)]


def paged(items: Sequence[Any], page: Page) -> dict[str, Any]:
    """``items`` fetched with ``page.fetch`` as the limit, answered as one page."""
    more = len(items) > page.limit
    return {
        "items": list(items[: page.limit]),
        "offset": page.offset,
        "limit": page.limit,
        "next_offset": page.offset + page.limit if more else None,
    }
