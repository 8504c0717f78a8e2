"""Coupons: issuing them from the program's templates, monthly claims, and use on an order."""
from __future__ import annotations

from datetime import datetime

from domain import commands, idempotency
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import Coupon
from domain.ports import UnitOfWork
from domain.program import CouponGrant, CouponTemplate, Program
from domain.rules import coupon_discount, coupon_valid_until
from domain.vocabulary import CouponSource, CouponStatus


def new_coupon(program: Program, member_id: int, template_code: str, source: str, now: datetime,
               claim_period: str | None = None) -> Coupon:
    """A coupon of program `coupon_templates[template_code]`, issued at `now`."""
    return coupon_of(program.coupon_templates[template_code], program, member_id, source, now, claim_period)


def coupon_of(template: CouponTemplate, program: Program, member_id: int, source: str, now: datetime,
              claim_period: str | None = None) -> Coupon:
    """A coupon on `template`'s terms, issued at `now`."""
    return Coupon(
        member_id=member_id, template_code=template.code, title=template.title, kind=template.kind,
        min_spend=template.min_spend, discount_amount=template.discount_amount,
        discount_percent=template.discount_percent, valid_from=now,
        valid_until=coupon_valid_until(template, now, program.calendar), source=source, claim_period=claim_period,
    )


async def issue(uow: UnitOfWork, program: Program, member_id: int, grant: CouponGrant, source: str, now: datetime,
                claim_period: str | None = None) -> list[Coupon]:
    """Issue `grant.count` coupons of `grant.template` (program `coupon_templates`)."""
    return [await uow.coupons.add(new_coupon(program, member_id, grant.template, source, now, claim_period))
            for _ in range(grant.count)]


def claim_period(program: Program, now: datetime) -> str:
    day = program.calendar.local_date(now)
    return f"{day.year:04d}-{day.month:02d}"


async def claim_monthly_coupons(command: commands.ClaimMonthlyCoupons, uow: UnitOfWork,
                                context: Handling) -> list[Coupon]:
    """`monthly_coupons`: the member's tier grant, claimable from `first_day` to `last_day` of each
    local month, once a month. No grant for the tier → TIER_TOO_LOW; outside the days → NOT_CLAIMABLE."""
    program, now = context.program, context.now
    member = await member_for_update(uow, command.member_id)
    rule = program.monthly_coupons
    grant = rule.grants.get(member.tier_code)
    if grant is None:
        raise LoyaltyError(UserErrorCode.TIER_TOO_LOW, "Monthly coupons start at a higher tier.")
    day = program.calendar.local_date(now).day
    if not rule.first_day <= day <= rule.last_day:
        raise LoyaltyError(UserErrorCode.NOT_CLAIMABLE,
                           f"Monthly coupons can be claimed from day {rule.first_day} to day {rule.last_day} of the month.")
    period = claim_period(program, now)
    if await uow.coupons.monthly_claimed(member.id, period):
        raise LoyaltyError(UserErrorCode.ALREADY_CLAIMED, "This month's coupons have already been claimed.")
    await uow.coupons.record_monthly_claim(member.id, period, now)
    issued = await issue(uow, program, member.id, grant, CouponSource.MONTHLY_GIFT, now, claim_period=period)
    return issued


async def use_coupon(command: commands.UseCoupon, uow: UnitOfWork, context: Handling) -> Coupon:
    """Mark an AVAILABLE coupon USED for an order; `couponId` + `externalOrderId` is the retry key."""
    now, member_id, coupon_id = context.now, command.member_id, command.coupon_id
    external_order_id, order_amount = command.external_order_id, command.order_amount
    external_order_id = idempotency.check_key(external_order_id, "externalOrderId")
    if order_amount < 0:
        raise invalid("orderAmount", "orderAmount must not be negative.")
    member = await member_for_update(uow, member_id)
    coupon = await _members_coupon(uow, member, coupon_id)
    if coupon.status_at(now) == CouponStatus.USED and coupon.used_order_id == external_order_id:
        if coupon.used_order_amount != order_amount:
            raise idempotency.key_reused("coupon and externalOrderId")
        return context.replay(coupon)
    _check_open(coupon, order_amount, now)
    holder = await uow.holds.holding_coupon(coupon.id)
    if holder is not None and holder.external_order_id != external_order_id:
        raise LoyaltyError(UserErrorCode.COUPON_ALREADY_USED, "This coupon is held for another order.")
    mark_used(coupon, external_order_id, order_amount, now)
    await uow.coupons.save(coupon)
    return coupon


async def _members_coupon(uow: UnitOfWork, member, coupon_id: int | None) -> Coupon:
    coupon = await uow.coupons.lock(coupon_id) if coupon_id is not None else None
    if coupon is None or coupon.member_id != member.id:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such coupon for this member.", ["input", "couponId"])
    return coupon


def _check_open(coupon: Coupon, order_amount: int, now: datetime) -> None:
    status = coupon.status_at(now)
    if status == CouponStatus.USED:
        raise LoyaltyError(UserErrorCode.COUPON_ALREADY_USED, "This coupon has already been used.")
    if status == CouponStatus.EXPIRED:
        raise LoyaltyError(UserErrorCode.COUPON_EXPIRED, "This coupon has expired.")
    if order_amount < coupon.min_spend:
        raise LoyaltyError(UserErrorCode.MIN_SPEND_NOT_MET,
                           f"This coupon needs an order of at least {coupon.min_spend} fen.")


async def check_usable(uow: UnitOfWork, member, coupon_id: int | None, order_amount: int, now: datetime) -> Coupon:
    """The member's coupon, locked, if an order of `order_amount` may use it now: as useCoupon checks it."""
    coupon = await _members_coupon(uow, member, coupon_id)
    _check_open(coupon, order_amount, now)
    return coupon


def mark_used(coupon: Coupon, external_order_id: str, order_amount: int, now: datetime) -> None:
    coupon.status = CouponStatus.USED
    coupon.used_at = now
    coupon.used_order_id = external_order_id
    coupon.used_order_amount = order_amount
    coupon.applied_discount = coupon_discount(coupon.kind, coupon.discount_amount, coupon.discount_percent,
                                              order_amount)
