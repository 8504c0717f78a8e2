"""Lifecycle segments (RFM): each member's segment and the local day it entered it, set by the daily
segment job; an index to count members per segment.

Revision ID: 0011
Revises: 0010
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: Union[str, Sequence[str], None] = "0010"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("segment", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("segment_since", sa.Date(), nullable=True))
    op.create_index("ix_members_segment", "members", ["segment"])


def downgrade() -> None:
    op.drop_index("ix_members_segment", table_name="members")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("segment_since")
        batch.drop_column("segment")
