"""Orders, refunds and points off an order at checkout, from the commerce backend."""
from __future__ import annotations

import json
from datetime import datetime

import strawberry

from api.core import observability
from api.core.access import integrations
from api.core.mutations import execute, mutation, parse_id, shown
from api.core.vocabulary import OrderChannel, UserError, UserErrorCode
from api.members.types import Member, member_of
from api.orders.types import Order
from domain import commands
from domain.access import Scope
from persistence.checkout.queries import unapplied_of_order


@strawberry.input
class RecordOrderInput:
    member_id: strawberry.ID
    external_id: str
    amount: int = strawberry.field(description="What the member paid for goods, in fen, shipping excluded.")
    shipping_fee: int | None = None
    channel: OrderChannel
    paid_at: datetime


@strawberry.type
class OrderPayload:
    order: Order | None = strawberry.field(default=None, description="Null unless the key may read orders "
                                           "(orders:write or members:read).")
    member: Member | None = strawberry.field(default=None, description="Null unless the key may read members "
                                             "(members:read).")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def order_payload(info: strawberry.Info, order) -> OrderPayload:
    return OrderPayload(order=shown(info, "Order", order.member_id, lambda: Order.from_row(order, info.context)),
                        member=await member_of(info, order.member_id))


@mutation(integrations(Scope.ORDERS_WRITE))
async def record_order(info: strawberry.Info, input: RecordOrderInput) -> OrderPayload:
    """A paid order: points and growth for the member; externalId makes retries safe. Its checkout hold, if
    any, is captured; one that had expired is spent again where it still can be, and what could not be is
    answered in userErrors beside the recorded order."""
    member_id = parse_id(input.member_id, "Member", "memberId")
    order = await execute(info, commands.RecordOrder(member_id, input.external_id, input.amount, input.shipping_fee,
                                                     input.channel.value, input.paid_at), input)
    payload = await order_payload(info, order)
    unapplied = await unapplied_of_order(info.context.reader, order.external_id)
    if unapplied:
        payload.user_errors = [UserError(field=item["field"], message=item["message"], code=UserErrorCode(item["code"]))
                               for item in json.loads(unapplied)]
        observability.user_errors([error.code.value for error in payload.user_errors])
    return payload


@strawberry.input
class RefundOrderInput:
    external_id: str
    external_refund_id: str
    amount: int = strawberry.field(description="Fen refunded by this refund.")


@mutation(integrations(Scope.ORDERS_WRITE))
async def refund_order(info: strawberry.Info, input: RefundOrderInput) -> OrderPayload:
    """A (partial) refund: points and growth taken back in proportion, offset points given back."""
    order = await execute(info, commands.RefundOrder(input.external_id, input.external_refund_id, input.amount),
                          input)
    return await order_payload(info, order)


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


@mutation(integrations(Scope.POINTS_WRITE))
async def redeem_points_for_order(info: strawberry.Info, input: RedeemPointsForOrderInput) -> RedeemPointsForOrderPayload:
    """Points off an order at checkout (积分抵现); one offset per externalOrderId."""
    member_id = parse_id(input.member_id, "Member", "memberId")
    offset = await execute(info, commands.RedeemPointsForOrder(member_id, input.external_order_id, input.points,
                                                               input.order_amount), input)
    return RedeemPointsForOrderPayload(points_spent=offset.points, amount_off=offset.amount_off,
                                       member=await member_of(info, offset.member_id))
