"""The reward catalog and redemptions."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.ids import to_global_id
from api.core.node import Node, local
from api.core.pagination import Edge, PageInfo
from api.core.vocabulary import RedemptionStatus, RewardKind
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

    @classmethod
    def from_row(cls, row) -> "Reward":
        return cls(id=to_global_id("Reward", row.id), name=row.name, description=row.description,
                   kind=RewardKind(row.kind), points_cost=row.points_cost, stock=row.stock,
                   min_tier_level=row.min_tier_level)


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
