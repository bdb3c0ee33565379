"""witnesses: checkpoint cosignatures and the checkpoints that met the witness policy

Revision ID: 0007
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "checkpoint_cosignatures",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness_key", sa.String(length=300), nullable=False),
        sa.Column("witness_name", sa.String(length=200), nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint(
            "tree_size", "witness_key", name=op.f("pk_checkpoint_cosignatures")
        ),
    )
    op.create_table(
        "witnessed_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("quorum", sa.Integer(), nullable=False),
        sa.Column("cosigners", sa.Integer(), nullable=False),
        sa.Column("witnessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name=op.f("pk_witnessed_checkpoints")),
    )


def downgrade() -> None:
    op.drop_table("witnessed_checkpoints")
    op.drop_table("checkpoint_cosignatures")
