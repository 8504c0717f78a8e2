"""The reward catalog and redemptions."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import Edge, PageInfo
from api.core.vocabulary import CouponKind, RedemptionStatus, RewardKind
from api.coupons.loaders import CouponById
from api.coupons.types import Coupon
from api.rewards.loaders import RewardById


@strawberry.type(description="Something members can redeem points for.")
class Reward(Node):
    name: str
    description: str
    kind: RewardKind
    points_cost: int
    stock: int | None = strawberry.field(description="Left to redeem; null when unlimited.")
    min_tier_level: int
    active: bool = strawberry.field(description="False once retired: out of the catalog, not redeemable.")

    @classmethod
    def from_row(cls, row) -> "Reward":
        return cls(id=to_global_id("Reward", row.id), name=row.name, description=row.description,
                   kind=RewardKind(row.kind), points_cost=row.points_cost, stock=row.stock,
                   min_tier_level=row.min_tier_level, active=row.active)


@strawberry.type(description="The terms of the coupons a COUPON reward issues.")
class CouponTemplate(Node):
    code: str
    title: str
    kind: CouponKind
    min_spend: int = strawberry.field(description="Fen the order must reach.")
    discount_amount: int | None = strawberry.field(description="Fen off, for AMOUNT_OFF.")
    discount_percent: int | None = strawberry.field(description="Percent off, for PERCENT_OFF.")
    valid_days: int | None = strawberry.field(description="Local days valid after issue; null: to the month's end.")

    @classmethod
    def from_row(cls, row) -> "CouponTemplate":
        return cls(id=to_global_id("CouponTemplate", row.id), code=row.code, title=row.title,
                   kind=CouponKind(row.kind), min_spend=row.min_spend, discount_amount=row.discount_amount,
                   discount_percent=row.discount_percent, valid_days=row.valid_days)


@strawberry.type
class RewardConnection:
    edges: list[Edge[Reward]]
    page_info: PageInfo


@strawberry.type(description="Points a member spent on a reward.")
class Redemption(Node):
    points_spent: int
    status: RedemptionStatus
    created_at: datetime
    reward_pk: strawberry.Private[int]
    coupon_pk: strawberry.Private[int | None]

    @strawberry.field
    async def reward(self, info: strawberry.Info) -> Reward:
        return Reward.from_row(await RewardById(info.context).load(self.reward_pk))

    @strawberry.field(description="The coupon it gave, for coupon rewards.")
    async def coupon(self, info: strawberry.Info) -> Coupon | None:
        if self.coupon_pk is None:
            return None
        return Coupon.from_row(await CouponById(info.context).load(self.coupon_pk), info.context)

    @classmethod
    def from_row(cls, row, context) -> "Redemption":
        return cls(id=to_global_id("Redemption", row.id), points_spent=row.points_spent,
                   status=RedemptionStatus(row.status), created_at=local(row.created_at, context.zone),
                   reward_pk=row.reward_id, coupon_pk=row.coupon_id)
