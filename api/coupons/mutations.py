"""Claiming the monthly coupons, and using a coupon on an order."""
from __future__ import annotations

import strawberry

from api.core.access import MEMBERS, integrations
from api.core.mutations import execute, mutation, parse_id, shown
from api.core.vocabulary import UserError
from api.coupons.types import Coupon
from domain import commands
from domain.access import Scope


@strawberry.type
class ClaimMonthlyCouponsPayload:
    coupons: list[Coupon] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(MEMBERS)
async def claim_monthly_coupons(info: strawberry.Info) -> ClaimMonthlyCouponsPayload:
    """This month's tier coupons (月券礼), claimable in the first days of each month."""
    context = info.context
    member_id = context.caller.member_id
    issued = await execute(info, commands.ClaimMonthlyCoupons(member_id))
    return ClaimMonthlyCouponsPayload(coupons=[Coupon.from_row(coupon, context) for coupon in issued])


@strawberry.input
class UseCouponInput:
    member_id: strawberry.ID
    coupon_id: strawberry.ID
    external_order_id: str
    order_amount: int


@strawberry.type
class UseCouponPayload:
    coupon: Coupon | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(integrations(Scope.COUPONS_WRITE))
async def use_coupon(info: strawberry.Info, input: UseCouponInput) -> UseCouponPayload:
    """Redeem a member's coupon on an order; discountAmount is what it took off."""
    context = info.context
    member_id = parse_id(input.member_id, "Member", "memberId")
    coupon_id = parse_id(input.coupon_id, "Coupon", "couponId")
    coupon = await execute(info, commands.UseCoupon(member_id, coupon_id, input.external_order_id,
                                                    input.order_amount), input)
    return UseCouponPayload(coupon=shown(info, "Coupon", coupon.member_id, lambda: Coupon.from_row(coupon, context)))
