"""The member's own account: binding a phone number, and deregistering (注销)."""
from __future__ import annotations

import strawberry

from api.access import require_member
from api.mutations.base import Refused, check_rate, from_wechat, member_of, run, wechat_code
from api.types.enums import UserError
from api.types.member import Member
from domain import members


@strawberry.input
class BindPhoneNumberInput:
    code: str = strawberry.field(description="The code from the mini-program's getPhoneNumber button.")


@strawberry.type
class BindPhoneNumberPayload:
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeregisterMemberPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def bind_phone_number(info: strawberry.Info, input: BindPhoneNumberInput) -> BindPhoneNumberPayload:
    """Bind the phone number WeChat vouches for; a number bound to another member is PHONE_TAKEN."""
    context = info.context
    member_id = require_member(context.caller)
    try:
        code = wechat_code(input.code)
        await check_rate(info, "phone_ip", context.client_ip)
        await check_rate(info, "phone_code", code)
        await check_rate(info, "phone_member", member_id)
        phone = await from_wechat(info, lambda: context.services.wechat.phone_number(code))
        await run(info, lambda uow: members.bind_phone(uow, member_id, phone))
    except Refused as refused:
        return BindPhoneNumberPayload(user_errors=refused.errors)
    return BindPhoneNumberPayload(member=await member_of(info, member_id))


async def deregister_member(info: strawberry.Info) -> DeregisterMemberPayload:
    """注销: erase the member's personal data, forfeit their points and end every session. Final."""
    context = info.context
    member_id = require_member(context.caller)
    try:
        await run(info, lambda uow: members.deregister(uow, context.program, context.now, member_id))
    except Refused as refused:
        return DeregisterMemberPayload(user_errors=refused.errors)
    return DeregisterMemberPayload()
