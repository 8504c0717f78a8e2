"""Sessions: refreshing an access token, and logging out."""
from __future__ import annotations

from datetime import datetime

import strawberry

from api.core.access import ANYONE, SESSIONS
from api.core.auth import MEMBER_AUDIENCE, new_access_token
from api.core.mutations import check_rate, execute, mutation
from api.core.vocabulary import UserError
from domain import commands


@strawberry.input
class RefreshAccessTokenInput:
    refresh_token: str


@strawberry.type
class RefreshAccessTokenPayload:
    access_token: str | None = None
    expires_at: datetime | None = None
    refresh_token: str | None = strawberry.field(default=None, description="The next refresh token; the one "
                                                 "given is spent, and using it again ends the session.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class LogoutPayload:
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(ANYONE)
async def refresh_access_token(info: strawberry.Info, input: RefreshAccessTokenInput) -> RefreshAccessTokenPayload:
    """A new access token and refresh token for a refresh token (rotation with reuse detection)."""
    settings = info.context.services.settings
    await check_rate(info, "login_ip", info.context.client_ip)
    session, refresh_token = await execute(info, commands.RefreshSession(
        input.refresh_token.strip(), settings.refresh_token_ttl_seconds))
    token, expires_at = new_access_token(info, MEMBER_AUDIENCE, session)
    return RefreshAccessTokenPayload(access_token=token, expires_at=expires_at, refresh_token=refresh_token)


@mutation(SESSIONS)
async def logout(info: strawberry.Info) -> LogoutPayload:
    """End this session: its access token stops working now, its refresh token too."""
    caller = info.context.caller
    await execute(info, commands.EndSession(caller.session_id), asked={})
    return LogoutPayload()
