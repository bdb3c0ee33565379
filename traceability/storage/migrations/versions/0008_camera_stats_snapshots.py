"""cameras: frames analysed, alerts by kind, detectors that ran; kitchen snapshots

Revision ID: 0008
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("frames_analysed", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(
            sa.Column("alerts_by_kind", sa.Text(), nullable=False, server_default="{}")
        )
        batch_op.add_column(sa.Column("detectors", sa.Text(), nullable=False, server_default="[]"))
    op.create_table(
        "kitchen_snapshots",
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("premises_id", sa.String(length=64), nullable=False),
        sa.Column("taken_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name=op.f("pk_kitchen_snapshots")),
    )
    with op.batch_alter_table("kitchen_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kitchen_snapshots_camera_id"), ["camera_id", "taken_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_kitchen_snapshots_premises_id"), ["premises_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("kitchen_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kitchen_snapshots_premises_id"))
        batch_op.drop_index(batch_op.f("ix_kitchen_snapshots_camera_id"))
    op.drop_table("kitchen_snapshots")
    with op.batch_alter_table("cameras", schema=None) as batch_op:
        batch_op.drop_column("detectors")
        batch_op.drop_column("alerts_by_kind")
        batch_op.drop_column("frames_analysed")
