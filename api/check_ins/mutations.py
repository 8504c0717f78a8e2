"""Checking in."""
from __future__ import annotations

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
