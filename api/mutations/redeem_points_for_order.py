from __future__ import annotations

import strawberry

from api.access import require_integration
from api.mutations.base import Audit, Refused, member_of, parse_id, run
from api.types.enums import UserError
from api.types.member import Member
from domain import orders
from domain.access import Scope


@strawberry.input
class RedeemPointsForOrderInput:
    member_id: strawberry.ID
    external_order_id: str
    points: int
    order_amount: int


@strawberry.type
class RedeemPointsForOrderPayload:
    points_spent: int | None = None
    amount_off: int | None = strawberry.field(default=None, description="Fen taken off the order.")
    member: Member | None = strawberry.field(default=None, description="Null unless the key may read members "
                                             "(members:read).")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def redeem_points_for_order(info: strawberry.Info, input: RedeemPointsForOrderInput) -> RedeemPointsForOrderPayload:
    """Points off an order at checkout (积分抵现); one offset per externalOrderId."""
    context = info.context
    require_integration(context.caller, Scope.POINTS_WRITE)
    try:
        member_id = parse_id(input.member_id, "Member", "memberId")
        offset = await run(info, lambda uow: orders.redeem_points_for_order(
            uow, context.program, context.now, member_id, input.external_order_id, input.points, input.order_amount),
            Audit("redeemPointsForOrder", f"Member:{member_id}", input))
    except Refused as refused:
        return RedeemPointsForOrderPayload(user_errors=refused.errors)
    return RedeemPointsForOrderPayload(points_spent=offset.points, amount_off=offset.amount_off,
                                       member=await member_of(info, offset.member_id))
