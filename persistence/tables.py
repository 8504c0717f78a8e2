"""The tables. Invariants the database can hold are declared here, not only checked in code."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON, BigInteger, Boolean, CheckConstraint, Column, Date, DateTime, ForeignKey, Index, Integer, MetaData, Numeric,
    String, Table, Text, UniqueConstraint, false, text,
)
from sqlalchemy.types import TypeDecorator

metadata = MetaData(naming_convention={
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
})


class UtcDateTime(TypeDecorator):
    """Stored as naive UTC on every database; always read back as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a time zone")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=timezone.utc)


# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets 64-bit ids.
Id = BigInteger().with_variant(Integer(), "sqlite")


def _id() -> Column:
    return Column("id", Id, primary_key=True, autoincrement=True)


def _member_ref(**kw) -> Column:
    return Column("member_id", Id, ForeignKey("members.id"), nullable=False, **kw)


tiers = Table(
    "tiers", metadata, _id(),
    Column("code", String(32), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("level", Integer, nullable=False, unique=True),
    Column("growth_threshold", Integer, nullable=False),
    Column("points_multiplier", Numeric(6, 3, asdecimal=True), nullable=False),
    Column("retention_deduction", Integer, nullable=False, default=0),
    CheckConstraint("growth_threshold >= 0", name="threshold_not_negative"),
)

benefits = Table(
    "benefits", metadata, _id(),
    Column("code", String(64), nullable=False, unique=True),
    Column("tier_code", String(32), ForeignKey("tiers.code"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("sort_order", Integer, nullable=False, default=0),
)

catalog_version = Table(
    # One row: bumped by triggers on every change to tiers and benefits (migration 0006), so that API
    # processes, which hold the catalog in memory, see a change at their next request.
    "catalog_version", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("version", BigInteger, nullable=False),
)

coupon_templates = Table(
    "coupon_templates", metadata, _id(),
    Column("code", String(64), nullable=False, unique=True),
    Column("title", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("min_spend", BigInteger, nullable=False, default=0),
    Column("discount_amount", BigInteger),
    Column("discount_percent", Integer),
    Column("valid_days", Integer),
    Column("valid_until_month_end", Boolean, nullable=False, default=False),
    Column("edited_at", UtcDateTime),  # last changed by staff: `loyalty db upgrade` no longer writes the row
)

rewards = Table(
    "rewards", metadata, _id(),
    Column("code", String(64), nullable=False, unique=True),
    Column("name", String(64), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("kind", String(16), nullable=False),
    Column("points_cost", Integer, nullable=False),
    Column("stock", Integer),
    Column("min_tier_level", Integer, nullable=False, default=1),
    Column("active", Boolean, nullable=False, default=True),
    Column("coupon_template", String(64), ForeignKey("coupon_templates.code")),
    Column("sort_order", Integer, nullable=False, default=0),
    Column("edited_at", UtcDateTime),  # last changed by staff: `loyalty db upgrade` no longer writes the row
    CheckConstraint("points_cost > 0", name="cost_positive"),
    CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
)

members = Table(
    "members", metadata, _id(),
    Column("member_no", String(16), nullable=False, unique=True),
    Column("unionid", String(128), unique=True),  # WeChat's one id across the app and the mini-program
    Column("nickname", String(64)),
    # Personal data (PIPL): sealed with AES-GCM (persistence.personal_data), found by its blind index.
    Column("phone_sealed", Text),
    Column("phone_index", String(64), unique=True),
    Column("birthday", Date),
    Column("gender", String(16)),
    Column("household_size", Integer),
    Column("tier_code", String(32), ForeignKey("tiers.code"), nullable=False),
    Column("tier_expires_at", UtcDateTime, index=True),
    Column("tier_expiry_reminded_for", UtcDateTime),  # the tier_expires_at a TIER_EXPIRING notice was sent for
    Column("growth_value", Integer, nullable=False, default=0),
    Column("points_balance", BigInteger, nullable=False, default=0),
    Column("points_debt", BigInteger, nullable=False, default=0),
    # Points reserved by checkout holds: taken out of the lots (hold_lots), still in the ledger's balance
    # until captured; what the member can spend is points_balance - points_held.
    Column("points_held", BigInteger, nullable=False, server_default="0"),
    Column("created_at", UtcDateTime, nullable=False),
    Column("deregistered_at", UtcDateTime),  # 注销: personal data erased; ledgers kept, anonymous
    Column("merged_into", Id, ForeignKey("members.id")),  # closed by a merge into that member (with deregistered_at)
    Column("segment", String(24), index=True),   # lifecycle segment (RFM), set by the daily segment job
    Column("segment_since", Date),                # the local day the member entered it
    CheckConstraint("growth_value >= 0", name="growth_not_negative"),
    CheckConstraint("points_debt >= 0", name="debt_not_negative"),
    CheckConstraint("points_held >= 0", name="held_not_negative"),
)

point_entries = Table(
    "point_entries", metadata, _id(), _member_ref(),
    Column("kind", String(16), nullable=False),
    Column("delta", BigInteger, nullable=False),
    Column("balance_after", BigInteger, nullable=False),
    Column("description", String(128), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime),
    Column("order_id", Id, ForeignKey("orders.id")),
    Index("ix_point_entries_member_id_id", "member_id", "id"),
    # insights: a range's entries by kind, read from the index alone on PostgreSQL
    Index("ix_point_entries_occurred_at", "occurred_at", postgresql_include=["kind", "delta"]),
)

points_lots = Table(
    "points_lots", metadata, _id(), _member_ref(),
    Column("entry_id", Id, ForeignKey("point_entries.id"), nullable=False),
    Column("points", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    Column("earned_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    CheckConstraint("points > 0", name="points_positive"),
    Column("expiry_reminded", Boolean, nullable=False, server_default=false()),
    CheckConstraint("remaining >= 0 AND remaining <= points", name="remaining_within_points"),
    Index("ix_points_lots_member_id_expires_at", "member_id", "expires_at"),
    # The expiry and reminder jobs look for lots with points left by expiry: spent lots drop out.
    Index("ix_points_lots_live_expires_at", "expires_at", postgresql_where=text("remaining > 0"),
          sqlite_where=text("remaining > 0")),
)

growth_entries = Table(
    "growth_entries", metadata, _id(), _member_ref(),
    Column("delta", Integer, nullable=False),
    Column("growth_after", Integer, nullable=False),
    Column("reason", String(16), nullable=False),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("order_id", Id, ForeignKey("orders.id")),
    Index("ix_growth_entries_member_id_id", "member_id", "id"),
)

tier_gifts = Table(
    "tier_gifts", metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("level", Integer, primary_key=True),
    Column("granted_at", UtcDateTime, nullable=False),
)

profile_tasks = Table(
    "profile_tasks", metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("task", String(32), primary_key=True),
    Column("completed_at", UtcDateTime, nullable=False),
)

check_ins = Table(
    "check_ins", metadata, _id(), _member_ref(),
    Column("local_date", Date, nullable=False),
    Column("streak_days", Integer, nullable=False),
    Column("points_awarded", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("made_up", Boolean, nullable=False, server_default=false()),  # 补签: a missed day filled in
    UniqueConstraint("member_id", "local_date", name="uq_check_ins_member_id_local_date"),
    CheckConstraint("streak_days >= 1", name="streak_positive"),
)

coupons = Table(
    "coupons", metadata, _id(), _member_ref(),
    Column("template_code", String(64), nullable=False),
    Column("title", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("min_spend", BigInteger, nullable=False),
    Column("discount_amount", BigInteger),
    Column("discount_percent", Integer),
    Column("valid_from", UtcDateTime, nullable=False),
    Column("valid_until", UtcDateTime, nullable=False),
    Column("source", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("claim_period", String(7)),
    Column("used_at", UtcDateTime),
    Column("used_order_id", String(128)),
    Column("used_order_amount", BigInteger),
    Column("applied_discount", BigInteger),
    Column("expiry_reminded", Boolean, nullable=False, server_default=false()),
    Index("ix_coupons_member_id_id", "member_id", "id"),
    Index("ix_coupons_available_valid_until", "valid_until", postgresql_where=text("status = 'AVAILABLE'"),
          sqlite_where=text("status = 'AVAILABLE'")),
    CheckConstraint("status IN ('AVAILABLE', 'USED')", name="status_known"),
)

monthly_coupon_claims = Table(
    "monthly_coupon_claims", metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("period", String(7), primary_key=True),
    Column("claimed_at", UtcDateTime, nullable=False),
)

orders = Table(
    "orders", metadata, _id(), _member_ref(),
    Column("external_id", String(128), nullable=False, unique=True),
    Column("amount", BigInteger, nullable=False),
    Column("shipping_fee", BigInteger, nullable=False, default=0),
    Column("channel", String(16), nullable=False),
    Column("paid_at", UtcDateTime, nullable=False),
    Column("refunded_amount", BigInteger, nullable=False, default=0),
    Column("points_earned", BigInteger, nullable=False),
    Column("growth_earned", Integer, nullable=False),
    Column("points_taken_back", BigInteger, nullable=False, default=0),
    Column("growth_taken_back", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
    CheckConstraint("refunded_amount >= 0 AND refunded_amount <= amount", name="refund_within_amount"),
    Index("ix_orders_member_id_id", "member_id", "id"),
    Index("ix_orders_member_id_paid_at", "member_id", "paid_at"),
)

refunds = Table(
    "refunds", metadata, _id(),
    Column("order_id", Id, ForeignKey("orders.id"), nullable=False, index=True),
    Column("external_refund_id", String(128), nullable=False, unique=True),
    Column("amount", BigInteger, nullable=False),
    Column("points_taken_back", BigInteger, nullable=False),
    Column("growth_taken_back", Integer, nullable=False),
    Column("points_returned", BigInteger, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)

points_offsets = Table(
    "points_offsets", metadata, _id(), _member_ref(),
    Column("external_order_id", String(128), nullable=False, unique=True),
    Column("points", BigInteger, nullable=False),
    Column("amount_off", BigInteger, nullable=False),
    Column("order_amount", BigInteger, nullable=False),
    Column("points_returned", BigInteger, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    CheckConstraint("points > 0 AND points_returned <= points", name="points_within_offset"),
)

offset_lots = Table(
    # Which lots an offset's points were taken from, so that a refund gives them back in the year they
    # were earned (the annual clearing counts them there). Offsets made before 0009 have none.
    "offset_lots", metadata,
    Column("offset_id", Id, ForeignKey("points_offsets.id"), primary_key=True),
    Column("lot_id", Id, ForeignKey("points_lots.id"), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)

redemptions = Table(
    "redemptions", metadata, _id(), _member_ref(),
    Column("reward_id", Id, ForeignKey("rewards.id"), nullable=False),
    Column("points_spent", Integer, nullable=False),
    Column("coupon_id", Id, ForeignKey("coupons.id")),
    Column("status", String(24), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_redemptions_member_id_id", "member_id", "id"),
)

idempotency_keys = Table(
    "idempotency_keys", metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("operation", String(32), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("result_id", Id, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

wechat_identities = Table(
    # One member may sign in from several WeChat apps (the mini-program, the mobile app): an openid
    # each, one unionid across them.
    "wechat_identities", metadata,
    Column("openid", String(128), primary_key=True),
    _member_ref(index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("platform", String(16), nullable=False, server_default="MINI_PROGRAM"),  # the app whose openid it is
)

sms_codes = Table(
    # Sign-in codes sent by SMS: kept as an HMAC of number and code (never the code), single use, a few
    # wrong tries each. A number's older codes are dropped when a new one is sent.
    "sms_codes", metadata, _id(),
    Column("phone_index", String(64), nullable=False),
    Column("code_hash", String(64), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
    Index("ix_sms_codes_phone_index_id", "phone_index", "id"),
)

staff = Table(
    "staff", metadata, _id(),
    Column("username", String(64), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),  # Argon2id
    Column("role", String(32), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime),
)

sessions = Table(
    # A signed-in member or staff member. Access tokens name their session, so ending it (logout,
    # refresh-token reuse, deregistration) stops them at once.
    "sessions", metadata, _id(),
    Column("member_id", Id, ForeignKey("members.id"), index=True),
    Column("staff_id", Id, ForeignKey("staff.id"), index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
    Column("revoked_reason", String(32)),
    Column("token_id", String(32), nullable=False, unique=True),  # random: what access tokens name
    CheckConstraint("(member_id IS NULL) <> (staff_id IS NULL)", name="one_subject"),
)

refresh_tokens = Table(
    # Stored as SHA-256 hashes; each is used once (rotation), and a second use ends the session.
    "refresh_tokens", metadata, _id(),
    Column("session_id", Id, ForeignKey("sessions.id"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime),
)

api_keys = Table(
    "api_keys", metadata, _id(),
    Column("name", String(64), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(12), nullable=False),
    Column("scopes", String(256), nullable=False),  # space-separated, e.g. "orders:write coupons:write"
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

audit_log = Table(
    # Every staff action and every integration write: who, what, when, the request, before and after.
    # Append-only: nothing in the API updates or deletes it.
    "audit_log", metadata, _id(),
    Column("occurred_at", UtcDateTime, nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("actor_kind", String(16), nullable=False),
    Column("actor_id", Id, nullable=False),
    Column("actor_name", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("subject", String(64)),
    Column("outcome", String(32), nullable=False),
    Column("input", JSON, nullable=False),
    Column("before", JSON),
    Column("after", JSON),
    Index("ix_audit_log_subject", "subject"),
)

job_runs = Table(
    "job_runs", metadata,
    Column("job", String(32), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("completed_at", UtcDateTime, nullable=False),
    Column("processed", Integer, nullable=False),
)

member_job_periods = Table(
    # What a calendar job has done for a member in a period, so that it does it once:
    # monthly_bonus and frequency_bonus (YYYY-MM), birthday_gift (YYYY), annual_clearing and its reminder (YYYY).
    "member_job_periods", metadata,
    Column("member_id", Id, ForeignKey("members.id"), primary_key=True),
    Column("job", String(32), primary_key=True),
    Column("period", String(10), primary_key=True),
    Column("done_at", UtcDateTime, nullable=False),
)

notifications = Table(
    # An outbox: written in the transaction of what it announces; members read it in the app, and a
    # sender (WeChat subscription messages, SMS) delivers what has no sent_at yet.
    "notifications", metadata, _id(), _member_ref(),
    Column("kind", String(24), nullable=False),
    Column("title", String(64), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime),
    Column("sent_at", UtcDateTime),
    Index("ix_notifications_member_id_id", "member_id", "id"),
    Index("ix_notifications_unsent", "id", postgresql_where=text("sent_at IS NULL"),
          sqlite_where=text("sent_at IS NULL")),
)


checkout_holds = Table(
    # Points and/or one coupon reserved for an order awaiting payment (the commerce backend's checkout):
    # HELD until captured by recordOrder of the same external order id, released, or expired by the job.
    "checkout_holds", metadata, _id(), _member_ref(index=True),
    Column("external_order_id", String(128), nullable=False, unique=True),
    Column("request_hash", String(64), nullable=False),   # the input it was made with: a retry replays it
    Column("order_amount", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),          # 0: no points held
    Column("amount_off", BigInteger, nullable=False),      # what the points and the coupon take off, in fen
    Column("coupon_id", Id, ForeignKey("coupons.id"), index=True),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("settled_at", UtcDateTime),
    Column("unapplied", Text),   # JSON: what a recordOrder after expiry could not spend again, as userErrors
    Index("ix_checkout_holds_held_expires_at", "expires_at", postgresql_where=text("status = 'HELD'"),
          sqlite_where=text("status = 'HELD'")),
    CheckConstraint("points >= 0", name="points_not_negative"),
)

hold_lots = Table(
    # Which lots a hold's points were taken from, so that a release puts each back where it came from.
    "hold_lots", metadata,
    Column("hold_id", Id, ForeignKey("checkout_holds.id"), primary_key=True),
    Column("lot_id", Id, ForeignKey("points_lots.id"), primary_key=True),
    Column("amount", BigInteger, nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
)

referrals = Table(
    # 邀请有礼: a referee (new member) signed up with a referrer's code.
    "referrals", metadata, _id(),
    Column("referrer_id", Id, ForeignKey("members.id"), nullable=False),
    Column("referee_id", Id, ForeignKey("members.id"), nullable=False, unique=True),
    Column("joined_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),          # PENDING, QUALIFYING, REWARDED, VOID
    Column("order_id", Id, ForeignKey("orders.id")),       # the referee's first eligible order
    Column("qualifies_at", UtcDateTime),                   # when that order has stood long enough
    Column("rewarded_at", UtcDateTime),
    Column("points_awarded", Integer, nullable=False, default=0),
    Column("void_reason", String(64)),
    Index("ix_referrals_referrer_id_id", "referrer_id", "id"),
    Index("ix_referrals_qualifying", "qualifies_at", postgresql_where=text("status = 'QUALIFYING'"),
          sqlite_where=text("status = 'QUALIFYING'")),
)

legacy_points = Table(
    # Points of the old system (`loyalty import legacy-points`), one row per imported row of a file, once per
    # external row id: CREDITED to a member as a MIGRATION entry, or WAITING for its number to become a
    # member's, known by the number's blind index only (never the number), which is dropped once credited.
    "legacy_points", metadata, _id(),
    Column("external_row_id", String(128), nullable=False, unique=True),
    Column("file_digest", String(16), nullable=False),   # the file it came from (SHA-256, 16 hex digits) and
    Column("line", Integer, nullable=False),             # its line there: a re-run tells its own rows
    Column("legacy_points", BigInteger, nullable=False),
    Column("points", BigInteger, nullable=False),         # legacy_points // migration.legacy_ratio
    Column("status", String(16), nullable=False),         # WAITING, CREDITED
    Column("phone_index", String(64)),                    # WAITING: the number's blind index
    Column("entry_id", Id, ForeignKey("point_entries.id")),  # CREDITED: the MIGRATION entry (of the member)
    Column("imported_at", UtcDateTime, nullable=False),   # the lot's expiry runs from here, even if credited later
    Column("credited_at", UtcDateTime),
    CheckConstraint("points > 0", name="points_positive"),
    CheckConstraint("(status = 'WAITING' AND phone_index IS NOT NULL AND entry_id IS NULL AND credited_at IS NULL) OR "
                    "(status = 'CREDITED' AND phone_index IS NULL AND entry_id IS NOT NULL AND credited_at IS NOT NULL)",
                    name="waiting_or_credited"),
    Index("ix_legacy_points_waiting_phone_index", "phone_index", postgresql_where=text("status = 'WAITING'"),
          sqlite_where=text("status = 'WAITING'")),
)
