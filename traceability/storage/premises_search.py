"""Text search over premises: a case-insensitive substring of the name, address or district.

Indexed by migration 0013. On PostgreSQL, ``ILIKE '%…%'`` on one expression, the three
columns joined by U+001F, served by the ``pg_trgm`` GIN index on that expression
(``ix_premises_text_trgm``). A query never holds a control character (``search_text``
refuses them), so a match never spans two columns; one index scan, not three (with an
index per column and an OR, the planner read the whole table). On SQLite, a phrase query
on the FTS5 table ``premises_search`` (``trigram`` tokenizer, kept in step with
``premises`` by triggers): a phrase of consecutive trigrams is exactly a substring, in
any case.

Trigrams need three characters. A query of one or two characters (``饺子``, ``面``) cannot
be looked up in either index: it is matched by a scan of the premises' three columns
(LIKE on SQLite, ILIKE on PostgreSQL, whose planner then prefers the table to the index),
linear in the number of premises and measured in BENCHMARKS.md. Same answers, slower,
with one difference in case: SQLite's LIKE folds ASCII letters only (FTS5 folds all of
Unicode; PostgreSQL's ILIKE folds as the database's locale does), so on SQLite a
one-letter ``é`` does not find ``É``. Chinese has no case.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, column, literal_column, or_, select, table

from traceability.errors import Invalid
from traceability.storage.models import PremisesRow

SEARCH_TABLE = "premises_search"
"""The SQLite FTS5 table (and the prefix of its shadow tables) that migration 0013 owns."""
TRIGRAM_INDEXES = ("ix_premises_text_trgm",)
"""The PostgreSQL GIN index migration 0013 owns."""
SEARCHED = "(name || E'\\x1f' || address || E'\\x1f' || district)"
"""The indexed expression, written exactly as migration 0013's index has it (PostgreSQL)."""
MIN_INDEXED = 3
"""The shortest query either index can answer (one trigram)."""

MAX_QUERY = 100

_search = table(SEARCH_TABLE, column("premises_id"))


def _like_pattern(text: str) -> str:
    escaped = text.replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


def _fts_phrase(text: str) -> str:
    # One quoted FTS5 phrase: the text's own quotes doubled, every other character literal.
    return '"' + text.replace('"', '""') + '"'


def search_text(value: str | None) -> str | None:
    """``q`` as it is searched: trimmed, None when empty. Invalid when it is longer than
    ``MAX_QUERY`` characters or holds a control character (never in a name or an address,
    and PostgreSQL refuses NUL)."""
    value = (value or "").strip() or None
    if value is None:
        return None
    if len(value) > MAX_QUERY:
        raise Invalid(f"q is {len(value)} characters long; at most {MAX_QUERY}")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise Invalid("q contains a control character")
    return value


def premises_matching(dialect: str, text: str) -> ColumnElement[bool]:
    """The condition "``text`` is in the premises' name, address or district, any case",
    for a session bound to ``dialect`` ("sqlite" or "postgresql")."""
    columns = (PremisesRow.name, PremisesRow.address, PremisesRow.district)
    if dialect == "sqlite":
        if len(text) >= MIN_INDEXED:
            found = select(_search.c.premises_id).where(
                literal_column(SEARCH_TABLE).op("MATCH")(_fts_phrase(text))
            )
            return PremisesRow.premises_id.in_(found)
        # SQLite's LIKE already ignores ASCII case (and CJK has none): no lower() per row.
        return or_(*(c.like(_like_pattern(text), escape="/") for c in columns))
    return literal_column(SEARCHED).ilike(_like_pattern(text), escape="/")


def described_by_models(
    _object: object, name: str | None, type_: str, _reflected: bool, _compare_to: object
) -> bool:
    """Alembic's ``include_object``: False for the search index's own tables and indexes,
    which migration 0013 writes in SQL and the models do not describe."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(SEARCH_TABLE):
        return False
    return not (type_ == "index" and name in TRIGRAM_INDEXES)
