"""A checkout hold as the commerce backend sees it."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.mutations import shown
from api.core.node import Node, local
from api.core.vocabulary import HoldStatus
from api.coupons.loaders import CouponById
from api.coupons.types import Coupon


@strawberry.type(description="Points and/or a coupon reserved for an order awaiting payment.")
class CheckoutHold(Node):
    external_order_id: str
    status: HoldStatus
    points: int = strawberry.field(description="Points held (0: none).")
    amount_off: int = strawberry.field(description="Fen the points and the coupon take off the order.")
    expires_at: datetime
    coupon_pk: strawberry.Private[int | None]
    member_pk: strawberry.Private[int]

    @strawberry.field(description="The coupon held; null when none, or when the key may not read coupons.")
    async def coupon(self, info: strawberry.Info) -> Coupon | None:
        if self.coupon_pk is None:
            return None
        row = await CouponById(info.context).load(self.coupon_pk)
        return shown(info, "Coupon", self.member_pk, lambda: Coupon.from_row(row, info.context)) if row else None

    @classmethod
    def from_row(cls, hold, context) -> "CheckoutHold":
        """From a hold: the domain's (`domain.model.CheckoutHold`) or its row."""
        return cls(id=to_global_id("CheckoutHold", hold.id), external_order_id=hold.external_order_id,
                   status=HoldStatus(hold.status), points=hold.points, amount_off=hold.amount_off,
                   expires_at=local(hold.expires_at, context.zone), coupon_pk=hold.coupon_id, member_pk=hold.member_id)
