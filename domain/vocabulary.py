"""The vocabularies the domain speaks and the API shows: one definition each. The API wraps these very
enums for GraphQL (`api.core.vocabulary`), and the database stores their values. Each is a `str` enum,
so a value read from a row or a program file compares equal to its member."""
from __future__ import annotations

from enum import Enum


class Channel(str, Enum):
    """Where an order was placed."""

    APP = "APP"
    MINI_PROGRAM = "MINI_PROGRAM"
    STORE = "STORE"
    THIRD_PARTY = "THIRD_PARTY"


class Gender(str, Enum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    UNDISCLOSED = "UNDISCLOSED"


class PointKind(str, Enum):
    """What a ledger entry was for."""

    SIGNUP = "SIGNUP"
    ORDER = "ORDER"
    CHECK_IN = "CHECK_IN"
    TASK = "TASK"
    UPGRADE_GIFT = "UPGRADE_GIFT"
    BONUS = "BONUS"
    REDEMPTION = "REDEMPTION"
    ORDER_OFFSET = "ORDER_OFFSET"
    REFUND = "REFUND"
    EXPIRY = "EXPIRY"
    ADJUSTMENT = "ADJUSTMENT"
    TRANSFER = "TRANSFER"    # points moved by a staff merge: out of the closed member, into the one kept
    REFERRAL = "REFERRAL"    # the referrer's reward for a referee who qualified (邀请有礼)
    MIGRATION = "MIGRATION"  # legacy points converted from the old system (loyalty import legacy-points)
    MAKE_UP = "MAKE_UP"      # the points a make-up check-in (补签) costs


class WeChatPlatform(str, Enum):
    """Which WeChat app a sign-in code comes from: the mini-program (wx.login, jscode2session) or the mobile
    app (the Open SDK's SendAuth, sns/oauth2/access_token). Each gives the person another openid; the
    unionid is the same."""

    MINI_PROGRAM = "MINI_PROGRAM"
    APP = "APP"


class CouponKind(str, Enum):
    AMOUNT_OFF = "AMOUNT_OFF"
    PERCENT_OFF = "PERCENT_OFF"
    FREE_SHIPPING = "FREE_SHIPPING"


class CouponSource(str, Enum):
    SIGNUP_GIFT = "SIGNUP_GIFT"
    UPGRADE_GIFT = "UPGRADE_GIFT"
    MONTHLY_GIFT = "MONTHLY_GIFT"
    BIRTHDAY_GIFT = "BIRTHDAY_GIFT"
    REDEMPTION = "REDEMPTION"
    ISSUED = "ISSUED"
    REFERRAL_GIFT = "REFERRAL_GIFT"   # the referee's coupons for signing up with a referral code (邀请有礼)


class CouponStatus(str, Enum):
    """As a member sees it at a moment (`domain.coupons.coupon_status`): a coupon stored AVAILABLE is
    EXPIRED once its last whole second has passed."""

    AVAILABLE = "AVAILABLE"
    USED = "USED"
    EXPIRED = "EXPIRED"


class RewardKind(str, Enum):
    COUPON = "COUPON"
    GOODS = "GOODS"


class RedemptionStatus(str, Enum):
    COMPLETED = "COMPLETED"
    PENDING_FULFILMENT = "PENDING_FULFILMENT"


class NotificationKind(str, Enum):
    POINTS_EXPIRING = "POINTS_EXPIRING"
    COUPON_EXPIRING = "COUPON_EXPIRING"
    TIER_EXPIRING = "TIER_EXPIRING"
    TIER_CHANGED = "TIER_CHANGED"
    BIRTHDAY_GIFT = "BIRTHDAY_GIFT"
    BONUS = "BONUS"
    REFERRAL_REWARDED = "REFERRAL_REWARDED"


class HoldStatus(str, Enum):
    """A checkout hold: HELD until the order's recordOrder captures it, releaseHold releases it, or it
    expires (`checkout.hold_minutes`) and the job gives it back."""

    HELD = "HELD"
    CAPTURED = "CAPTURED"
    RELEASED = "RELEASED"
    EXPIRED = "EXPIRED"


class ReferralStatus(str, Enum):
    """PENDING: the referee has no eligible order yet; QUALIFYING: their first one is standing its
    `referral.qualify_days` (a full refund of it puts the referral back to PENDING); REWARDED: the referrer
    got `referral.referrer_points`; VOID: not a referral after all (one person holds both members, or one
    of them was closed before the reward)."""

    PENDING = "PENDING"
    QUALIFYING = "QUALIFYING"
    REWARDED = "REWARDED"
    VOID = "VOID"


class LegacyPointsStatus(str, Enum):
    """An imported row of legacy points: CREDITED to its member, or WAITING for its phone number to become a
    member's (`domain.legacy_points`)."""

    WAITING = "WAITING"
    CREDITED = "CREDITED"


class Segment(str, Enum):
    """A member's lifecycle segment (RFM, `domain.segments`): NEW within `segments.new_days` of joining,
    else one per high/low recency, frequency and monetary value."""

    NEW = "NEW"                              # 新会员
    HIGH_VALUE = "HIGH_VALUE"                # 高价值: R high, F high, M high
    IMPORTANT_DEVELOP = "IMPORTANT_DEVELOP"  # 重要发展: R high, F low, M high
    IMPORTANT_RETAIN = "IMPORTANT_RETAIN"    # 重要保持: R low, F high, M high
    IMPORTANT_LOST = "IMPORTANT_LOST"        # 重要流失: R low, F low, M high
    GENERAL_VALUE = "GENERAL_VALUE"          # 一般价值: R high, F high, M low
    GENERAL_DEVELOP = "GENERAL_DEVELOP"      # 一般发展: R high, F low, M low
    GENERAL_RETAIN = "GENERAL_RETAIN"        # 一般保持: R low, F high, M low
    SLEEPING = "SLEEPING"                    # 沉睡: R low, F low, M low


def names(vocabulary: type[Enum]) -> tuple[str, ...]:
    return tuple(member.value for member in vocabulary)
