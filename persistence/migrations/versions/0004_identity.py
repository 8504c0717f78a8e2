"""Identity and protection: WeChat identities, sessions with refresh tokens, staff, audit log,
scoped API keys, and members' personal data sealed (phone) with a blind index.

members.openid moves to wechat_identities (a member may hold several openids, one per WeChat app,
linked by unionid). members.phone is replaced by phone_sealed + phone_index: nothing could set a
phone before this revision, so no phone is carried over. Existing API keys get every scope.

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import persistence.tables

revision: str = "0004"
down_revision: Union[str, Sequence[str], None] = "0003"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UtcDateTime = persistence.tables.UtcDateTime
ALL_SCOPES = "orders:write coupons:write points:write members:read"


def upgrade() -> None:
    op.create_table(
        "wechat_identities",
        sa.Column("openid", sa.String(length=128), nullable=False),
        sa.Column("member_id", Id, nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_wechat_identities_member_id_members")),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_identities")),
    )
    op.create_index(op.f("ix_wechat_identities_member_id"), "wechat_identities", ["member_id"])
    op.execute("INSERT INTO wechat_identities (openid, member_id, created_at) SELECT openid, id, created_at FROM members")
    op.drop_index(op.f("ix_members_unionid"), table_name="members")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint("uq_members_openid", type_="unique")
        batch.drop_column("openid")
        batch.drop_column("phone")
        batch.add_column(sa.Column("phone_sealed", sa.Text(), nullable=True))
        batch.add_column(sa.Column("phone_index", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("deregistered_at", UtcDateTime(), nullable=True))
        batch.create_unique_constraint(op.f("uq_members_unionid"), ["unionid"])
        batch.create_unique_constraint(op.f("uq_members_phone_index"), ["phone_index"])

    op.create_table(
        "staff",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("disabled_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_username")),
    )
    op.create_table(
        "sessions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("member_id", Id, nullable=True),
        sa.Column("staff_id", Id, nullable=True),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.Column("revoked_reason", sa.String(length=32), nullable=True),
        sa.CheckConstraint("(member_id IS NULL) <> (staff_id IS NULL)", name=op.f("ck_sessions_one_subject")),
        sa.ForeignKeyConstraint(["member_id"], ["members.id"], name=op.f("fk_sessions_member_id_members")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_sessions_staff_id_staff")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sessions")),
    )
    op.create_index(op.f("ix_sessions_member_id"), "sessions", ["member_id"])
    op.create_index(op.f("ix_sessions_staff_id"), "sessions", ["staff_id"])
    op.create_table(
        "refresh_tokens",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("expires_at", UtcDateTime(), nullable=False),
        sa.Column("used_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"], name=op.f("fk_refresh_tokens_session_id_sessions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(op.f("ix_refresh_tokens_session_id"), "refresh_tokens", ["session_id"])
    op.create_table(
        "audit_log",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", Id, nullable=False),
        sa.Column("actor_name", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("input", sa.JSON(), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_subject", "audit_log", ["subject"])
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.String(length=256), nullable=True))
    op.execute(f"UPDATE api_keys SET scopes = '{ALL_SCOPES}'")
    with op.batch_alter_table("api_keys") as batch:
        batch.alter_column("scopes", existing_type=sa.String(length=256), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("scopes")
    op.drop_index("ix_audit_log_subject", table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_index(op.f("ix_refresh_tokens_session_id"), table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(op.f("ix_sessions_staff_id"), table_name="sessions")
    op.drop_index(op.f("ix_sessions_member_id"), table_name="sessions")
    op.drop_table("sessions")
    op.drop_table("staff")
    with op.batch_alter_table("members") as batch:
        batch.drop_constraint(op.f("uq_members_phone_index"), type_="unique")
        batch.drop_constraint(op.f("uq_members_unionid"), type_="unique")
        batch.drop_column("deregistered_at")
        batch.drop_column("phone_index")
        batch.drop_column("phone_sealed")
        batch.add_column(sa.Column("phone", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("openid", sa.String(length=128), nullable=True))
    op.execute("UPDATE members SET openid = (SELECT min(openid) FROM wechat_identities w WHERE w.member_id = members.id)")
    op.execute("UPDATE members SET openid = 'deregistered-' || id WHERE openid IS NULL")
    with op.batch_alter_table("members") as batch:
        batch.alter_column("openid", existing_type=sa.String(length=128), nullable=False)
        batch.create_unique_constraint("uq_members_openid", ["openid"])
    op.create_index(op.f("ix_members_unionid"), "members", ["unionid"])
    op.drop_index(op.f("ix_wechat_identities_member_id"), table_name="wechat_identities")
    op.drop_table("wechat_identities")
