"""Redeeming a reward; staff managing the catalog (rewards and the coupon templates they issue)."""
from __future__ import annotations

import strawberry

from api.core.access import MEMBERS, staff_with
from api.core.mutations import execute, mutation, parse_id
from api.core.vocabulary import CouponKind, RewardKind, UserError
from api.members.types import Member, member_of
from api.rewards.loaders import CouponTemplateById, RewardById
from api.rewards.types import CouponTemplate, Redemption, Reward
from domain import commands
from domain.access import Permission
from domain.handling import as_record


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


@strawberry.input
class CreateRewardInput:
    name: str
    description: str
    kind: RewardKind
    points_cost: int
    min_tier_level: int
    stock: int | None = strawberry.field(default=None, description="Null: unlimited.")
    coupon_template_id: strawberry.ID | None = strawberry.field(default=None, description="For a COUPON reward.")


@strawberry.input(description="Absent fields stay as they are.")
class UpdateRewardInput:
    id: strawberry.ID
    name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    points_cost: int | None = strawberry.UNSET
    min_tier_level: int | None = strawberry.UNSET
    stock: int | None = strawberry.field(default=strawberry.UNSET, description="Set the stock; null: unlimited.")
    stock_delta: int | None = strawberry.field(default=strawberry.UNSET,
                                               description="Add to the stock (negative takes); never below zero.")
    active: bool | None = strawberry.field(default=strawberry.UNSET, description="False retires the reward.")


@strawberry.type
class CreateRewardPayload:
    reward: Reward | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateRewardPayload:
    reward: Reward | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _given(value):
    return None if value is strawberry.UNSET else value


def _asked(input) -> dict:
    """The input as the caller wrote it, for the audit log: absent fields left out."""
    return {name: value for name, value in as_record(input).items() if value is not strawberry.UNSET}


async def _reward(info: strawberry.Info, reward_id: int) -> Reward:
    return Reward.from_row(await RewardById(info.context).load(reward_id))


@mutation(staff_with(Permission.MANAGE_CATALOG))
async def create_reward(info: strawberry.Info, input: CreateRewardInput) -> CreateRewardPayload:
    """A new reward in the member catalog."""
    template_id = None
    if input.coupon_template_id is not None:
        template_id = parse_id(input.coupon_template_id, "CouponTemplate", "couponTemplateId")
        template_id = 0 if template_id is None else template_id  # another type's ID: no such template
    reward_id = await execute(info, commands.CreateReward(
        input.name, input.description, input.kind.value, input.points_cost, input.min_tier_level, input.stock,
        template_id), input)
    return CreateRewardPayload(reward=await _reward(info, reward_id))


@mutation(staff_with(Permission.MANAGE_CATALOG))
async def update_reward(info: strawberry.Info, input: UpdateRewardInput) -> UpdateRewardPayload:
    """Change a reward: its terms, its stock (set, or adjusted by a delta), or retire it (`active: false`)."""
    reward_id = await execute(info, commands.UpdateReward(
        parse_id(input.id, "Reward", "id"), name=_given(input.name), description=_given(input.description),
        points_cost=_given(input.points_cost), min_tier_level=_given(input.min_tier_level),
        set_stock=input.stock is not strawberry.UNSET, stock=_given(input.stock),
        stock_delta=_given(input.stock_delta), active=_given(input.active)), _asked(input))
    return UpdateRewardPayload(reward=await _reward(info, reward_id))


@strawberry.input
class CreateCouponTemplateInput:
    title: str
    kind: CouponKind
    valid_days: int = strawberry.field(description="Local days valid after the day of issue.")
    min_spend: int = 0
    discount_amount: int | None = strawberry.field(default=None, description="Fen off, for AMOUNT_OFF.")
    discount_percent: int | None = strawberry.field(default=None, description="Percent off, for PERCENT_OFF.")


@strawberry.input(description="Absent fields stay as they are; coupons already issued keep their terms.")
class UpdateCouponTemplateInput:
    id: strawberry.ID
    title: str | None = strawberry.UNSET
    kind: CouponKind | None = strawberry.UNSET
    min_spend: int | None = strawberry.UNSET
    discount_amount: int | None = strawberry.UNSET
    discount_percent: int | None = strawberry.UNSET
    valid_days: int | None = strawberry.UNSET


@strawberry.type
class CreateCouponTemplatePayload:
    coupon_template: CouponTemplate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class UpdateCouponTemplatePayload:
    coupon_template: CouponTemplate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _template(info: strawberry.Info, template_id: int) -> CouponTemplate:
    return CouponTemplate.from_row(await CouponTemplateById(info.context).load(template_id))


@mutation(staff_with(Permission.MANAGE_CATALOG))
async def create_coupon_template(info: strawberry.Info, input: CreateCouponTemplateInput) -> CreateCouponTemplatePayload:
    """A new coupon template for COUPON rewards to issue."""
    template_id = await execute(info, commands.CreateCouponTemplate(
        input.title, input.kind.value, input.min_spend, input.discount_amount, input.discount_percent,
        input.valid_days), input)
    return CreateCouponTemplatePayload(coupon_template=await _template(info, template_id))


@mutation(staff_with(Permission.MANAGE_CATALOG))
async def update_coupon_template(info: strawberry.Info, input: UpdateCouponTemplateInput) -> UpdateCouponTemplatePayload:
    """Change a coupon template; coupons issued from now on take the new terms."""
    kind = _given(input.kind)
    template_id = await execute(info, commands.UpdateCouponTemplate(
        parse_id(input.id, "CouponTemplate", "id"), title=_given(input.title),
        kind=kind.value if kind is not None else None, min_spend=_given(input.min_spend),
        discount_amount=_given(input.discount_amount), discount_percent=_given(input.discount_percent),
        valid_days=_given(input.valid_days)), _asked(input))
    return UpdateCouponTemplatePayload(coupon_template=await _template(info, template_id))
