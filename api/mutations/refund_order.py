from __future__ import annotations

import strawberry

from api.access import require_integration
from api.mutations.base import Audit, Refused, run
from api.mutations.record_order import OrderPayload, order_payload
from domain import orders
from domain.access import Scope
from persistence import queries


@strawberry.input
class RefundOrderInput:
    external_id: str
    external_refund_id: str
    amount: int = strawberry.field(description="Fen refunded by this refund.")


async def refund_order(info: strawberry.Info, input: RefundOrderInput) -> OrderPayload:
    """A (partial) refund: points and growth taken back in proportion, offset points given back."""
    context = info.context
    require_integration(context.caller, Scope.ORDERS_WRITE)
    known = await queries.order_by_external_id(context.reader, input.external_id.strip())
    subject = f"Member:{known.member_id}" if known is not None else None
    try:
        order = await run(info, lambda uow: orders.refund_order(
            uow, context.program, context.now, input.external_id, input.external_refund_id, input.amount),
            Audit("refundOrder", subject, input))
    except Refused as refused:
        return OrderPayload(user_errors=refused.errors)
    return await order_payload(info, order)
