"""Signing in with WeChat, the profile, the phone number, and leaving (注销)."""
from __future__ import annotations

from datetime import date, datetime
from typing import Awaitable, Callable, TypeVar

import strawberry

from api.core.access import ANYONE, MEMBERS
from api.core.auth import MEMBER_AUDIENCE, new_access_token
from api.core.mutations import Refused, check_rate, execute, mutation, user_error
from api.core.vocabulary import Gender, UserError
from api.members.types import Member, member_of, signed_in_member
from domain import commands
from domain.errors import invalid
from domain.wechat import WeChatRefused


@strawberry.input
class LoginWithWeChatInput:
    code: str = strawberry.field(description="The code from wx.login().")


@strawberry.type
class LoginWithWeChatPayload:
    access_token: str | None = None
    expires_at: datetime | None = None
    refresh_token: str | None = strawberry.field(
        default=None, description="Exchange it for a new access token (refreshAccessToken); each works once.")
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(ANYONE)
async def login_with_wechat(info: strawberry.Info, input: LoginWithWeChatInput) -> LoginWithWeChatPayload:
    """Sign in with a WeChat login code; the first login registers the member with the sign-up gift."""
    context = info.context
    settings = context.services.settings
    code = wechat_code(input.code)
    await check_rate(info, "login_ip", context.client_ip)
    await check_rate(info, "login_code", code)
    identity = await from_wechat(info, lambda: context.services.wechat.code_to_session(code))
    member, session, refresh_token = await execute(info, commands.SignInWithWeChat(
        identity.openid, identity.unionid, settings.refresh_token_ttl_seconds))
    token, expires_at = new_access_token(info, MEMBER_AUDIENCE, session)
    return LoginWithWeChatPayload(access_token=token, expires_at=expires_at, refresh_token=refresh_token,
                                  member=await signed_in_member(info, member.id))


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


@mutation(MEMBERS)
async def bind_phone_number(info: strawberry.Info, input: BindPhoneNumberInput) -> BindPhoneNumberPayload:
    """Bind the phone number WeChat vouches for; a number bound to another member is PHONE_TAKEN."""
    context = info.context
    member_id = context.caller.member_id
    code = wechat_code(input.code)
    await check_rate(info, "phone_ip", context.client_ip)
    await check_rate(info, "phone_code", code)
    await check_rate(info, "phone_member", member_id)
    phone = await from_wechat(info, lambda: context.services.wechat.phone_number(code))
    await execute(info, commands.BindPhone(member_id, phone))
    return BindPhoneNumberPayload(member=await member_of(info, member_id))


@mutation(MEMBERS)
async def deregister_member(info: strawberry.Info) -> DeregisterMemberPayload:
    """注销: erase the member's personal data, forfeit their points and end every session. Final."""
    context = info.context
    member_id = context.caller.member_id
    await execute(info, commands.Deregister(member_id))
    return DeregisterMemberPayload()


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


@mutation(MEMBERS)
async def update_profile(info: strawberry.Info, input: UpdateProfileInput) -> UpdateProfilePayload:
    """Fill in the profile; each profile task pays points once."""
    context = info.context
    member_id = context.caller.member_id
    change = commands.UpdateProfile(member_id, nickname=input.nickname, birthday=input.birthday,
                                    gender=input.gender.value if input.gender else None,
                                    household_size=input.household_size)
    _, awarded = await execute(info, change)
    return UpdateProfilePayload(member=await member_of(info, member_id), points_awarded=awarded)


T = TypeVar("T")


def wechat_code(value: str) -> str:
    """A code from the WeChat client (wx.login, getPhoneNumber): 1–128 printable characters."""
    code = value.strip()
    if not code or len(code) > 128 or not code.isprintable():
        raise Refused([user_error(invalid("code", "code must be 1 to 128 printable characters."))])
    return code


async def from_wechat(info: strawberry.Info, call: Callable[[], Awaitable[T]]) -> T:
    """What WeChat answers for a code; a code it refuses is INVALID_INPUT on `code`. The request holds no
    pooled connection while it waits (WeChat may take seconds)."""
    try:
        async with info.context.reader.released():
            return await call()
    except WeChatRefused as exc:
        raise Refused([user_error(invalid("code", str(exc)))]) from None
