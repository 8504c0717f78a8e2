"""Redeeming a reward."""
from __future__ import annotations

import strawberry

from api.core.access import MEMBERS
from api.core.mutations import execute, mutation, parse_id
from api.core.vocabulary import UserError
from api.members.types import Member, member_of
from api.rewards.types import Redemption
from domain import commands


@strawberry.input
class RedeemRewardInput:
    reward_id: strawberry.ID
    idempotency_key: str


@strawberry.type
class RedeemRewardPayload:
    redemption: Redemption | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(MEMBERS)
async def redeem_reward(info: strawberry.Info, input: RedeemRewardInput) -> RedeemRewardPayload:
    """Spend points on a reward from the catalog."""
    context = info.context
    member_id = context.caller.member_id
    reward_id = parse_id(input.reward_id, "Reward", "rewardId")
    redemption = await execute(info, commands.RedeemReward(member_id, reward_id, input.idempotency_key))
    return RedeemRewardPayload(redemption=Redemption.from_row(redemption, context),
                               member=await member_of(info, member_id))
