"""What the coupons area adds to the schema."""
from __future__ import annotations

import strawberry

from api.core.node import NodeType, owned_by
from api.coupons.loaders import CouponById
from api.coupons.mutations import claim_monthly_coupons, use_coupon
from api.coupons.types import Coupon


@strawberry.type
class CouponsMutation:
    claim_monthly_coupons = strawberry.mutation(resolver=claim_monthly_coupons)
    use_coupon = strawberry.mutation(resolver=use_coupon)


NODES = {"Coupon": NodeType(CouponById, Coupon.from_row, owned_by("Coupon", lambda row: row.member_id))}
TYPES = [Coupon]
