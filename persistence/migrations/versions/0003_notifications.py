"""Notifications outbox, reminder flags, and one table of what each job did for each member.

monthly_bonus_grants becomes member_job_periods (job 'monthly_bonus'), which the birthday gift and
the annual clearing use as well. Indexes for the calendar jobs' due rows.

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

revision: str = "0003"
down_revision: Union[str, Sequence[str], None] = "0002"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = persistence.tables.UtcDateTime


def upgrade() -> None:
    op.create_table(
        "member_job_periods",
        sa.Column("member_id", Id, nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("done_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_member_job_periods_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "job", "period", name=op.f("pk_member_job_periods")),
    )
    op.execute("INSERT INTO member_job_periods (member_id, job, period, done_at) "
               "SELECT member_id, 'monthly_bonus', period, granted_at FROM monthly_bonus_grants")
    op.drop_table("monthly_bonus_grants")

    op.create_table(
        "notifications",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=64), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("read_at", UtcDateTime(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_notifications_member_id_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_member_id_id", "notifications", ["member_id", "id"])
    op.create_index("ix_notifications_unsent", "notifications", ["id"], postgresql_where=sa.text("sent_at IS NULL"),
                    sqlite_where=sa.text("sent_at IS NULL"))

    with op.batch_alter_table("points_lots") as batch:
        batch.add_column(sa.Column("expiry_reminded", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_points_lots_live_expires_at", "points_lots", ["expires_at"],
                    postgresql_where=sa.text("remaining > 0"), sqlite_where=sa.text("remaining > 0"))
    with op.batch_alter_table("coupons") as batch:
        batch.add_column(sa.Column("expiry_reminded", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_index("ix_coupons_available_valid_until", "coupons", ["valid_until"],
                    postgresql_where=sa.text("status = 'AVAILABLE'"), sqlite_where=sa.text("status = 'AVAILABLE'"))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("tier_expiry_reminded_for", UtcDateTime(), nullable=True))
    op.create_index(op.f("ix_members_tier_expires_at"), "members", ["tier_expires_at"])
    op.create_index("ix_orders_member_id_paid_at", "orders", ["member_id", "paid_at"])


def downgrade() -> None:
    op.drop_index("ix_orders_member_id_paid_at", table_name="orders")
    op.drop_index(op.f("ix_members_tier_expires_at"), table_name="members")
    with op.batch_alter_table("members") as batch:
        batch.drop_column("tier_expiry_reminded_for")
    op.drop_index("ix_coupons_available_valid_until", table_name="coupons")
    with op.batch_alter_table("coupons") as batch:
        batch.drop_column("expiry_reminded")
    op.drop_index("ix_points_lots_live_expires_at", table_name="points_lots")
    with op.batch_alter_table("points_lots") as batch:
        batch.drop_column("expiry_reminded")
    op.drop_table("notifications")
    op.create_table(
        "monthly_bonus_grants",
        sa.Column("member_id", Id, nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("granted_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_monthly_bonus_grants_member_id_members")),
        sa.PrimaryKeyConstraint("member_id", "period", name=op.f("pk_monthly_bonus_grants")),
    )
    op.execute("INSERT INTO monthly_bonus_grants (member_id, period, granted_at) "
               "SELECT member_id, period, done_at FROM member_job_periods WHERE job = 'monthly_bonus'")
    op.drop_table("member_job_periods")
