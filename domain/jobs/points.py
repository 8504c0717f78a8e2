"""Points that lapse: lots past their expiry, and the annual clearing of the fresh-grocery program."""
from __future__ import annotations

from datetime import date, datetime

from domain.jobs.ports import JobUnitOfWork, LotsOfYear, PointsLoss
from domain.jobs.runner import NOT_DUE, JobResult, NewUnitOfWork, once_per_period
from domain.program import Program
from domain.rules import allocate_spend

POINTS_EXPIRY = "points_expiry"
ANNUAL_CLEARING = "annual_clearing"


def expiry_settlement(debt: int, expired: int) -> tuple[int, int]:
    """Points whose lots expire first settle any refund debt; only the rest leaves the balance.
    So a member whose balance is below zero (a debt larger than their lots) loses nothing."""
    settled = min(debt, expired)
    return settled, expired - settled


async def expire_points(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 1000) -> JobResult:
    """Each lot whose expiry (`points.expiry`) has passed gives up its remainder: one EXPIRY entry per
    member per run. Once per local day; lots expire at the end of a local day, so one run a day after
    midnight finds every lot that has."""
    description = f"{program.points_name}过期"
    return await once_per_period(new_uow, POINTS_EXPIRY, program.calendar.local_date(now).isoformat(), now,
                                 batch_size, lambda uow: uow.jobs.expire_points_batch(now, batch_size, description))


def clearing_year(program: Program, now: datetime) -> int | None:
    """The year whose annual clearing is due at `now`: once a local year has closed, from 00:00 on 1 January,
    the year just ended (a run missed on 1 January catches up later in January); otherwise none."""
    today = program.calendar.local_date(now)
    return today.year - 1 if today.month == 1 else None


def year_bounds(program: Program, year: int) -> tuple[datetime, datetime]:
    calendar = program.calendar
    return calendar.start_of_day(date(year, 1, 1)), calendar.start_of_day(date(year + 1, 1, 1))


def clearing_amount(percent: int, due: LotsOfYear) -> int:
    """`points.annual_clearing.percent`, rounded down, of the member's coins of the year: the remainders of
    their lots earned in it (local dates) that have not expired. A refund's returned offset points are lots of
    the year the offset took them from; a merge's lots keep theirs. Spent or expired coins are not counted."""
    return sum(lot.remaining for lot in due.lots) * percent // 100


def clearing_loss(percent: int, due: LotsOfYear) -> tuple[list, PointsLoss | None]:
    """`clearing_amount`, taken from those of the year's lots that expire first; any refund debt is
    settled first, as on expiry."""
    cleared = clearing_amount(percent, due)
    if cleared == 0:
        return [], None
    plan, _ = allocate_spend(due.lots, cleared)
    settled, lost = expiry_settlement(due.points_debt, cleared)
    return plan, PointsLoss(due.member_id, lost, settled, due.points_balance - lost)


async def clear_annually(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 500) -> JobResult:
    """`points.annual_clearing`: at the first run from 00:00 on 1 January (local), `clearing_amount` of the
    year just closed is cleared, once per member and year (one EXPIRY entry each), so coins earned up to
    the last instant of 31 December count."""
    percent = program.annual_clearing_percent
    year = clearing_year(program, now) if percent is not None else None
    if year is None:
        return JobResult(ANNUAL_CLEARING, None, status=NOT_DUE)
    period = str(year)
    start, end = year_bounds(program, year)
    description = f"{year}年度{program.points_name}清除（当年未使用的{percent}%）"
    after = 0   # members are taken in id order: each batch looks only past the last one examined

    async def batch(uow: JobUnitOfWork) -> int:
        nonlocal after
        due = await uow.jobs.lots_of_year_due(ANNUAL_CLEARING, period, start, end, now, after, batch_size)
        after = due[-1].member_id if due else after
        taken, losses = [], []
        for member in due:
            plan, loss = clearing_loss(percent, member)
            taken += plan
            if loss is not None:
                losses.append(loss)
        await uow.points.take_from_lots(taken)
        await uow.jobs.apply_losses(losses, description, now)
        await uow.jobs.mark_members(ANNUAL_CLEARING, period, [m.member_id for m in due], now)
        return len(due)

    return await once_per_period(new_uow, ANNUAL_CLEARING, period, now, batch_size, batch)
