"""Daily check-in: once per local day, the streak restarts after a missed day; a missed day can be made up
(补签) for points."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from domain import commands, idempotency, wallet
from domain.clock import add_months
from domain.errors import LoyaltyError, UserErrorCode
from domain.handling import Handling
from domain.locking import member_for_update
from domain.model import CheckIn
from domain.ports import UnitOfWork
from domain.program import Program
from domain.rules import check_in_points
from domain.vocabulary import PointKind


@dataclass(frozen=True)
class CheckInStatus:
    checked_in_today: bool
    streak_days: int
    today_reward: int


def check_in_status(program: Program, today: CheckIn | None, yesterday: CheckIn | None) -> CheckInStatus:
    """Today's state: the live streak (0 once a day was missed) and what today's check-in gives or gave."""
    if today is not None:
        return CheckInStatus(True, today.streak_days, today.points_awarded)
    streak = yesterday.streak_days if yesterday is not None else 0
    return CheckInStatus(False, streak, check_in_points(program.check_in, streak + 1))


async def check_in(command: commands.CheckIn, uow: UnitOfWork, context: Handling) -> CheckIn:
    """Check in for the local day of `now`, paying `points.check_in` for the streak reached."""
    program, now, member_id, key = context.program, context.now, command.member_id, command.idempotency_key
    key = idempotency.check_key(key, "idempotencyKey")
    member = await member_for_update(uow, member_id)
    request = idempotency.fingerprint(operation="checkIn")
    replay = await idempotency.replayed_result(uow, member.id, "checkIn", key, request)
    if replay is not None:
        return context.replay(await uow.check_ins.get(replay))
    today = program.calendar.local_date(now)
    found = await uow.check_ins.on_dates(member.id, (today, today - timedelta(days=1)))
    if today in found:
        raise LoyaltyError(UserErrorCode.ALREADY_CHECKED_IN, "Already checked in today; come back tomorrow.")
    yesterday = found.get(today - timedelta(days=1))
    streak = yesterday.streak_days + 1 if yesterday is not None else 1
    points = check_in_points(program.check_in, streak)
    record = await uow.check_ins.add(CheckIn(member.id, today, streak, points, now))
    await wallet.credit(uow, program, member, points, PointKind.CHECK_IN, f"每日签到（连续{streak}天）", now)
    await idempotency.remember(uow, member.id, "checkIn", key, request, record.id, now)
    return record


@dataclass(frozen=True)
class MadeUp:
    """A make-up check-in's answer: the day filled in, and the points it cost."""

    check_in: CheckIn
    points_spent: int


def make_up_month(program: Program, now: datetime) -> tuple[datetime, datetime]:
    """The local month of `now` as [start, end): the make-ups made in it (whichever day they filled) count
    against `check_in.make_up.per_month`."""
    first = program.calendar.local_date(now).replace(day=1)
    return program.calendar.start_of_day(first), program.calendar.start_of_day(add_months(first, 1))


def make_up_check_ins_left(program: Program, made_this_month: int) -> int:
    """What `check_in.make_up.per_month` leaves after this local month's make-ups; 0 where the program has none."""
    return max(0, program.make_up.per_month - made_this_month) if program.make_up is not None else 0


def repaired_streaks(day: date, streak: int, found: dict[date, CheckIn]) -> list[CheckIn]:
    """The check-ins of the days running on from `day` (whose streak is `streak`) without a gap, each with
    the streak it now reaches; their points stay as awarded."""
    repaired, following = [], day + timedelta(days=1)
    while following in found:
        streak += 1
        repaired.append(replace(found[following], streak_days=streak))
        following += timedelta(days=1)
    return repaired


async def make_up_check_in(command: commands.MakeUpCheckIn, uow: UnitOfWork, context: Handling) -> MadeUp:
    """补签 (`check_in.make_up`): fill a missed local day for `cost_points`, awarding nothing for it; its
    streak is the day before's + 1, and the days running on from it count the repaired run. The first
    failure answers: the program has none, or the day is today, to come, before the local day the member
    joined, or more than `window_days` back (NOT_CLAIMABLE); checked in that day (ALREADY_CHECKED_IN);
    `per_month` make-ups already made this local month (LIMIT_REACHED); the points (INSUFFICIENT_POINTS).
    A replay reports the program's cost as points spent."""
    program, now, day, rule = context.program, context.now, command.day, context.program.make_up
    key = idempotency.check_key(command.idempotency_key, "idempotencyKey")
    member = await member_for_update(uow, command.member_id)
    request = idempotency.fingerprint(operation="makeUpCheckIn", date=day)
    replay = await idempotency.replayed_result(uow, member.id, "makeUpCheckIn", key, request)
    if replay is not None:
        return context.replay(MadeUp(await uow.check_ins.get(replay), rule.cost_points if rule else 0))
    if rule is None:
        raise LoyaltyError(UserErrorCode.NOT_CLAIMABLE, "This program has no make-up check-ins.")
    today = program.calendar.local_date(now)
    if day >= today:
        raise LoyaltyError(UserErrorCode.NOT_CLAIMABLE, "Only a day gone by can be made up; today is for checkIn."
                           if day == today else "A day to come cannot be made up.", ["input", "date"])
    if day < program.calendar.local_date(member.created_at):
        raise LoyaltyError(UserErrorCode.NOT_CLAIMABLE, "That day is before you joined.", ["input", "date"])
    if (today - day).days > rule.window_days:
        raise LoyaltyError(UserErrorCode.NOT_CLAIMABLE, f"Only the last {rule.window_days} days can be made up.",
                           ["input", "date"])
    days = [day + timedelta(days=n) for n in range(-1, (today - day).days + 1)]  # the day before, to today
    found = await uow.check_ins.on_dates(member.id, days)
    if day in found:
        raise LoyaltyError(UserErrorCode.ALREADY_CHECKED_IN, f"Already checked in on {day.isoformat()}.",
                           ["input", "date"])
    if await uow.check_ins.made_up_between(member.id, *make_up_month(program, now)) >= rule.per_month:
        raise LoyaltyError(UserErrorCode.LIMIT_REACHED,
                           f"{rule.per_month} make-up check-ins a month; none is left this month.")
    await wallet.debit(uow, member, rule.cost_points, PointKind.MAKE_UP, f"补签：{day.isoformat()}", now)
    before = found.get(day - timedelta(days=1))
    streak = before.streak_days + 1 if before is not None else 1
    record = await uow.check_ins.add(CheckIn(member.id, day, streak, 0, now, made_up=True))
    await uow.check_ins.set_streaks(repaired_streaks(day, streak, found))
    await idempotency.remember(uow, member.id, "makeUpCheckIn", key, request, record.id, now)
    return MadeUp(record, rule.cost_points)
