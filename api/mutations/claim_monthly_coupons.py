from __future__ import annotations

import strawberry

from api.access import require_member
from api.mutations.base import Refused, run
from api.types.coupon import Coupon
from api.types.enums import UserError
from domain import coupons


@strawberry.type
class ClaimMonthlyCouponsPayload:
    coupons: list[Coupon] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def claim_monthly_coupons(info: strawberry.Info) -> ClaimMonthlyCouponsPayload:
    """This month's tier coupons (月券礼), claimable in the first days of each month."""
    context = info.context
    member_id = require_member(context.caller)
    try:
        issued = await run(info, lambda uow: coupons.claim_monthly_coupons(uow, context.program, context.now, member_id))
    except Refused as refused:
        return ClaimMonthlyCouponsPayload(user_errors=refused.errors)
    return ClaimMonthlyCouponsPayload(coupons=[Coupon.from_row(coupon, context) for coupon in issued])
