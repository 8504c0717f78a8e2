from __future__ import annotations

from datetime import datetime, timezone

import strawberry

from api.auth import issue_access_token
from api.mutations.base import Refused, member_of, run, user_error
from api.types.enums import UserError
from api.types.member import Member
from api.wechat import WeChatLoginRefused
from domain import members
from domain.errors import invalid


@strawberry.input
class LoginWithWeChatInput:
    code: str = strawberry.field(description="The code from wx.login().")


@strawberry.type
class LoginWithWeChatPayload:
    access_token: str | None = None
    expires_at: datetime | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def login_with_wechat(info: strawberry.Info, input: LoginWithWeChatInput) -> LoginWithWeChatPayload:
    """Sign in with a WeChat login code; the first login registers the member with the sign-up gift."""
    context = info.context
    try:
        code = input.code.strip()
        if not code or len(code) > 128 or not code.isprintable():
            raise Refused([user_error(invalid("code", "code must be 1 to 128 printable characters."))])
        try:
            identity = await context.services.wechat.code_to_session(code)
        except WeChatLoginRefused as exc:
            raise Refused([user_error(invalid("code", str(exc)))]) from None
        member = await run(info, lambda uow: members.sign_in_with_wechat(
            uow, context.program, context.now, identity.openid, identity.unionid))
    except Refused as refused:
        return LoginWithWeChatPayload(user_errors=refused.errors)
    settings = context.services.settings
    # Tokens live in real time, whatever X-Loyalty-Now says: a test clock must not mint old or eternal tokens.
    token, expires_at = issue_access_token(settings.secret_key, member.id, datetime.now(timezone.utc),
                                           settings.access_token_ttl_seconds)
    return LoginWithWeChatPayload(access_token=token, expires_at=expires_at.astimezone(context.zone),
                                  member=await member_of(info, member.id))
