from __future__ import annotations

from datetime import datetime

import strawberry

from api.auth import MEMBER_AUDIENCE
from api.mutations.base import (
    Refused, check_rate, from_wechat, new_access_token, real_now, run, signed_in_member, wechat_code,
)
from api.types.enums import UserError
from api.types.member import Member
from domain import members


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


async def login_with_wechat(info: strawberry.Info, input: LoginWithWeChatInput) -> LoginWithWeChatPayload:
    """Sign in with a WeChat login code; the first login registers the member with the sign-up gift."""
    context = info.context
    settings = context.services.settings
    try:
        code = wechat_code(input.code)
        await check_rate(info, "login_ip", context.client_ip)
        await check_rate(info, "login_code", code)
        identity = await from_wechat(info, lambda: context.services.wechat.code_to_session(code))
        member, session, refresh_token = await run(info, lambda uow: members.sign_in_with_wechat(
            uow, context.program, context.now, identity.openid, identity.unionid, real_now(),
            settings.refresh_token_ttl_seconds))
    except Refused as refused:
        return LoginWithWeChatPayload(user_errors=refused.errors)
    token, expires_at = new_access_token(info, MEMBER_AUDIENCE, session)
    return LoginWithWeChatPayload(access_token=token, expires_at=expires_at, refresh_token=refresh_token,
                                  member=await signed_in_member(info, member.id))
