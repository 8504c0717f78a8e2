"""Signing in from the mobile app and by phone: the platform of each WeChat identity (the mini-program's
or the mobile app's openid), SMS sign-in codes, and members closed by a staff merge.

Revision ID: 0007
Revises: 0006
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = persistence.tables.UtcDateTime


def upgrade() -> None:
    with op.batch_alter_table("wechat_identities") as batch:
        batch.add_column(sa.Column("platform", sa.String(length=16), nullable=False,
                                   server_default="MINI_PROGRAM"))
    with op.batch_alter_table("members") as batch:
        batch.add_column(sa.Column("merged_into", Id, nullable=True))
        batch.create_foreign_key(op.f("fk_members_merged_into_members"), "members", ["merged_into"], ["id"])
    op.create_table(
        "sms_codes",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("phone_index", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_codes")),
    )
    op.create_index("ix_sms_codes_phone_index_id", "sms_codes", ["phone_index", "id"])


def downgrade() -> None:
    op.drop_index("ix_sms_codes_phone_index_id", table_name="sms_codes")
    op.drop_table("sms_codes")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("fk_members_merged_into_members"), type_="foreignkey")
        batch.drop_column("merged_into")
    with op.batch_alter_table("wechat_identities") as batch:
        batch.drop_column("platform")
