from __future__ import annotations

from datetime import datetime

import strawberry

from api.access import require_integration
from api.mutations.base import Audit, Refused, member_of, parse_id, run, shown
from api.types.enums import OrderChannel, UserError
from api.types.member import Member
from api.types.order import Order
from domain import orders
from domain.access import Scope


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


async def record_order(info: strawberry.Info, input: RecordOrderInput) -> OrderPayload:
    """A paid order: points and growth for the member; externalId makes retries safe."""
    context = info.context
    require_integration(context.caller, Scope.ORDERS_WRITE)
    try:
        member_id = parse_id(input.member_id, "Member", "memberId")
        order = await run(info, lambda uow: orders.record_order(
            uow, context.program, context.now, member_id, input.external_id, input.amount, input.shipping_fee,
            input.channel.value, input.paid_at), Audit("recordOrder", f"Member:{member_id}", input))
    except Refused as refused:
        return OrderPayload(user_errors=refused.errors)
    return await order_payload(info, order)
