"""Growth value and tiers: growth decides the tier; reaching a tier grants its gift once per level."""
from __future__ import annotations

from datetime import datetime

from domain import coupons, notifications, wallet
from domain.model import Member
from domain.ports import UnitOfWork
from domain.program import Program
from domain.vocabulary import CouponSource, PointKind


async def change_growth(uow: UnitOfWork, program: Program, member: Member, delta: int, reason: str, now: datetime,
                        order_id: int | None = None) -> None:
    """Record a growth change (never below 0) and move the tier to match it.

    Up: at once, through every level reached, each level's `upgrade_gift` granted once in the
    member's life; the new tier is valid `tier_policy.validity_months` from now. Down (refunds):
    at once, keeping gifts already granted and the current validity; the base tier has none.
    Either way the member is told (TIER_CHANGED).
    """
    applied = member.change_growth(delta)
    if applied == 0:
        return
    await uow.members.add_growth_entry(member.id, applied, member.growth_value, reason, now, order_id)
    current = program.tier(member.tier_code)
    target = program.tier_for_growth(member.growth_value)
    if target.level > current.level:
        granted = await uow.members.gift_levels_granted(member.id)
        for tier in program.tiers:
            if current.level < tier.level <= target.level and tier.level not in granted:
                await uow.members.grant_gift_level(member.id, tier.level, now)
                await wallet.credit(uow, program, member, tier.upgrade_gift.points, PointKind.UPGRADE_GIFT,
                                    f"升级礼：{tier.name}", now)
                for grant in tier.upgrade_gift.coupons:
                    await coupons.issue(uow, program, member.id, grant, CouponSource.UPGRADE_GIFT, now)
        member.tier_code = target.code
        member.tier_expires_at = program.calendar.months_later(now, program.tier_policy.validity_months)
    elif target.level < current.level and delta < 0:
        member.tier_code = target.code
        if target.level == program.base_tier.level:
            member.tier_expires_at = None
    if member.tier_code != current.code:
        await uow.notifications.add([notifications.tier_changed(program, member.id, current, target,
                                                                member.tier_expires_at, now)])
