"""Checkout holds, from the commerce backend: points (points:write) and/or a coupon (coupons:write)
reserved while an order awaits payment (`domain.checkout`); recordOrder of the same order captures them."""
from __future__ import annotations

import strawberry

from api.checkout.types import CheckoutHold
from api.core.access import require_integration
from api.core.auth import IntegrationCaller
from api.core.mutations import execute, mutation, parse_id, shown
from api.core.vocabulary import UserError
from api.members.types import Member, member_of
from domain import commands
from domain.access import Scope
from domain.errors import LoyaltyError, UserErrorCode


@strawberry.input
class HoldForCheckoutInput:
    member_id: strawberry.ID
    external_order_id: str = strawberry.field(description="The order's id in the commerce backend: the retry "
                                                          "key, and what recordOrder captures the hold by.")
    order_amount: int = strawberry.field(description="The order's goods, in fen.")
    points: int | None = strawberry.field(default=None, description="Points to hold, by the rules of "
                                                                    "redeemPointsForOrder.")
    coupon_id: strawberry.ID | None = None


@strawberry.input
class ReleaseHoldInput:
    external_order_id: str


@strawberry.type
class CheckoutHoldPayload:
    hold: CheckoutHold | None = None
    member: Member | None = strawberry.field(default=None, description="Null unless the key may read members "
                                             "(members:read).")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _holder(caller) -> None:
    """A key that may hold points or coupons (the scope each needs is checked against what is held)."""
    if not (isinstance(caller, IntegrationCaller) and caller.scopes & {Scope.POINTS_WRITE, Scope.COUPONS_WRITE}):
        require_integration(caller, Scope.POINTS_WRITE)


async def _payload(info: strawberry.Info, hold) -> CheckoutHoldPayload:
    return CheckoutHoldPayload(hold=shown(info, "CheckoutHold", hold.member_id,
                                          lambda: CheckoutHold.from_row(hold, info.context)),
                               member=await member_of(info, hold.member_id))


@mutation(_holder)
async def hold_for_checkout(info: strawberry.Info, input: HoldForCheckoutInput) -> CheckoutHoldPayload:
    """Reserve points and/or one coupon for an order awaiting payment, `checkout.hold_minutes` at most."""
    caller = info.context.caller
    if input.points is not None:
        require_integration(caller, Scope.POINTS_WRITE)
    if input.coupon_id is not None:
        require_integration(caller, Scope.COUPONS_WRITE)
    member_id = parse_id(input.member_id, "Member", "memberId")
    coupon_id = parse_id(input.coupon_id, "Coupon", "couponId") if input.coupon_id is not None else None
    if input.coupon_id is not None and coupon_id is None:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such coupon for this member.", ["input", "couponId"])
    hold = await execute(info, commands.HoldForCheckout(member_id, input.external_order_id, input.order_amount,
                                                        input.points, coupon_id), input)
    return await _payload(info, hold)


@mutation(_holder)
async def release_hold(info: strawberry.Info, input: ReleaseHoldInput) -> CheckoutHoldPayload:
    """The checkout was cancelled: the held points go back to their lots, the coupon is free again."""
    hold = await execute(info, commands.ReleaseHold(input.external_order_id), input)
    return await _payload(info, hold)

