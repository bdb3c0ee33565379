"""probe day summaries: the cache of each probe's logged daily summary

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "probe_day_summaries",
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("premises_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("through", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("min", sa.Float(), nullable=True),
        sa.Column("mean", sa.Float(), nullable=True),
        sa.Column("max", sa.Float(), nullable=True),
        sa.Column("minutes_out_of_range", sa.Float(), nullable=True),
        sa.Column("first_leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("last_leaf_index", sa.BigInteger(), nullable=True),
        sa.Column("readings_sha256", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "day", name=op.f("pk_probe_day_summaries")),
    )
    with op.batch_alter_table("probe_day_summaries", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_probe_day_summaries_premises_id"), ["premises_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("probe_day_summaries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_probe_day_summaries_premises_id"))
    op.drop_table("probe_day_summaries")
