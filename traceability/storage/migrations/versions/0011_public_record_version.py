"""premises.record_version: bumped by the database whenever a row the public record shows changes

Revision ID: 0011
Revises: 0008

Triggers on every table the public record reads, per premises (the premises row itself,
devices, alerts, alert transitions, records, lots, inspections, grades, cameras, kitchen
snapshots, probe day summaries), add one to ``premises.record_version`` in the same
transaction as the change, whoever writes it (ORM, Core, a hand-typed UPDATE). The record's
ETag and its per-process cache are keyed by it (see ``traceability.public_record.version``).
On PostgreSQL the triggers are deferred to commit, so the premises row is locked last.

SQLite drops a table's triggers when a migration rebuilds that table
(``batch_alter_table``): such a migration must create them again;
``tests/api/test_record_version.py`` checks that every watched table has them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Frozen copy of traceability.public_record.version.WATCHED at this revision.
DIRECT = (
    "devices",
    "alerts",
    "records",
    "lots",
    "inspections",
    "grades",
    "cameras",
    "kitchen_snapshots",
    "probe_day_summaries",
)
TRANSITIONS = "alert_transitions"
BUMP = "UPDATE premises SET record_version = record_version + 1 WHERE premises_id = {premises}"
OF_TRANSITION = "(SELECT premises_id FROM alerts WHERE alert_id = {row}.alert_id)"


def _sqlite_triggers() -> list[str]:
    out = []
    for table in (*DIRECT, TRANSITIONS):

        def of(row: str, table: str = table) -> str:
            return OF_TRANSITION.format(row=row) if table == TRANSITIONS else f"{row}.premises_id"

        out += [
            f"CREATE TRIGGER record_version_{table}_insert AFTER INSERT ON {table} "
            f"BEGIN {BUMP.format(premises=of('NEW'))}; END",
            f"CREATE TRIGGER record_version_{table}_update AFTER UPDATE ON {table} "
            f"BEGIN {BUMP.format(premises=of('NEW'))}; "
            f"{BUMP.format(premises=of('OLD'))} AND {of('OLD')} IS NOT {of('NEW')}; END",
            f"CREATE TRIGGER record_version_{table}_delete AFTER DELETE ON {table} "
            f"BEGIN {BUMP.format(premises=of('OLD'))}; END",
        ]
    out.append(
        "CREATE TRIGGER record_version_premises_update AFTER UPDATE ON premises "
        "WHEN NEW.record_version = OLD.record_version "
        f"BEGIN {BUMP.format(premises='NEW.premises_id')}; END"
    )
    return out


def _postgres_function(name: str, premises: str) -> str:
    # OR REPLACE: dropping a schema's tables leaves its functions behind, and a deployment
    # that empties its schema and migrates again must not fail on them.
    new, old = premises.format(row="NEW"), premises.format(row="OLD")
    return f"""
CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        {BUMP.format(premises=old)};
    ELSE
        {BUMP.format(premises=new)};
        IF TG_OP = 'UPDATE' THEN
            IF {old} IS DISTINCT FROM {new} THEN
                {BUMP.format(premises=old)};
            END IF;
        END IF;
    END IF;
    RETURN NULL;
END
$$"""


def _postgres_triggers() -> list[str]:
    out = [
        _postgres_function("record_version_bump", "{row}.premises_id"),
        _postgres_function("record_version_bump_transition", OF_TRANSITION),
        """
CREATE OR REPLACE FUNCTION record_version_premises() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.record_version = OLD.record_version THEN
        NEW.record_version := OLD.record_version + 1;
    END IF;
    RETURN NEW;
END
$$""",
        "CREATE TRIGGER record_version BEFORE UPDATE ON premises "
        "FOR EACH ROW EXECUTE FUNCTION record_version_premises()",
    ]
    for table in (*DIRECT, TRANSITIONS):
        function = (
            "record_version_bump_transition" if table == TRANSITIONS else "record_version_bump"
        )
        out.append(
            f"CREATE CONSTRAINT TRIGGER record_version AFTER INSERT OR UPDATE OR DELETE "
            f"ON {table} DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {function}()"
        )
    return out


def upgrade() -> None:
    with op.batch_alter_table("premises", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("record_version", sa.BigInteger(), nullable=False, server_default="0")
        )
    dialect = op.get_bind().dialect.name
    for statement in _postgres_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        for table in (*DIRECT, TRANSITIONS, "premises"):
            op.execute(f"DROP TRIGGER IF EXISTS record_version ON {table}")
        for function in (
            "record_version_bump",
            "record_version_bump_transition",
            "record_version_premises",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for table in (*DIRECT, TRANSITIONS):
            for when in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS record_version_{table}_{when}")
        op.execute("DROP TRIGGER IF EXISTS record_version_premises_update")
    with op.batch_alter_table("premises", schema=None) as batch_op:
        batch_op.drop_column("record_version")
