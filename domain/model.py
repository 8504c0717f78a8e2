"""Entities of the loyalty domain. Plain dataclasses; persistence maps rows to and from them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from domain.clock import is_still_valid
from domain.vocabulary import CouponStatus, RedemptionStatus


@dataclass
class Member:
    """A member's account, the aggregate every write locks first. Its wallet keeps the invariant
    balance = Σ lot remainders − debt = Σ ledger deltas: points only change through `add_points`,
    `take_points` and `forfeit_points`, each matched by a ledger entry and lots (`domain.wallet`). Growth
    changes through `change_growth`, never below 0. The unit of work saves a changed member once, when
    it commits. The phone number is not here: it is sealed at rest and only ever set or looked up
    (MemberRepository.set_phone, by_phone)."""

    id: int
    member_no: str
    tier_code: str
    growth_value: int
    points_balance: int
    points_debt: int
    created_at: datetime
    tier_expires_at: datetime | None = None
    unionid: str | None = None
    nickname: str | None = None
    birthday: date | None = None
    gender: str | None = None
    household_size: int | None = None
    deregistered_at: datetime | None = None
    merged_into: int | None = None   # closed by a staff merge into that member
    points_held: int = 0             # reserved by checkout holds: out of the lots, not spendable

    @property
    def points_available(self) -> int:
        """What the member can spend now: the balance less what checkout holds reserve."""
        return self.points_balance - self.points_held

    def add_points(self, points: int) -> int:
        """Points added: debt left by refunds is repaid from them first. What stays spendable (the new
        lot's remainder)."""
        repaid = min(self.points_debt, points)
        self.points_debt -= repaid
        self.points_balance += points
        return points - repaid

    def take_points(self, points: int, shortfall: int = 0) -> None:
        """Points spent from lots; what the lots could not cover (`shortfall`, refunds only) becomes debt."""
        self.points_debt += shortfall
        self.points_balance -= points

    def forfeit_points(self) -> int:
        """Every point given up and any debt written off; the ledger delta that records it."""
        delta = -self.points_balance
        self.points_balance = self.points_debt = 0
        return delta

    def change_growth(self, delta: int) -> int:
        """Growth moves by `delta`, never below 0; what was applied."""
        applied = max(0, self.growth_value + delta) - self.growth_value
        self.growth_value += applied
        return applied


@dataclass
class Footprint:
    """What a member has done and holds, beyond the account itself (`MemberRepository.footprint`)."""

    wechat_identities: int
    orders: int
    check_ins: int
    redemptions: int
    point_kinds: frozenset[str]       # kinds of the member's ledger entries
    coupon_sources: frozenset[str]    # sources of the member's coupons
    coupons_used: int


@dataclass
class SmsCode:
    """A sign-in code sent by SMS, as kept: an HMAC of number and code, never the code."""

    id: int
    code_hash: str
    attempts: int
    expires_at: datetime
    used_at: datetime | None = None


@dataclass
class PointsLot:
    """Points added at one moment, spent soonest-expiring first; `remaining` never goes below 0."""

    id: int
    member_id: int
    points: int
    remaining: int
    earned_at: datetime
    expires_at: datetime


@dataclass
class LedgerEntry:
    """One append-only change of a member's points balance."""

    member_id: int
    kind: str
    delta: int
    balance_after: int
    description: str
    occurred_at: datetime
    expires_at: datetime | None = None
    order_id: int | None = None
    id: int | None = None


def coupon_status(stored: str, valid_until: datetime, now: datetime) -> CouponStatus:
    """A coupon's status at `now`: USED once used; else AVAILABLE through the last whole second of
    `valid_until`, EXPIRED after. `persistence.coupons.queries.status_is` restates it in SQL."""
    if stored == CouponStatus.USED:
        return CouponStatus.USED
    return CouponStatus.AVAILABLE if is_still_valid(valid_until, now) else CouponStatus.EXPIRED


@dataclass
class Coupon:
    member_id: int
    template_code: str
    title: str
    kind: str
    min_spend: int
    discount_amount: int | None
    discount_percent: int | None
    valid_from: datetime
    valid_until: datetime
    source: str
    status: str = CouponStatus.AVAILABLE
    claim_period: str | None = None
    used_at: datetime | None = None
    used_order_id: str | None = None
    used_order_amount: int | None = None
    applied_discount: int | None = None
    id: int | None = None

    def status_at(self, now: datetime) -> CouponStatus:
        return coupon_status(self.status, self.valid_until, now)


@dataclass
class CheckIn:
    member_id: int
    local_date: date
    streak_days: int
    points_awarded: int
    created_at: datetime
    id: int | None = None
    made_up: bool = False   # 补签: a missed day filled in later


@dataclass
class Reward:
    id: int
    code: str
    name: str
    kind: str
    points_cost: int
    stock: int | None
    min_tier_level: int
    active: bool
    coupon_template: str | None


@dataclass
class Redemption:
    member_id: int
    reward_id: int
    points_spent: int
    created_at: datetime
    coupon_id: int | None = None
    status: str = RedemptionStatus.COMPLETED
    id: int | None = None


@dataclass
class Order:
    member_id: int
    external_id: str
    amount: int
    shipping_fee: int
    channel: str
    paid_at: datetime
    points_earned: int
    growth_earned: int
    created_at: datetime
    refunded_amount: int = 0
    points_taken_back: int = 0
    growth_taken_back: int = 0
    id: int | None = None


@dataclass
class Refund:
    order_id: int
    external_refund_id: str
    amount: int
    points_taken_back: int
    growth_taken_back: int
    points_returned: int
    created_at: datetime
    id: int | None = None


@dataclass
class Referral:
    """邀请有礼: a new member (the referee) who signed up with another's referral code (`domain.referrals`)."""

    referrer_id: int
    referee_id: int
    joined_at: datetime
    status: str                          # vocabulary.ReferralStatus
    order_id: int | None = None          # the referee's order that is qualifying it
    qualifies_at: datetime | None = None
    rewarded_at: datetime | None = None
    points_awarded: int = 0
    void_reason: str | None = None
    id: int | None = None


@dataclass
class PointsOffset:
    """Points spent at checkout on one order (redeemPointsForOrder); refunds give them back in proportion."""

    member_id: int
    external_order_id: str
    points: int
    amount_off: int
    order_amount: int
    created_at: datetime
    points_returned: int = 0
    id: int | None = None


@dataclass
class CheckoutHold:
    """Points (taken out of their lots) and/or one coupon reserved for an order awaiting payment."""

    member_id: int
    external_order_id: str
    request_hash: str
    order_amount: int
    points: int
    amount_off: int
    coupon_id: int | None
    status: str
    created_at: datetime
    expires_at: datetime
    settled_at: datetime | None = None
    unapplied: str | None = None   # JSON: what a late recordOrder could not spend again ([{field, code, message}])
    id: int | None = None


@dataclass
class IdempotencyRecord:
    member_id: int
    operation: str
    key: str
    request_hash: str
    result_id: int
    created_at: datetime


@dataclass
class Notification:
    """A message to a member, kept in an outbox that senders (WeChat subscription messages, SMS) read."""

    member_id: int
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None = None
    id: int | None = None


@dataclass
class Session:
    """A signed-in member or staff member; its access tokens stop working once it is revoked."""

    created_at: datetime
    member_id: int | None = None
    staff_id: int | None = None
    revoked_at: datetime | None = None
    revoked_reason: str | None = None
    token_id: str | None = None   # what access tokens name: random, so a leaked signing key guesses no session
    id: int | None = None


@dataclass
class RefreshToken:
    session_id: int
    token_hash: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None
    id: int | None = None


@dataclass
class StaffMember:
    username: str
    password_hash: str
    role: str
    created_at: datetime
    disabled_at: datetime | None = None
    id: int | None = None


@dataclass(frozen=True)
class AuditRecord:
    """One line of the audit log: who did what to what, when, in which request, and how it was before
    and after."""

    occurred_at: datetime
    request_id: str
    actor_kind: str      # STAFF or INTEGRATION
    actor_id: int
    actor_name: str
    action: str          # the operation, e.g. recordOrder
    subject: str | None  # what it changed or read, e.g. Member:12
    outcome: str         # OK, or the code it was refused with
    input: dict
    before: dict | None = None
    after: dict | None = None


@dataclass
class LegacyPoints:
    """Points of the old system waiting for their phone number to become a member's (`domain.legacy_points`)."""

    id: int
    external_row_id: str
    legacy_points: int
    points: int
    imported_at: datetime
