"""Notifications: what a member is told, and when they have read it.

The texts are composed here, from the program's names and numbers; the jobs and use cases that
cause them add them in the same transaction as the change they announce (an outbox: a sender
reads the table later, so a notification exists exactly when its cause committed).
"""
from __future__ import annotations

from datetime import date, datetime

from domain import commands
from domain.errors import LoyaltyError, UserErrorCode, invalid
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import Notification
from domain.ports import UnitOfWork
from domain.program import Program, TierRule
from domain.vocabulary import NotificationKind

MAX_MARKED = 100


def _day(program: Program, moment: datetime) -> date:
    return program.calendar.local_date(moment)


def tier_changed(program: Program, member_id: int, old: TierRule, new: TierRule, expires_at: datetime | None,
                 now: datetime) -> Notification:
    until = f"，有效期至 {_day(program, expires_at)}" if expires_at is not None else ""
    if new.level > old.level:
        title, body = "会员等级升级", f"恭喜升级为{new.name}{until}。"
    else:
        title, body = "会员等级调整", f"您的会员等级已由{old.name}调整为{new.name}{until}。"
    return Notification(member_id, NotificationKind.TIER_CHANGED, title, body, now)


def _lapsing(program: Program, member_id: int, kind: str, title: str, amount: str, lapse: str, first: datetime,
             now: datetime) -> Notification:
    return Notification(member_id, kind, title, f"您有 {amount}将于 {_day(program, first)} 起陆续{lapse}，请尽快使用。", now)


def points_expiring(program: Program, member_id: int, points: int, first_expiry: datetime,
                    now: datetime) -> Notification:
    return _lapsing(program, member_id, NotificationKind.POINTS_EXPIRING, f"{program.points_name}即将过期",
                    f"{points} {program.points_name}", "过期", first_expiry, now)


def annual_clearing_ahead(program: Program, member_id: int, today: date, points: int, now: datetime) -> Notification:
    """The clearing of `today`'s year, which runs from 1 January, and what it would take as of `today`."""
    name = program.points_name
    return Notification(member_id, NotificationKind.POINTS_EXPIRING, f"{name}年度清除提醒",
                        f"{today.year + 1}年1月1日起将清除{today.year}年获得且未使用的{name}的"
                        f"{program.annual_clearing_percent}%：按 {today} 的余额为 {points} {name}"
                        f"（之后使用或获得{name}会改变这一数字）。", now)


def coupons_expiring(program: Program, member_id: int, count: int, first_valid_until: datetime,
                     now: datetime) -> Notification:
    return _lapsing(program, member_id, NotificationKind.COUPON_EXPIRING, "优惠券即将到期", f"{count} 张优惠券", "到期",
                    first_valid_until, now)


def growth_to_keep(program: Program, tier: TierRule, growth_value: int) -> int:
    """Growth still needed so that, after the tier's `retention_deduction`, the tier's threshold is met."""
    return max(0, tier.growth_threshold + tier.retention_deduction - growth_value)


def tier_expiring(program: Program, member_id: int, tier: TierRule, growth_value: int, expires_at: datetime,
                  now: datetime) -> Notification:
    needed = growth_to_keep(program, tier, growth_value)
    growth = program.growth_name
    keep = (f"再获得 {needed} {growth}即可保级。" if needed else f"按目前的{growth}，到期后可保持{tier.name}。")
    return Notification(member_id, NotificationKind.TIER_EXPIRING, "会员等级即将到期",
                        f"您的{tier.name}将于 {_day(program, expires_at)} 到期，届时扣除 {tier.retention_deduction} "
                        f"{growth}并重新评定等级。{keep}", now)


def birthday_gift(program: Program, member_id: int, coupon_title: str, valid_until: datetime,
                  now: datetime) -> Notification:
    return Notification(member_id, NotificationKind.BIRTHDAY_GIFT, "生日快乐",
                        f"生日礼「{coupon_title}」已放入您的券包，有效期至 {_day(program, valid_until)}。", now)


def monthly_bonus(program: Program, member_id: int, period: str, points: int, now: datetime) -> Notification:
    return Notification(member_id, NotificationKind.BONUS, "月度消费奖励",
                        f"您 {period} 的消费已达标，奖励 {points} {program.points_name}。", now)


def referral_rewarded(program: Program, member_id: int, points: int, now: datetime) -> Notification:
    """To the referrer; nothing of the referee's (邀请有礼)."""
    return Notification(member_id, NotificationKind.REFERRAL_REWARDED, "邀请有礼奖励到账",
                        f"您邀请的好友已完成首单，奖励 {points} {program.points_name}。", now)


def frequency_bonus(program: Program, member_id: int, period: str, visits: int, points: int,
                    now: datetime) -> Notification:
    return Notification(member_id, NotificationKind.BONUS, "消费频次奖励",
                        f"您 {period} 共消费 {visits} 次，奖励 {points} {program.points_name}。", now)


async def mark_read(command: commands.MarkNotificationsRead, uow: UnitOfWork, context: Handling) -> int:
    """Mark the member's notifications read (the first readAt stays); the unread count after.
    Any id that is not one of the member's notifications refuses the whole request (NOT_FOUND)."""
    now, member_id, ids = context.now, command.member_id, list(command.notification_ids)
    if not ids:
        raise invalid("ids", "Give at least one notification id.")
    if len(ids) > MAX_MARKED:
        raise invalid("ids", f"At most {MAX_MARKED} ids at a time.")
    member = await member_for_update(uow, member_id)
    wanted = set(ids)
    if None in wanted or await uow.notifications.owned(member.id, wanted) != wanted:
        raise LoyaltyError(UserErrorCode.NOT_FOUND, "No such notification for this member.", ["input", "ids"])
    await uow.notifications.mark_read(member.id, wanted, now)
    unread = await uow.notifications.unread_count(member.id)
    return unread
