"""Checking in, and making up a missed day."""
from __future__ import annotations

from datetime import date

import strawberry

from api.check_ins.loaders import CheckInStatusByMember
from api.check_ins.types import CheckIn
from api.core.access import MEMBERS
from api.core.mutations import execute, mutation
from api.core.vocabulary import UserError
from api.members.types import Member, member_of
from domain import commands
from domain.check_ins import check_in_status


@strawberry.input
class CheckInInput:
    idempotency_key: str


@strawberry.type
class CheckInPayload:
    check_in: CheckIn | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(MEMBERS)
async def check_in(info: strawberry.Info, input: CheckInInput) -> CheckInPayload:
    """Today's check-in (local day of the program's time zone)."""
    context = info.context
    member_id = context.caller.member_id
    record = await execute(info, commands.CheckIn(member_id, input.idempotency_key))
    if record.local_date == context.program.calendar.local_date(context.now):  # not a replay of another day's
        CheckInStatusByMember(context).prime(member_id, check_in_status(context.program, record, None))
    return CheckInPayload(check_in=CheckIn.from_row(record), member=await member_of(info, member_id))


@strawberry.input
class MakeUpCheckInInput:
    date: date = strawberry.field(description="The missed local day to fill.")
    idempotency_key: str


@strawberry.type
class MakeUpCheckInPayload:
    check_in: CheckIn | None = None
    points_spent: int | None = strawberry.field(default=None, description="What the make-up cost.")
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(MEMBERS)
async def make_up_check_in(info: strawberry.Info, input: MakeUpCheckInInput) -> MakeUpCheckInPayload:
    """补签: fill a missed local day of the last days the program allows, for points; the day itself awards
    nothing, and the streak counts it."""
    member_id = info.context.caller.member_id
    made_up = await execute(info, commands.MakeUpCheckIn(member_id, input.date, input.idempotency_key))
    return MakeUpCheckInPayload(check_in=CheckIn.from_row(made_up.check_in), points_spent=made_up.points_spent,
                                member=await member_of(info, member_id))
