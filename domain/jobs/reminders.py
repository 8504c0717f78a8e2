"""Reminders before something lapses: points, coupons, a tier, and the annual clearing.

Each is told once: a lot, a coupon or a tier expiry that has been reminded of is marked so in the
transaction that writes the notification. What newly falls due on a day is gathered into one
notification per member.
"""
from __future__ import annotations

from datetime import date, datetime

from domain import notifications
from domain.jobs.points import clearing_amount, year_bounds
from domain.jobs.ports import JobUnitOfWork
from domain.jobs.runner import NOT_DUE, JobResult, NewUnitOfWork, once_per_period
from domain.program import Program

POINTS_REMINDER = "points_reminder"
COUPON_REMINDER = "coupon_reminder"
TIER_REMINDER = "tier_reminder"
CLEARING_REMINDER = "clearing_reminder"



def _daily(program: Program, now: datetime) -> str:
    return program.calendar.local_date(now).isoformat()


async def _daily_reminder(new_uow: NewUnitOfWork, program: Program, now: datetime, job: str, days: int, take,
                          tell, batch_size: int) -> JobResult:
    """Once a local day: `take` the due reminders within `days` (marking them told) and `tell` each."""
    until = program.calendar.days_later_end(now, days)

    async def batch(uow: JobUnitOfWork) -> int:
        due = await take(uow.jobs)(now, until, batch_size)
        await uow.notifications.add([tell(d) for d in due])
        return len(due)

    return await once_per_period(new_uow, job, _daily(program, now), now, batch_size, batch)


async def remind_points_expiring(new_uow: NewUnitOfWork, program: Program, now: datetime,
                                 batch_size: int = 1000) -> JobResult:
    """POINTS_EXPIRING for lots expiring within `points.expiry.expiring_soon_days`, once per lot."""
    return await _daily_reminder(
        new_uow, program, now, POINTS_REMINDER, program.expiring_soon_days, lambda jobs: jobs.take_points_reminders,
        lambda d: notifications.points_expiring(program, d.member_id, d.count, d.first_at, now), batch_size)


async def remind_coupons_expiring(new_uow: NewUnitOfWork, program: Program, now: datetime,
                                  batch_size: int = 1000) -> JobResult:
    """COUPON_EXPIRING for available coupons lapsing within `reminders.coupon_expiring_days`, once per coupon."""
    return await _daily_reminder(
        new_uow, program, now, COUPON_REMINDER, program.reminders.coupon_expiring_days,
        lambda jobs: jobs.take_coupon_reminders,
        lambda d: notifications.coupons_expiring(program, d.member_id, d.count, d.first_at, now), batch_size)


async def remind_tiers_expiring(new_uow: NewUnitOfWork, program: Program, now: datetime,
                                batch_size: int = 1000) -> JobResult:
    """TIER_EXPIRING within `reminders.tier_expiring_days`, once per expiry, saying how much growth keeps
    the tier through its retention deduction."""
    return await _daily_reminder(
        new_uow, program, now, TIER_REMINDER, program.reminders.tier_expiring_days,
        lambda jobs: jobs.take_tier_reminders,
        lambda d: notifications.tier_expiring(program, d.member_id, program.tier(d.tier_code), d.growth_value,
                                              d.tier_expires_at, now), batch_size)


async def remind_annual_clearing(new_uow: NewUnitOfWork, program: Program, now: datetime,
                                 batch_size: int = 500) -> JobResult:
    """Ahead of the annual clearing (on the local days within `points.expiry.expiring_soon_days` before 1 January,
    31 December included), each member with coins of the year is told, once a year, what the clearing
    would take as of the sending (`clearing_amount` then; spending or earning coins later changes it)."""
    percent = program.annual_clearing_percent
    today = program.calendar.local_date(now)
    clearing_day = date(today.year + 1, 1, 1)
    if percent is None or (clearing_day - today).days > program.expiring_soon_days:
        return JobResult(CLEARING_REMINDER, None, status=NOT_DUE)
    period = str(today.year)
    start, end = year_bounds(program, today.year)
    after = 0   # members are taken in id order: each batch looks only past the last one examined

    async def batch(uow: JobUnitOfWork) -> int:
        nonlocal after
        due = await uow.jobs.lots_of_year_due(CLEARING_REMINDER, period, start, end, now, after, batch_size)
        after = due[-1].member_id if due else after
        await uow.jobs.mark_members(CLEARING_REMINDER, period, [d.member_id for d in due], now)
        told = [(d.member_id, clearing_amount(percent, d)) for d in due]
        await uow.notifications.add([notifications.annual_clearing_ahead(program, member_id, today, points, now)
                                     for member_id, points in told if points > 0])
        return len(due)

    return await once_per_period(new_uow, CLEARING_REMINDER, today.isoformat(), now, batch_size, batch)

