"""Daily check-in: once per local day, the streak restarts after a missed day."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from domain import commands, idempotency, wallet
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
