"""Orders from the commerce backend."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.vocabulary import OrderChannel


@strawberry.type(description="A paid order reported by the commerce backend. Money in fen.")
class Order(Node):
    external_id: str
    amount: int
    shipping_fee: int
    refunded_amount: int
    channel: OrderChannel
    paid_at: datetime
    points_earned: int
    growth_earned: int
    points_taken_back: int
    growth_taken_back: int

    @classmethod
    def from_row(cls, row, context) -> "Order":
        return cls(id=to_global_id("Order", row.id), external_id=row.external_id, amount=row.amount,
                   shipping_fee=row.shipping_fee, refunded_amount=row.refunded_amount,
                   channel=OrderChannel(row.channel), paid_at=local(row.paid_at, context.zone),
                   points_earned=row.points_earned, growth_earned=row.growth_earned,
                   points_taken_back=row.points_taken_back, growth_taken_back=row.growth_taken_back)
