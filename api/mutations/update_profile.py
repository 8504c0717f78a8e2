from __future__ import annotations

from datetime import date

import strawberry

from api.access import require_member
from api.mutations.base import Refused, member_of, run
from api.types.enums import Gender, UserError
from api.types.member import Member
from domain import members


@strawberry.input
class UpdateProfileInput:
    nickname: str | None = None
    birthday: date | None = strawberry.field(default=None, description="Can be set once.")
    gender: Gender | None = None
    household_size: int | None = None


@strawberry.type
class UpdateProfilePayload:
    member: Member | None = None
    points_awarded: int = 0
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def update_profile(info: strawberry.Info, input: UpdateProfileInput) -> UpdateProfilePayload:
    """Fill in the profile; each profile task pays points once."""
    context = info.context
    member_id = require_member(context.caller)
    change = members.ProfileChange(nickname=input.nickname, birthday=input.birthday,
                                   gender=input.gender.value if input.gender else None,
                                   household_size=input.household_size)
    try:
        _, awarded = await run(info, lambda uow: members.update_profile(
            uow, context.program, context.now, member_id, change))
    except Refused as refused:
        return UpdateProfilePayload(user_errors=refused.errors)
    return UpdateProfilePayload(member=await member_of(info, member_id), points_awarded=awarded)
