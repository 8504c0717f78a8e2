"""Catalog management: `edited_at` on rewards and coupon templates, set when staff create or change a
row; `loyalty db upgrade` (persistence.catalog.sync_program) no longer writes a row that has one.

Revision ID: 0012
Revises: 0011
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

revision: str = "0012"
down_revision: Union[str, Sequence[str], None] = "0011"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

UtcDateTime = persistence.tables.UtcDateTime


def upgrade() -> None:
    for table in ("coupon_templates", "rewards"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("edited_at", UtcDateTime(), nullable=True))


def downgrade() -> None:
    for table in ("rewards", "coupon_templates"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("edited_at")
