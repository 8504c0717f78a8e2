"""Catalog management by staff: rewards and the coupon templates they issue.

A row staff create or change is theirs from then on: `loyalty db upgrade` (`persistence.catalog`) no
longer writes it from the program file. Stock is set or adjusted in one statement each, so it races
safely with redemptions (which take one in one statement) and never goes below zero.
"""
from __future__ import annotations

from dataclasses import replace

from domain import commands
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.ports import UnitOfWork
from domain.program import CouponTemplate, Program
from domain.vocabulary import CouponKind, RewardKind

MAX_NAME = 64


def _name(value: str, field: str) -> str:
    value = value.strip()
    if not 1 <= len(value) <= MAX_NAME:
        raise invalid(field, f"{field} must be 1 to {MAX_NAME} characters.")
    return value


def _points_cost(value: int) -> int:
    if value < 1:
        raise invalid("pointsCost", "pointsCost must be at least 1.")
    return value


def _tier_level(program: Program, value: int) -> int:
    levels = sorted(t.level for t in program.tiers)
    if value not in levels:
        raise invalid("minTierLevel", f"minTierLevel must be one of the program's tier levels {levels}.")
    return value


def _stock(value: int | None) -> int | None:
    if value is not None and value < 0:
        raise invalid("stock", "stock must not be negative (null is unlimited).")
    return value


async def create_reward(command: commands.CreateReward, uow: UnitOfWork, context: Handling) -> int:
    """A new reward (its id). A COUPON reward names an existing template, a GOODS reward none."""
    kind = RewardKind(command.kind)
    values = dict(name=_name(command.name, "name"), description=command.description.strip(), kind=kind.value,
                  points_cost=_points_cost(command.points_cost),
                  min_tier_level=_tier_level(context.program, command.min_tier_level), stock=_stock(command.stock))
    if kind == RewardKind.GOODS:
        if command.coupon_template_id is not None:
            raise invalid("couponTemplateId", "A GOODS reward issues no coupon.")
        values["coupon_template"] = None
    else:
        if command.coupon_template_id is None:
            raise invalid("couponTemplateId", "A COUPON reward needs a coupon template.")
        code = await uow.catalog.template_code(command.coupon_template_id)
        if code is None:
            raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such coupon template.", ["input", "couponTemplateId"])
        values["coupon_template"] = code
    reward_id = await uow.catalog.add_reward(values, context.now)
    context.created(f"Reward:{reward_id}")
    return reward_id


async def update_reward(command: commands.UpdateReward, uow: UnitOfWork, context: Handling) -> int:
    """Change the fields given. Retiring (`active` false) takes it out of the catalog and refuses new
    redemptions; one already under way completes. `stock` and `stockDelta` together are refused."""
    reward = await uow.catalog.reward_for_update(command.reward_id) if command.reward_id is not None else None
    if reward is None:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such reward.", ["input", "id"])
    if command.set_stock and command.stock_delta is not None:
        raise invalid("stockDelta", "Give stock or stockDelta, not both.")
    values: dict = {}
    if command.name is not None:
        values["name"] = _name(command.name, "name")
    if command.description is not None:
        values["description"] = command.description.strip()
    if command.points_cost is not None:
        values["points_cost"] = _points_cost(command.points_cost)
    if command.min_tier_level is not None:
        values["min_tier_level"] = _tier_level(context.program, command.min_tier_level)
    if command.active is not None:
        values["active"] = command.active
    if command.set_stock:
        values["stock"] = _stock(command.stock)
    await uow.catalog.change_reward(reward.id, values, context.now)
    if command.stock_delta is not None and not await uow.catalog.adjust_stock(reward.id, command.stock_delta, context.now):
        raise invalid("stockDelta", "The stock is unlimited." if reward.stock is None
                      else "The stock cannot go below zero.")
    return reward.id


def _checked_template(template: CouponTemplate) -> CouponTemplate:
    """The template with only the discount its kind uses, or INVALID_INPUT (as the program file checks it)."""
    kind = CouponKind(template.kind)
    title = _name(template.title, "title")
    if template.min_spend < 0:
        raise invalid("minSpend", "minSpend must not be negative.")
    month_end = template.valid_until_month_end and template.valid_days is None  # a program file's month coupon
    if not month_end and (template.valid_days is None or not 1 <= template.valid_days <= 3660):
        raise invalid("validDays", "validDays must be 1 to 3660.")
    amount = template.discount_amount if kind == CouponKind.AMOUNT_OFF else None
    percent = template.discount_percent if kind == CouponKind.PERCENT_OFF else None
    if kind == CouponKind.AMOUNT_OFF and (amount is None or amount < 1):
        raise invalid("discountAmount", "An AMOUNT_OFF template needs discountAmount of at least 1 fen.")
    if kind == CouponKind.PERCENT_OFF and (percent is None or not 1 <= percent <= 99):
        raise invalid("discountPercent", "A PERCENT_OFF template needs discountPercent from 1 to 99.")
    return replace(template, title=title, kind=kind.value, discount_amount=amount, discount_percent=percent,
                   valid_until_month_end=month_end)


async def create_coupon_template(command: commands.CreateCouponTemplate, uow: UnitOfWork, context: Handling) -> int:
    """A new template (its id), valid `valid_days` local days from issue."""
    template = _checked_template(CouponTemplate(
        code="", title=command.title, kind=command.kind, min_spend=command.min_spend,
        discount_amount=command.discount_amount, discount_percent=command.discount_percent,
        valid_days=command.valid_days, valid_until_month_end=False))
    template_id = await uow.catalog.add_coupon_template(template, context.now)
    context.created(f"CouponTemplate:{template_id}")
    return template_id


async def update_coupon_template(command: commands.UpdateCouponTemplate, uow: UnitOfWork, context: Handling) -> int:
    """Change the fields given; coupons already issued keep the terms they were issued with."""
    code = await uow.catalog.template_code(command.template_id) if command.template_id is not None else None
    current = await uow.catalog.coupon_template(code) if code is not None else None
    if current is None:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such coupon template.", ["input", "id"])
    given = {name: value for name, value in dict(
        title=command.title, kind=command.kind, min_spend=command.min_spend, discount_amount=command.discount_amount,
        discount_percent=command.discount_percent, valid_days=command.valid_days).items() if value is not None}
    if command.valid_days is not None:
        given["valid_until_month_end"] = False
    await uow.catalog.change_coupon_template(_checked_template(replace(current, **given)), context.now)
    return command.template_id
