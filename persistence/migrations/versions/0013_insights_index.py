"""Program reports (`insights`): a range's ledger entries by kind, read from one index (on PostgreSQL the
index covers kind and delta, so the sums never visit the table).

Revision ID: 0013
Revises: 0012
"""
from typing import Sequence, Union

from alembic import op

revision: str = "0013"
down_revision: Union[str, Sequence[str], None] = "0012"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_index("ix_point_entries_occurred_at", "point_entries", ["occurred_at"],
                    postgresql_include=["kind", "delta"])


def downgrade() -> None:
    op.drop_index("ix_point_entries_occurred_at", table_name="point_entries")
