"""The programs' missing rules: checkout holds (points held out of the lots, a coupon held for an order),
referrals, and make-up check-ins.

Revision ID: 0008
Revises: 0007
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

revision: str = "0008"
down_revision: Union[str, Sequence[str], None] = "0007"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = persistence.tables.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("points_held", sa.BigInteger(), nullable=False, server_default="0"))
        batch.create_check_constraint(op.f("ck_members_held_not_negative"), "points_held >= 0")
    with op.batch_alter_table("check_ins") as batch:
        batch.add_column(sa.Column("made_up", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        "checkout_holds",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("external_order_id", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("order_amount", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("amount_off", sa.BigInteger(), nullable=False),
        sa.Column("coupon_id", Id, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("settled_at", UtcDateTime(), nullable=True),
        sa.Column("unapplied", sa.Text(), nullable=True),
        sa.CheckConstraint("points >= 0", name=op.f("ck_checkout_holds_points_not_negative")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_checkout_holds_member_id_members")),
        sa.ForeignKeyConstraint(["coupon_id"], ["coupons.id"], name=op.f("fk_checkout_holds_coupon_id_coupons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkout_holds")),
        sa.UniqueConstraint("external_order_id", name=op.f("uq_checkout_holds_external_order_id")),
    )
    op.create_index(op.f("ix_checkout_holds_member_id"), "checkout_holds", ["member_id"])
    op.create_index(op.f("ix_checkout_holds_coupon_id"), "checkout_holds", ["coupon_id"])
    op.create_index("ix_checkout_holds_held_expires_at", "checkout_holds", ["expires_at"],
                    postgresql_where=sa.text("status = 'HELD'"), sqlite_where=sa.text("status = 'HELD'"))
    op.create_table(
        "hold_lots",
        sa.Column("hold_id", Id, nullable=False),
        sa.Column("lot_id", Id, nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_hold_lots_amount_positive")),
        sa.ForeignKeyConstraint(["hold_id"], ["checkout_holds.id"], name=op.f("fk_hold_lots_hold_id_checkout_holds")),
        sa.ForeignKeyConstraint(["lot_id"], ["points_lots.id"], name=op.f("fk_hold_lots_lot_id_points_lots")),
        sa.PrimaryKeyConstraint("hold_id", "lot_id", name=op.f("pk_hold_lots")),
    )
    op.create_table(
        "referrals",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("referrer_id", Id, nullable=False),
        sa.Column("referee_id", Id, nullable=False),
        sa.Column("joined_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("order_id", Id, nullable=True),
        sa.Column("qualifies_at", UtcDateTime(), nullable=True),
        sa.Column("rewarded_at", UtcDateTime(), nullable=True),
        sa.Column("points_awarded", sa.Integer(), nullable=False),
        sa.Column("void_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["referrer_id"], ["members.id"], name=op.f("fk_referrals_referrer_id_members")),
        sa.ForeignKeyConstraint(["referee_id"], ["members.id"], name=op.f("fk_referrals_referee_id_members")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_referrals_order_id_orders")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referrals")),
        sa.UniqueConstraint("referee_id", name=op.f("uq_referrals_referee_id")),
    )
    op.create_index("ix_referrals_referrer_id_id", "referrals", ["referrer_id", "id"])
    op.create_index("ix_referrals_qualifying", "referrals", ["qualifies_at"],
                    postgresql_where=sa.text("status = 'QUALIFYING'"), sqlite_where=sa.text("status = 'QUALIFYING'"))


def downgrade() -> None:
    op.drop_index("ix_referrals_qualifying", table_name="referrals")
    op.drop_index("ix_referrals_referrer_id_id", table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("hold_lots")
    op.drop_index("ix_checkout_holds_held_expires_at", table_name="checkout_holds")
    op.drop_index(op.f("ix_checkout_holds_coupon_id"), table_name="checkout_holds")
    op.drop_index(op.f("ix_checkout_holds_member_id"), table_name="checkout_holds")
    op.drop_table("checkout_holds")
    with op.batch_alter_table("check_ins") as batch:
        batch.drop_column("made_up")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("ck_members_held_not_negative"), type_="check")
        batch.drop_column("points_held")
