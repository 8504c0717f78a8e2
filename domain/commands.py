"""Commands: what a caller asks the service layer to do (`domain.service`), each a frozen object of
plain values. Each names its handler's area; the API maps a mutation's input to one, the CLI and the
demo data make them too.

`audit_action` names the operation in the audit log (staff and integration writes are audited), and
`audit_subject` what it concerns when that is known before the handler runs (a handler that learns it
later says so itself, `Handling.concerns`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import ClassVar


@dataclass(frozen=True)
class Command:
    audit_action: ClassVar[str | None] = None

    def audit_subject(self) -> str | None:
        return None


# --- members ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SignInWithWeChat(Command):
    """Sign in (and on first use register) the member of a WeChat identity, starting a session."""

    openid: str
    unionid: str | None
    refresh_ttl_seconds: int | None
    platform: str = "MINI_PROGRAM"   # vocabulary.WeChatPlatform
    referral_code: str | None = None  # a referrer's code: links a member registered now (`domain.referrals`)


@dataclass(frozen=True)
class StoreSmsCode(Command):
    """Keep a sign-in code just sent to `phone` (as `code_hash`, an HMAC of number and code), valid
    `ttl_seconds`; the number's earlier codes stop working."""

    phone: str
    code_hash: str
    ttl_seconds: int


@dataclass(frozen=True)
class SignInWithPhone(Command):
    """Sign in (and on first use register) the member of a phone number, with the code sent to it."""

    phone: str
    code_hash: str
    refresh_ttl_seconds: int | None


@dataclass(frozen=True)
class HoldForCheckout(Command):
    """The commerce backend: reserve points and/or one coupon for an order awaiting payment."""

    audit_action: ClassVar[str | None] = "holdForCheckout"
    member_id: int
    external_order_id: str
    order_amount: int
    points: int | None
    coupon_id: int | None

    def audit_subject(self) -> str | None:
        return f"Member:{self.member_id}"


@dataclass(frozen=True)
class ReleaseHold(Command):
    """The commerce backend: the checkout was cancelled; give the hold back."""

    audit_action: ClassVar[str | None] = "releaseHold"
    external_order_id: str


@dataclass(frozen=True)
class MergeMembers(Command):
    """Staff: fold member `source_id` into `target_id` (one person, two members) and close the source."""

    audit_action: ClassVar[str | None] = "mergeMembers"
    source_id: int
    target_id: int
    reason: str

    def audit_subject(self) -> str | None:
        return f"Member:{self.target_id}"


@dataclass(frozen=True)
class BindPhone(Command):
    member_id: int
    phone: str


@dataclass(frozen=True)
class Deregister(Command):
    member_id: int


@dataclass(frozen=True)
class UpdateProfile(Command):
    member_id: int
    nickname: str | None = None
    birthday: date | None = None
    gender: str | None = None
    household_size: int | None = None


# --- sessions and staff ----------------------------------------------------------------------------

@dataclass(frozen=True)
class RefreshSession(Command):
    refresh_token: str
    ttl_seconds: int


@dataclass(frozen=True)
class EndSession(Command):
    audit_action = "logout"
    session_id: int


@dataclass(frozen=True)
class CreateStaff(Command):
    username: str
    password: str
    role: str


@dataclass(frozen=True)
class StaffSignIn(Command):
    username: str
    password: str


@dataclass(frozen=True)
class CreateApiKey(Command):
    audit_action = "createApiKey"
    name: str
    scopes: tuple[str, ...]
    key_hash: str
    prefix: str
    replacing: bool = False


@dataclass(frozen=True)
class RevokeApiKey(Command):
    audit_action = "revokeApiKey"
    key_id: int | None

    def audit_subject(self) -> str | None:
        return f"ApiKey:{self.key_id}"


# --- points, check-ins, coupons, rewards, notifications ---------------------------------------------

@dataclass(frozen=True)
class AdjustPoints(Command):
    audit_action = "adjustPoints"
    member_id: int | None
    points: int
    reason: str
    idempotency_key: str

    def audit_subject(self) -> str | None:
        return f"Member:{self.member_id}"


@dataclass(frozen=True)
class CheckIn(Command):
    member_id: int
    idempotency_key: str


@dataclass(frozen=True)
class MakeUpCheckIn(Command):
    """补签: fill the member's missed local day `day`, for points."""

    member_id: int
    day: date
    idempotency_key: str


@dataclass(frozen=True)
class ClaimMonthlyCoupons(Command):
    member_id: int


@dataclass(frozen=True)
class UseCoupon(Command):
    audit_action = "useCoupon"
    member_id: int | None
    coupon_id: int | None
    external_order_id: str
    order_amount: int

    def audit_subject(self) -> str | None:
        return f"Coupon:{self.coupon_id}"


@dataclass(frozen=True)
class RedeemReward(Command):
    member_id: int
    reward_id: int | None
    idempotency_key: str


# --- catalog (staff) -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CreateReward(Command):
    """Staff: a new reward in the catalog; `stock` None is unlimited, a COUPON reward names its template."""

    audit_action: ClassVar[str | None] = "createReward"
    name: str
    description: str
    kind: str                       # vocabulary.RewardKind
    points_cost: int
    min_tier_level: int
    stock: int | None
    coupon_template_id: int | None


@dataclass(frozen=True)
class UpdateReward(Command):
    """Staff: change a reward; None leaves a field as it is. `stock` is set when `set_stock` (None: unlimited);
    `stock_delta` adjusts the stock as it is at the moment of the write."""

    audit_action: ClassVar[str | None] = "updateReward"
    reward_id: int | None
    name: str | None = None
    description: str | None = None
    points_cost: int | None = None
    min_tier_level: int | None = None
    set_stock: bool = False
    stock: int | None = None
    stock_delta: int | None = None
    active: bool | None = None

    def audit_subject(self) -> str | None:
        return f"Reward:{self.reward_id}" if self.reward_id is not None else None


@dataclass(frozen=True)
class CreateCouponTemplate(Command):
    """Staff: a new coupon template for rewards to issue."""

    audit_action: ClassVar[str | None] = "createCouponTemplate"
    title: str
    kind: str                       # vocabulary.CouponKind
    min_spend: int
    discount_amount: int | None
    discount_percent: int | None
    valid_days: int


@dataclass(frozen=True)
class UpdateCouponTemplate(Command):
    """Staff: change a coupon template (coupons already issued keep their terms); None leaves a field."""

    audit_action: ClassVar[str | None] = "updateCouponTemplate"
    template_id: int | None
    title: str | None = None
    kind: str | None = None
    min_spend: int | None = None
    discount_amount: int | None = None
    discount_percent: int | None = None
    valid_days: int | None = None

    def audit_subject(self) -> str | None:
        return f"CouponTemplate:{self.template_id}" if self.template_id is not None else None


@dataclass(frozen=True)
class MarkNotificationsRead(Command):
    member_id: int
    notification_ids: tuple[int | None, ...]


# --- orders ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RecordOrder(Command):
    audit_action = "recordOrder"
    member_id: int | None
    external_id: str
    amount: int
    shipping_fee: int | None
    channel: str
    paid_at: datetime

    def audit_subject(self) -> str | None:
        return f"Member:{self.member_id}"


@dataclass(frozen=True)
class RefundOrder(Command):
    """Its member is known once the order is found: the handler names it."""

    audit_action = "refundOrder"
    external_id: str
    external_refund_id: str
    amount: int


@dataclass(frozen=True)
class RedeemPointsForOrder(Command):
    audit_action = "redeemPointsForOrder"
    member_id: int | None
    external_order_id: str
    points: int
    order_amount: int

    def audit_subject(self) -> str | None:
        return f"Member:{self.member_id}"
