from __future__ import annotations

from datetime import date, datetime

import strawberry

from api.ids import to_global_id
from api.types.enums import OrderChannel
from api.types.node import Node, local


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


@strawberry.type(description="One day's check-in.")
class CheckIn(Node):
    date: date
    streak_days: int
    points_awarded: int

    @classmethod
    def from_row(cls, row) -> "CheckIn":
        return cls(id=to_global_id("CheckIn", row.id), date=row.local_date, streak_days=row.streak_days,
                   points_awarded=row.points_awarded)
