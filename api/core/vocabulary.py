"""The vocabularies that travel through the API (channels, genders, kinds, statuses), and a userError."""
from __future__ import annotations

from enum import Enum

import strawberry

from domain.errors import UserErrorCode as DomainUserErrorCode

UserErrorCode = strawberry.enum(DomainUserErrorCode, name="UserErrorCode")


@strawberry.enum
class Gender(Enum):
    FEMALE = "FEMALE"
    MALE = "MALE"
    UNDISCLOSED = "UNDISCLOSED"


@strawberry.enum
class OrderChannel(Enum):
    APP = "APP"
    MINI_PROGRAM = "MINI_PROGRAM"
    STORE = "STORE"
    THIRD_PARTY = "THIRD_PARTY"


@strawberry.enum
class CouponStatus(Enum):
    AVAILABLE = "AVAILABLE"
    USED = "USED"
    EXPIRED = "EXPIRED"


@strawberry.enum
class CouponKind(Enum):
    AMOUNT_OFF = "AMOUNT_OFF"
    PERCENT_OFF = "PERCENT_OFF"
    FREE_SHIPPING = "FREE_SHIPPING"


@strawberry.enum
class CouponSource(Enum):
    SIGNUP_GIFT = "SIGNUP_GIFT"
    UPGRADE_GIFT = "UPGRADE_GIFT"
    MONTHLY_GIFT = "MONTHLY_GIFT"
    BIRTHDAY_GIFT = "BIRTHDAY_GIFT"
    REDEMPTION = "REDEMPTION"
    ISSUED = "ISSUED"


@strawberry.enum
class RewardKind(Enum):
    COUPON = "COUPON"
    GOODS = "GOODS"


@strawberry.enum
class RedemptionStatus(Enum):
    COMPLETED = "COMPLETED"
    PENDING_FULFILMENT = "PENDING_FULFILMENT"


@strawberry.enum
class PointKind(Enum):
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


@strawberry.enum
class NotificationKind(Enum):
    POINTS_EXPIRING = "POINTS_EXPIRING"
    COUPON_EXPIRING = "COUPON_EXPIRING"
    TIER_EXPIRING = "TIER_EXPIRING"
    TIER_CHANGED = "TIER_CHANGED"
    BIRTHDAY_GIFT = "BIRTHDAY_GIFT"
    BONUS = "BONUS"


@strawberry.type(description="Why a mutation changed nothing: field path, message for people, code for programs.")
class UserError:
    field: list[str] | None
    message: str
    code: UserErrorCode
    retry_after: int | None = strawberry.field(
        default=None, description="With RATE_LIMITED: the seconds after which a retry may succeed.")
