"""Legacy points (`loyalty import legacy-points`): one row per imported row of a legacy-points file,
credited to a member or waiting, by the number's blind index only, for its number to be bound.

Revision ID: 0010
Revises: 0009
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

revision: str = "0010"
down_revision: Union[str, Sequence[str], None] = "0009"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = persistence.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "legacy_points",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("external_row_id", sa.String(length=128), nullable=False),
        sa.Column("file_digest", sa.String(length=16), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("legacy_points", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=True),
        sa.Column("entry_id", Id, nullable=True),
        sa.Column("imported_at", UtcDateTime(), nullable=False),
        sa.Column("credited_at", UtcDateTime(), nullable=True),
        sa.CheckConstraint("points > 0", name=op.f("ck_legacy_points_points_positive")),
        sa.CheckConstraint(
            "(status = 'WAITING' AND phone_index IS NOT NULL AND entry_id IS NULL AND credited_at IS NULL) OR "
            "(status = 'CREDITED' AND phone_index IS NULL AND entry_id IS NOT NULL AND credited_at IS NOT NULL)",
            name=op.f("ck_legacy_points_waiting_or_credited")),
        sa.ForeignKeyConstraint(["entry_id"], ["point_entries.id"],
                                name=op.f("fk_legacy_points_entry_id_point_entries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_legacy_points")),
        sa.UniqueConstraint("external_row_id", name=op.f("uq_legacy_points_external_row_id")),
    )
    op.create_index("ix_legacy_points_waiting_phone_index", "legacy_points", ["phone_index"],
                    postgresql_where=sa.text("status = 'WAITING'"), sqlite_where=sa.text("status = 'WAITING'"))


def downgrade() -> None:
    op.drop_index("ix_legacy_points_waiting_phone_index", table_name="legacy_points")
    op.drop_table("legacy_points")
