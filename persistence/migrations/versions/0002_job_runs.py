"""Calendar jobs: the periods each job has completed, and monthly spend bonuses granted.

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

revision: str = "0002"
down_revision: Union[str, Sequence[str], None] = "0001"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("completed_at", persistence.tables.UtcDateTime(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("job", "period", name=op.f("pk_job_runs")),
    )
    op.create_table(
        "monthly_bonus_grants",
        sa.Column("member_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("granted_at", persistence.tables.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_monthly_bonus_grants_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "period", name=op.f("pk_monthly_bonus_grants")),
    )


def downgrade() -> None:
    op.drop_table("monthly_bonus_grants")
    op.drop_table("job_runs")
