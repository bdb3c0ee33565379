"""What a projection auditor is: the logged event it folds, the rows it gives, and the base class.

Kept apart from ``audit`` (which runs auditors) and ``auditors`` (the built-in ones), so that
the built-in auditors and the audit that runs them do not import each other.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from traceability.transparency.events import as_utc

Row = dict[str, Any]
"""A projection row as the audit compares it: field name to value."""


@dataclass(frozen=True)
class LoggedEvent:
    """An event as logged, read from its body (never from the columns beside it)."""

    leaf_index: int
    event_id: str
    kind: str
    subject: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
    body: bytes = b""
    """The exact logged bytes (what anyone re-hashes, e.g. to recompute a summary)."""

    @property
    def premises_id(self) -> str:
        """The premises of a ``premises:<id>`` subject (the whole subject otherwise)."""
        return self.subject.removeprefix("premises:")


class ProjectionAuditor(ABC):
    """Re-derives one projection table from the log and reads the stored one.

    Subclasses set ``table`` and ``kinds``; ``fold`` is called with every logged
    event of those kinds in leaf order, then ``derived`` gives the rows the log
    implies (by key) and ``stored`` the rows in the table (by key, the same
    fields). A stored row the log says nothing about is surplus unless
    ``default_row`` gives what the log implies for it (e.g. a registered probe
    that never sent a reading).
    """

    table: ClassVar[str]
    kinds: ClassVar[frozenset[str]]

    @abstractmethod
    def fold(self, event: LoggedEvent) -> None: ...

    @abstractmethod
    def derived(self) -> dict[str, Row]: ...

    @abstractmethod
    def stored(self, session: Session) -> dict[str, Row]: ...

    def default_row(self, key: str) -> Row | None:
        return None


def instant(text: Any) -> datetime:
    """An RFC 3339 instant from the log, as an aware UTC datetime."""
    if not isinstance(text, str):
        raise ValueError(f"not an instant: {text!r}")
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
