"""Members' coupons."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import Edge, PageInfo
from api.core.vocabulary import CouponKind, CouponSource, CouponStatus
from api.coupons.loaders import CouponCount
from domain.model import coupon_status


@strawberry.type(description="A coupon held by a member. Money in fen.")
class Coupon(Node):
    title: str
    kind: CouponKind
    min_spend: int
    discount_amount: int | None = strawberry.field(
        description="Fen off: the face value, or once used, what it took off that order.")
    discount_percent: int | None
    valid_from: datetime
    valid_until: datetime
    status: CouponStatus
    source: CouponSource
    used_at: datetime | None
    used_order_id: str | None = strawberry.field(description="The externalOrderId it was used for.")

    @classmethod
    def from_row(cls, row, context) -> "Coupon":
        """From a coupons row or a domain Coupon (same names). EXPIRED is read off the clock."""
        status = coupon_status(row.status, row.valid_until, context.now)
        if status == CouponStatus.USED:
            discount = row.applied_discount
        else:
            discount = row.discount_amount if row.kind != CouponKind.FREE_SHIPPING else 0
        zone = context.zone
        return cls(id=to_global_id("Coupon", row.id), title=row.title, kind=CouponKind(row.kind),
                   min_spend=row.min_spend, discount_amount=discount, discount_percent=row.discount_percent,
                   valid_from=local(row.valid_from, zone), valid_until=local(row.valid_until, zone), status=status,
                   source=CouponSource(row.source), used_at=local(row.used_at, zone), used_order_id=row.used_order_id)


@strawberry.type
class CouponConnection:
    edges: list[Edge[Coupon]]
    page_info: PageInfo
    member_pk: strawberry.Private[int]
    status: strawberry.Private[str | None]

    @strawberry.field(description="How many coupons match the filter, on every page.")
    async def total_count(self, info: strawberry.Info) -> int:
        return await CouponCount(info.context).load((self.member_pk, self.status))
