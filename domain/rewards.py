"""Reward redemption: points for a coupon or for goods to fulfil."""
from __future__ import annotations

from domain import commands, coupons, idempotency, wallet
from domain.errors import LoyaltyError, UserErrorCode
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import Redemption
from domain.ports import UnitOfWork
from domain.vocabulary import CouponSource, PointKind, RedemptionStatus, RewardKind


async def redeem_reward(command: commands.RedeemReward, uow: UnitOfWork, context: Handling) -> Redemption:
    """Checked in the contract's order, the first failure answering: the reward exists and is active
    (NOT_FOUND), the member's tier (TIER_TOO_LOW), stock (OUT_OF_STOCK), balance (INSUFFICIENT_POINTS)."""
    program, now, member_id, reward_id = context.program, context.now, command.member_id, command.reward_id
    key = command.idempotency_key
    key = idempotency.check_key(key, "idempotencyKey")
    member = await member_for_update(uow, member_id)
    request = idempotency.fingerprint(operation="redeemReward", reward_id=reward_id)
    replay = await idempotency.replayed_result(uow, member.id, "redeemReward", key, request)
    if replay is not None:
        return context.replay(await uow.rewards.get_redemption(replay))
    reward = await uow.rewards.get(reward_id) if reward_id is not None else None
    if reward is None or not reward.active:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such reward.", ["input", "rewardId"])
    if program.tier(member.tier_code).level < reward.min_tier_level:
        required = next(t for t in program.tiers if t.level == reward.min_tier_level)
        raise LoyaltyError(UserErrorCode.TIER_TOO_LOW, f"This reward is for {required.name} and above.")
    if reward.stock is not None and reward.stock <= 0:
        raise LoyaltyError(UserErrorCode.OUT_OF_STOCK, "This reward is out of stock.")
    await wallet.debit(uow, member, reward.points_cost, PointKind.REDEMPTION, f"兑换：{reward.name}", now)
    if not await uow.rewards.take_one(reward.id):
        raise LoyaltyError(UserErrorCode.OUT_OF_STOCK, "This reward is out of stock.")
    coupon_id = None
    if reward.kind == RewardKind.COUPON:
        template = await uow.catalog.coupon_template(reward.coupon_template)  # as staff last set it
        issued = await uow.coupons.add(coupons.coupon_of(template, program, member.id, CouponSource.REDEMPTION, now))
        coupon_id = issued.id
    redemption = await uow.rewards.add_redemption(Redemption(
        member_id=member.id, reward_id=reward.id, points_spent=reward.points_cost, created_at=now,
        coupon_id=coupon_id, status=RedemptionStatus.COMPLETED if reward.kind == RewardKind.COUPON else RedemptionStatus.PENDING_FULFILMENT,
    ))
    await idempotency.remember(uow, member.id, "redeemReward", key, request, redemption.id, now)
    return redemption
