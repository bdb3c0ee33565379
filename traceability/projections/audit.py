"""Auditing the projections: every table the public or the regulator reads, re-derived from the log.

The log is what is proven; the tables the pages and APIs read (grades, alerts,
inspections, records, lots, devices…) are projections of it, written by the
services beside each event. An attacker with database access can edit a
projection without touching the log, so the audit folds the logged events
(their bodies, in leaf order) into the rows they must give and compares them
with the stored rows: a changed field, a missing row and a row no event
explains are each named by table, key, field, expected and found value.

A projection is audited by a ``ProjectionAuditor``: it names its table and the
event kinds it folds, folds events one by one, and reads the stored rows. The
built-in auditors are in ``traceability.projections.auditors`` (``default_auditors``;
adding a projection, say probe day summaries, is one class appended there); the base
class and the event type they fold are in ``traceability.projections.auditor``.
docs/derivations.md says which events and which fold give each field.

Deriving (one pass over the log) and comparing (one read of each table) are
apart, so a caller that compares many times against one log folds it once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from traceability.projections import repository as repo
from traceability.projections.auditor import LoggedEvent, ProjectionAuditor, Row, instant
from traceability.projections.auditors import default_auditors
from traceability.transparency.events import as_utc, rfc3339

__all__ = [
    "MAX_LISTED",
    "Derived",
    "LoggedEvent",
    "ProjectionAuditor",
    "ProjectionFinding",
    "ProjectionReport",
    "Row",
    "audit_projections",
    "compare_projections",
    "derive_projections",
]

MAX_LISTED = 50
"""Findings listed in a report; the rest are counted."""


@dataclass(frozen=True)
class ProjectionFinding:
    """One way a stored projection row differs from what the log gives."""

    table: str
    key: str
    field: str
    expected: Any
    found: Any

    @property
    def message(self) -> str:
        return (
            f"{self.table} [{self.key}] {self.field}: the log gives {_show(self.expected)}, "
            f"the table holds {_show(self.found)}"
        )


@dataclass
class Derived:
    """The folded log: each auditor after seeing every event up to ``tree_size``."""

    tree_size: int
    events_folded: int
    auditors: list[ProjectionAuditor]
    rows: dict[str, dict[str, Row]] = field(default_factory=dict)
    """Per table, the derived rows (computed once)."""


@dataclass
class ProjectionReport:
    tree_size: int
    events_folded: int
    rows_checked: dict[str, int]
    findings: list[ProjectionFinding]
    findings_omitted: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def problems(self) -> list[str]:
        return [f.message for f in self.findings]


def derive_projections(
    session: Session,
    tree_size: int,
    auditors: Sequence[ProjectionAuditor] | None = None,
    *,
    chunk: int = 10_000,
    on_progress: Callable[[int, int], None] | None = None,
) -> Derived:
    """Fold the events of leaves ``[0, tree_size)`` into each auditor (by default the built-in)."""
    if auditors is None:
        auditors = default_auditors()
    by_kind: dict[str, list[ProjectionAuditor]] = {}
    for auditor in auditors:
        for kind in auditor.kinds:
            by_kind.setdefault(kind, []).append(auditor)
    folded = 0
    after = -1
    while True:
        rows = repo.event_bodies_page(session, sorted(by_kind), after, tree_size, chunk)
        if not rows:
            break
        for index, body in rows:
            event = _parse(index, bytes(body))
            if event is None:
                continue  # not an event body: the log audit names it
            for auditor in by_kind.get(event.kind, ()):
                auditor.fold(event)
            folded += 1
        after = rows[-1][0]
        if on_progress is not None:
            on_progress(after + 1, tree_size)
    derived = Derived(tree_size, folded, list(auditors))
    derived.rows = {a.table: a.derived() for a in auditors}
    return derived


def compare_projections(session: Session, derived: Derived) -> ProjectionReport:
    """Compare every stored projection table with the rows the folded log gives."""
    findings: list[ProjectionFinding] = []
    checked: dict[str, int] = {}
    for auditor in derived.auditors:
        expected = derived.rows[auditor.table]
        stored = auditor.stored(session)
        checked[auditor.table] = len(stored)
        findings.extend(_compare(auditor, expected, stored))
    listed = findings[:MAX_LISTED]
    return ProjectionReport(
        derived.tree_size, derived.events_folded, checked, listed, len(findings) - len(listed)
    )


def audit_projections(
    session: Session,
    tree_size: int,
    auditors: Sequence[ProjectionAuditor] | None = None,
    *,
    chunk: int = 10_000,
    on_progress: Callable[[int, int], None] | None = None,
) -> ProjectionReport:
    """Fold the log up to ``tree_size`` and compare every projection table with it."""
    derived = derive_projections(session, tree_size, auditors, chunk=chunk, on_progress=on_progress)
    return compare_projections(session, derived)


# --------------------------------------------------------------------------- comparing


def _compare(
    auditor: ProjectionAuditor, expected: dict[str, Row], stored: dict[str, Row]
) -> Iterable[ProjectionFinding]:
    table = auditor.table
    for key in sorted(expected.keys() | stored.keys()):
        want = expected.get(key)
        have = stored.get(key)
        if want is None and have is not None:
            want = auditor.default_row(key)
            if want is None:
                yield ProjectionFinding(table, key, "(row)", "no row", "a row no event explains")
                continue
        if have is None:
            yield ProjectionFinding(table, key, "(row)", "a row", "no row")
            continue
        assert want is not None
        for name in want:
            if not same(want[name], have.get(name)):
                yield ProjectionFinding(table, key, name, want[name], have.get(name))


def same(expected: Any, found: Any) -> bool:
    """Equal as the audit means it: instants as instants, 2 == 2.0, JSON by value."""
    if isinstance(expected, datetime) and isinstance(found, datetime):
        return as_utc(expected) == as_utc(found)
    if isinstance(expected, bool) or isinstance(found, bool):
        return type(expected) is type(found) and expected == found
    if isinstance(expected, (int, float)) and isinstance(found, (int, float)):
        return math.isclose(expected, found, rel_tol=0, abs_tol=1e-9) or expected == found
    if isinstance(expected, dict) and isinstance(found, dict):
        return expected.keys() == found.keys() and all(
            same(expected[k], found[k]) for k in expected
        )
    if isinstance(expected, list) and isinstance(found, list):
        return len(expected) == len(found) and all(
            same(a, b) for a, b in zip(expected, found, strict=True)
        )
    return type(expected) is type(found) and bool(expected == found)


def _show(value: Any) -> str:
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return repr(value)


# --------------------------------------------------------------------------- parsing


def _parse(index: int, body: bytes) -> LoggedEvent | None:
    try:
        public = json.loads(body)
        payload = public["payload"]
        if not isinstance(payload, dict):
            return None
        return LoggedEvent(
            leaf_index=index,
            event_id=str(public["id"]),
            kind=str(public["kind"]),
            subject=str(public["subject"]),
            occurred_at=instant(public["occurred_at"]),
            recorded_at=instant(public["recorded_at"]),
            payload=payload,
            body=body,
        )
    except (ValueError, KeyError, TypeError, RecursionError):
        return None
