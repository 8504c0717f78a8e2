from __future__ import annotations

import strawberry

from api.access import require_member
from api.mutations.base import Refused, member_of, run
from api.types.enums import UserError
from api.types.member import Member
from api.types.order import CheckIn
from domain import check_ins


@strawberry.input
class CheckInInput:
    idempotency_key: str


@strawberry.type
class CheckInPayload:
    check_in: CheckIn | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def check_in(info: strawberry.Info, input: CheckInInput) -> CheckInPayload:
    """Today's check-in (local day of the program's time zone)."""
    context = info.context
    member_id = require_member(context.caller)
    try:
        record = await run(info, lambda uow: check_ins.check_in(
            uow, context.program, context.now, member_id, input.idempotency_key))
    except Refused as refused:
        return CheckInPayload(user_errors=refused.errors)
    return CheckInPayload(check_in=CheckIn.from_row(record), member=await member_of(info, member_id))
