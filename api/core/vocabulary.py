"""The domain's vocabularies (`domain.vocabulary`) as GraphQL enums, and a userError."""
from __future__ import annotations

import strawberry

from domain import vocabulary
from domain.errors import UserErrorCode as DomainUserErrorCode

UserErrorCode = strawberry.enum(DomainUserErrorCode, name="UserErrorCode")
Gender = strawberry.enum(vocabulary.Gender, name="Gender")
OrderChannel = strawberry.enum(vocabulary.Channel, name="OrderChannel")
CouponStatus = strawberry.enum(vocabulary.CouponStatus, name="CouponStatus")
CouponKind = strawberry.enum(vocabulary.CouponKind, name="CouponKind")
CouponSource = strawberry.enum(vocabulary.CouponSource, name="CouponSource")
RewardKind = strawberry.enum(vocabulary.RewardKind, name="RewardKind")
RedemptionStatus = strawberry.enum(vocabulary.RedemptionStatus, name="RedemptionStatus")
PointKind = strawberry.enum(vocabulary.PointKind, name="PointKind")
WeChatPlatform = strawberry.enum(vocabulary.WeChatPlatform, name="WeChatPlatform")
HoldStatus = strawberry.enum(vocabulary.HoldStatus, name="HoldStatus")
NotificationKind = strawberry.enum(vocabulary.NotificationKind, name="NotificationKind")
ReferralStatus = strawberry.enum(vocabulary.ReferralStatus, name="ReferralStatus")
Segment = strawberry.enum(vocabulary.Segment, name="Segment")


@strawberry.type(description="Why a mutation changed nothing: field path, message for people, code for programs.")
class UserError:
    field: list[str] | None
    message: str
    code: UserErrorCode
    retry_after: int | None = strawberry.field(
        default=None, description="With RATE_LIMITED: the seconds after which a retry may succeed.")
