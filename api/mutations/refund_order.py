from __future__ import annotations

import strawberry

from api.auth import require_integration
from api.mutations.base import Refused, run
from api.mutations.record_order import OrderPayload, order_payload
from domain import orders


@strawberry.input
class RefundOrderInput:
    external_id: str
    external_refund_id: str
    amount: int = strawberry.field(description="Fen refunded by this refund.")


async def refund_order(info: strawberry.Info, input: RefundOrderInput) -> OrderPayload:
    """A (partial) refund: points and growth taken back in proportion, offset points given back."""
    context = info.context
    require_integration(context.caller)
    try:
        order = await run(info, lambda uow: orders.refund_order(
            uow, context.program, context.now, input.external_id, input.external_refund_id, input.amount))
    except Refused as refused:
        return OrderPayload(user_errors=refused.errors)
    return await order_payload(info, order)
