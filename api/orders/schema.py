"""What the orders area adds to the schema."""
from __future__ import annotations

import strawberry

from api.core.node import NodeType, owned_by
from api.orders.loaders import OrderById
from api.orders.mutations import record_order, redeem_points_for_order, refund_order
from api.orders.types import Order


@strawberry.type
class OrdersMutation:
    record_order = strawberry.mutation(resolver=record_order)
    refund_order = strawberry.mutation(resolver=refund_order)
    redeem_points_for_order = strawberry.mutation(resolver=redeem_points_for_order)


NODES = {"Order": NodeType(OrderById, Order.from_row, owned_by("Order", lambda row: row.member_id))}
TYPES = [Order]
