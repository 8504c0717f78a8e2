"""What the calendar gives: the monthly spend bonus and the birthday gift."""
from __future__ import annotations

from datetime import datetime, timedelta

from domain import notifications, wallet
from domain.coupons import new_coupon
from domain.jobs.ports import JobUnitOfWork
from domain.jobs.runner import NOT_DUE, JobResult, NewUnitOfWork, once_per_period
from domain.program import Program
from domain.vocabulary import CouponSource, PointKind

MONTHLY_BONUS = "monthly_bonus"
BIRTHDAY_GIFT = "birthday_gift"


async def grant_monthly_bonus(new_uow: NewUnitOfWork, program: Program, now: datetime,
                              batch_size: int = 500) -> JobResult:
    """`points.monthly_bonus`: once the local month before `now` has closed, each member whose eligible
    spend in it (the `growth.eligible_channels`, net of refunds recorded by now) reached `min_spend`
    gets `points` once, as a BONUS entry, and is told."""
    rule = program.monthly_bonus
    if rule is None:
        return JobResult(MONTHLY_BONUS, None, status=NOT_DUE)
    calendar = program.calendar
    month_start = calendar.local_date(now).replace(day=1)
    previous = (month_start - timedelta(days=1)).replace(day=1)
    period = f"{previous.year:04d}-{previous.month:02d}"
    start, end = calendar.start_of_day(previous), calendar.start_of_day(month_start)

    async def batch(uow: JobUnitOfWork) -> int:
        due = await uow.jobs.monthly_bonus_due(MONTHLY_BONUS, period, start, end, program.growth.eligible_channels,
                                               rule.min_spend, batch_size)
        await uow.jobs.mark_members(MONTHLY_BONUS, period, due, now)
        for member_id in due:
            member = await uow.members.lock(member_id)
            await wallet.credit(uow, program, member, rule.points, PointKind.BONUS, f"{period} 月度消费奖励", now)
        await uow.notifications.add([notifications.monthly_bonus(program, m, period, rule.points, now) for m in due])
        return len(due)

    return await once_per_period(new_uow, MONTHLY_BONUS, period, now, batch_size, batch)


async def grant_birthday_gifts(new_uow: NewUnitOfWork, program: Program, now: datetime,
                               batch_size: int = 1000) -> JobResult:
    """`birthday_gift`: on days 1 to `window_days` of their birthday month (local), members at
    `min_tier_level` or above get one coupon of `template`, once a year. A member who reaches the tier
    or sets their birthday within those days gets it at the next run; later in the month, not."""
    rule = program.birthday_gift
    today = program.calendar.local_date(now)
    if rule is None or today.day > rule.window_days:
        return JobResult(BIRTHDAY_GIFT, None, status=NOT_DUE)
    year = str(today.year)

    async def batch(uow: JobUnitOfWork) -> int:
        due = await uow.jobs.birthday_due(BIRTHDAY_GIFT, year, today.month, rule.min_tier_level, batch_size)
        gifts = [new_coupon(program, member_id, rule.template, CouponSource.BIRTHDAY_GIFT, now) for member_id in due]
        await uow.coupons.add_many(gifts)
        await uow.jobs.mark_members(BIRTHDAY_GIFT, year, due, now)
        await uow.notifications.add([notifications.birthday_gift(program, c.member_id, c.title, c.valid_until, now)
                                     for c in gifts])
        return len(due)

    return await once_per_period(new_uow, BIRTHDAY_GIFT, today.isoformat(), now, batch_size, batch)
