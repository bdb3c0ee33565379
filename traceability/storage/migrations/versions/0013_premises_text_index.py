"""premises text index: the public list's and the pickers' search by name, address, district

Revision ID: 0013
Revises: 0012

PostgreSQL: a ``pg_trgm`` GIN index on the three columns joined by U+001F (which no
query holds, so a match never spans two columns), serving ``ILIKE '%…%'`` (any case) in
one index scan; written without the pending list (``fastupdate = off``): premises are
few and seldom written, and a search never pays for unmerged entries. The extension is database-wide: an installed ``pg_trgm`` is
used wherever it lives, else it is created in ``public`` (or the current schema when there
is no ``public``). Creating it needs the CREATE privilege on the database (``pg_trgm`` is a
trusted extension since PostgreSQL 13) or a superuser; without it the migration stops and
says so (docs/deploy.md). The downgrade drops the index and leaves the extension, which
other schemas of the database may use.

SQLite: an FTS5 table ``premises_search`` with the ``trigram`` tokenizer (SQLite ≥ 3.34),
holding each premises' id (not indexed) and its three columns, filled from ``premises``
and kept in step by three triggers (insert, update of the columns, delete). It holds its
own copy of the text rather than pointing at ``premises`` by rowid: ``premises`` has no
INTEGER PRIMARY KEY, so VACUUM and table rebuilds may renumber its rowids. SQLite drops a
table's triggers when a migration rebuilds it (``batch_alter_table``): such a migration
must create them again (``tests/traceability/storage/test_premises_search.py`` checks
them at head).

Written to run again over an emptied schema (IF NOT EXISTS; the table is refilled).
"""

from __future__ import annotations

from alembic import op
from sqlalchemy import exc, text

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Frozen copies of traceability.storage.premises_search's names at this revision.
COLUMNS = ("name", "address", "district")
SEARCH_TABLE = "premises_search"
TRIGRAM_INDEX = "ix_premises_text_trgm"
SEARCHED = "(name || E'\\x1f' || address || E'\\x1f' || district)"

NO_EXTENSION = (
    "migration 0013 needs the PostgreSQL extension pg_trgm (the premises search index) and "
    "could not create it: {reason}. Ask the database's owner or a superuser to run "
    "'CREATE EXTENSION pg_trgm' in this database (it is in the postgresql-contrib package "
    "on older distributions), then migrate again; see docs/deploy.md"
)


def _trgm_schema() -> str | None:
    found = op.get_bind().execute(
        text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n "
            "ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    )
    return found.scalar_one_or_none()


def _ensure_pg_trgm() -> str:
    """The schema pg_trgm is installed in, creating it there if it is missing."""
    schema = _trgm_schema()
    if schema is not None:
        return schema
    bind = op.get_bind()
    target = bind.execute(
        text(
            "SELECT COALESCE((SELECT 'public' FROM pg_namespace WHERE nspname = 'public'), "
            "current_schema())"
        )
    ).scalar_one()
    reason = "it is not installed"
    try:
        # A savepoint: another process may create it at the same moment (then it is there).
        with bind.begin_nested():
            bind.execute(text(f'CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA "{target}"'))
    except exc.DBAPIError as error:
        reason = str(error.orig).strip().splitlines()[0]
    schema = _trgm_schema()
    if schema is None:
        raise RuntimeError(NO_EXTENSION.format(reason=reason))
    return schema


def _postgres_upgrade() -> None:
    schema = _ensure_pg_trgm()
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {TRIGRAM_INDEX} ON premises "
        f'USING gin ({SEARCHED} "{schema}".gin_trgm_ops) WITH (fastupdate = off)'
    )


def _sqlite_upgrade() -> None:
    columns = ", ".join(COLUMNS)
    new = ", ".join(f"NEW.{c}" for c in COLUMNS)
    add = f"INSERT INTO {SEARCH_TABLE} (premises_id, {columns}) VALUES (NEW.premises_id, {new})"
    remove = f"DELETE FROM {SEARCH_TABLE} WHERE premises_id = OLD.premises_id"
    for statement in (
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {SEARCH_TABLE} USING fts5("
        f"premises_id UNINDEXED, {columns}, tokenize = 'trigram')",
        f"DELETE FROM {SEARCH_TABLE}",
        f"INSERT INTO {SEARCH_TABLE} (premises_id, {columns}) "
        f"SELECT premises_id, {columns} FROM premises",
        f"CREATE TRIGGER IF NOT EXISTS {SEARCH_TABLE}_insert AFTER INSERT ON premises "
        f"BEGIN {add}; END",
        # Only when a searched column or the id changes, not on every record_version bump.
        f"CREATE TRIGGER IF NOT EXISTS {SEARCH_TABLE}_update "
        f"AFTER UPDATE OF premises_id, {columns} ON premises "
        f"BEGIN {remove}; {add}; END",
        f"CREATE TRIGGER IF NOT EXISTS {SEARCH_TABLE}_delete AFTER DELETE ON premises "
        f"BEGIN {remove}; END",
    ):
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _postgres_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
        return
    for when in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS {SEARCH_TABLE}_{when}")
    op.execute(f"DROP TABLE IF EXISTS {SEARCH_TABLE}")
