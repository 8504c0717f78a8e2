"""What the calendar gives: the monthly spend bonus, the visit-frequency bonus and the birthday gift."""
from __future__ import annotations

from datetime import datetime, timedelta

from domain import notifications, wallet
from domain.coupons import new_coupon
from domain.jobs.ports import JobUnitOfWork, MonthOfOrders
from domain.jobs.runner import NOT_DUE, JobResult, NewUnitOfWork, once_per_period
from domain.program import Program
from domain.rules import count_visits, frequency_bonus_points
from domain.vocabulary import CouponSource, PointKind

MONTHLY_BONUS = "monthly_bonus"
FREQUENCY_BONUS = "frequency_bonus"
BIRTHDAY_GIFT = "birthday_gift"


def closed_month(program: Program, now: datetime) -> tuple[str, datetime, datetime]:
    """The local month before `now`'s: its period ("YYYY-MM") and [start, end) as instants."""
    calendar = program.calendar
    month_start = calendar.local_date(now).replace(day=1)
    previous = (month_start - timedelta(days=1)).replace(day=1)
    period = f"{previous.year:04d}-{previous.month:02d}"
    return period, calendar.start_of_day(previous), calendar.start_of_day(month_start)


async def grant_monthly_bonus(new_uow: NewUnitOfWork, program: Program, now: datetime,
                              batch_size: int = 500) -> JobResult:
    """`points.monthly_bonus`: once the local month before `now` has closed, each member whose eligible
    spend in it (the `growth.eligible_channels`, net of refunds recorded by now) reached `min_spend`
    gets `points` once, as a BONUS entry, and is told."""
    rule = program.monthly_bonus
    if rule is None:
        return JobResult(MONTHLY_BONUS, None, status=NOT_DUE)
    period, start, end = closed_month(program, now)

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


def frequency_bonus_of(program: Program, month: MonthOfOrders) -> tuple[int, int]:
    """(visits, points) a member's month of orders earns under `frequency_bonus`."""
    rule = program.frequency_bonus
    visits = count_visits(month.orders, rule.visit_window_hours)
    return visits, frequency_bonus_points(rule, sum(net for _, net in month.orders), visits)


async def grant_frequency_bonus(new_uow: NewUnitOfWork, program: Program, now: datetime,
                                batch_size: int = 500) -> JobResult:
    """`frequency_bonus` (消费次数累积): once the local month before `now` has closed, each member's orders
    paid in it in the `points.order.eligible_channels` are counted as visits (`rules.count_visits`: fully
    refunded ones are none, one within `visit_window_hours` of the last counted visit counts with it);
    with net spend (amount less refunds recorded by now) of at least `min_spend`, the points of the highest
    threshold reached are credited once, as a BONUS entry, and the member is told. Members examined are
    marked done for the month whether or not they earned it."""
    rule = program.frequency_bonus
    if rule is None:
        return JobResult(FREQUENCY_BONUS, None, status=NOT_DUE)
    period, start, end = closed_month(program, now)
    after = 0   # members are taken in id order: each batch looks only past the last one examined

    async def batch(uow: JobUnitOfWork) -> int:
        nonlocal after
        due = await uow.jobs.frequency_bonus_due(FREQUENCY_BONUS, period, start, end,
                                                 program.order_points.eligible_channels, rule.min_spend,
                                                 rule.thresholds[0][0], after, batch_size)
        after = due[-1].member_id if due else after
        await uow.jobs.mark_members(FREQUENCY_BONUS, period, [m.member_id for m in due], now)
        told = []
        for month in due:
            visits, points = frequency_bonus_of(program, month)
            if points:
                member = await uow.members.lock(month.member_id)
                await wallet.credit(uow, program, member, points, PointKind.BONUS,
                                    f"{period} 消费频次奖励（{visits} 次）", now)
                told.append(notifications.frequency_bonus(program, member.id, period, visits, points, now))
        await uow.notifications.add(told)
        return len(due)

    return await once_per_period(new_uow, FREQUENCY_BONUS, period, now, batch_size, batch)


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
