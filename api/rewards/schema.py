"""What the rewards area adds to the schema."""
from __future__ import annotations

import strawberry

from api.core.node import NodeType, catalog, owned_by
from api.core.pagination import check_first, decode_cursor, page_of
from api.rewards.loaders import CouponTemplateById, RedemptionById, RewardById, RewardPage
from api.rewards.mutations import (
    create_coupon_template, create_reward, redeem_reward, update_coupon_template, update_reward,
)
from api.rewards.types import CouponTemplate, Redemption, Reward, RewardConnection


@strawberry.type
class RewardsQuery:
    @strawberry.field(description="The reward catalog.")
    async def rewards(self, info: strawberry.Info, first: int, after: str | None = None) -> RewardConnection:
        check_first(first)
        rows = await RewardPage(info.context).load((decode_cursor(after, 2), first + 1))
        edges, page_info = page_of(rows, first, Reward.from_row, lambda row: (row.sort_order, row.id),
                                   after is not None)
        return RewardConnection(edges=edges, page_info=page_info)


@strawberry.type
class RewardsMutation:
    redeem_reward = strawberry.mutation(resolver=redeem_reward)
    create_reward = strawberry.mutation(resolver=create_reward)
    update_reward = strawberry.mutation(resolver=update_reward)
    create_coupon_template = strawberry.mutation(resolver=create_coupon_template)
    update_coupon_template = strawberry.mutation(resolver=update_coupon_template)


NODES = {
    "Reward": NodeType(RewardById, lambda row, context: Reward.from_row(row), catalog),
    "CouponTemplate": NodeType(CouponTemplateById, lambda row, context: CouponTemplate.from_row(row), catalog),
    "Redemption": NodeType(RedemptionById, Redemption.from_row, owned_by("Redemption", lambda row: row.member_id)),
}
TYPES = [Reward, CouponTemplate, Redemption]
