"""inspection schemes and imported history: premises registry fields, external ids,
scheme / type / rating / violations of inspections; licence fields optional

Revision ID: 0010
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("premises", schema=None) as batch_op:
        batch_op.alter_column("licence_number", existing_type=sa.String(length=64), nullable=True)
        batch_op.alter_column("licence_issued_on", existing_type=sa.Date(), nullable=True)
        batch_op.add_column(sa.Column("city", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("region", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("postal_code", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("business_type", sa.String(length=100), nullable=True))
        batch_op.add_column(
            sa.Column("scheme", sa.String(length=32), nullable=False, server_default="cn")
        )
        batch_op.add_column(
            sa.Column("inspection_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "premises_external_ids",
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("premises_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["premises_id"],
            ["premises.premises_id"],
            name=op.f("fk_premises_external_ids_premises_id_premises"),
        ),
        sa.PrimaryKeyConstraint("source", "external_id", name=op.f("pk_premises_external_ids")),
    )
    with op.batch_alter_table("premises_external_ids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_premises_external_ids_premises_id"), ["premises_id"], unique=False
        )
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        batch_op.alter_column("result", existing_type=sa.String(length=16), nullable=True)
        batch_op.add_column(
            sa.Column("scheme", sa.String(length=32), nullable=False, server_default="cn")
        )
        batch_op.add_column(sa.Column("inspection_type", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("rating", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("authority_rating", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("sub_scores", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("violations", sa.Text(), nullable=False, server_default="[]"))
        batch_op.add_column(
            sa.Column("historical", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Inspections logged before schemes were cn ones: their rating is their result.
    op.execute("UPDATE inspections SET rating = result WHERE rating IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("inspections", schema=None) as batch_op:
        for column in (
            "historical",
            "violations",
            "sub_scores",
            "authority_rating",
            "rating",
            "inspection_type",
            "scheme",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("result", existing_type=sa.String(length=16), nullable=False)
    with op.batch_alter_table("premises_external_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_premises_external_ids_premises_id"))
    op.drop_table("premises_external_ids")
    with op.batch_alter_table("premises", schema=None) as batch_op:
        for column in (
            "inspection_only",
            "scheme",
            "business_type",
            "phone",
            "longitude",
            "latitude",
            "postal_code",
            "region",
            "city",
        ):
            batch_op.drop_column(column)
        batch_op.alter_column("licence_issued_on", existing_type=sa.Date(), nullable=False)
        batch_op.alter_column("licence_number", existing_type=sa.String(length=64), nullable=False)
