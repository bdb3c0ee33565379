"""premises search: the public list pages by name, within a district or the whole city

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("premises", schema=None) as batch_op:
        batch_op.create_index("ix_premises_name", ["name", "premises_id"], unique=False)
        batch_op.create_index(
            "ix_premises_district_name", ["district", "name", "premises_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("premises", schema=None) as batch_op:
        batch_op.drop_index("ix_premises_district_name")
        batch_op.drop_index("ix_premises_name")
