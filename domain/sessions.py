"""Sessions: sign-in starts one; refresh tokens rotate; reuse of a spent one ends the session.

Refresh tokens follow OAuth 2.0's rotation with reuse detection (RFC 9700 §4.14): each refresh
spends the token it was given and returns a new one; presenting a spent token means two parties
hold it, one of them not the member, so the whole session ends. Only SHA-256 hashes are stored.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from domain import commands
from domain.errors import LoyaltyError, UserErrorCode
from domain.handling import Handling
from domain.model import RefreshToken, Session
from domain.ports import UnitOfWork

REFRESH_TOKEN_PREFIX = "rt_"
REUSED = "REFRESH_TOKEN_REUSED"
LOGOUT = "LOGOUT"
DEREGISTERED = "DEREGISTERED"
MERGED = "MERGED"              # the member was merged into another (a fold-in or a staff merge)


def new_token_id() -> str:
    """128 random bits: the session's name in its access tokens. Never sequential, so that a token cannot
    be forged for another session by counting, even with the signing key."""
    return secrets.token_urlsafe(16)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invalid(keep_changes: bool = False) -> LoyaltyError:
    return LoyaltyError(UserErrorCode.INVALID_TOKEN, "This refresh token is not valid; sign in again.",
                        ["input", "refreshToken"], keep_changes=keep_changes)


async def _new_refresh_token(uow: UnitOfWork, session_id: int, now: datetime, ttl_seconds: int) -> str:
    token = REFRESH_TOKEN_PREFIX + secrets.token_urlsafe(32)
    await uow.sessions.add_refresh_token(RefreshToken(session_id, token_hash(token), now,
                                                      now + timedelta(seconds=ttl_seconds)))
    return token


async def start(uow: UnitOfWork, now: datetime, refresh_ttl_seconds: int | None, member_id: int | None = None,
                staff_id: int | None = None) -> tuple[Session, str | None]:
    """A new session for a member or a staff member, with its first refresh token when
    `refresh_ttl_seconds` is given. Runs inside the caller's transaction (no commit)."""
    session = await uow.sessions.add(Session(now, member_id=member_id, staff_id=staff_id,
                                             token_id=new_token_id()))
    token = await _new_refresh_token(uow, session.id, now, refresh_ttl_seconds) if refresh_ttl_seconds else None
    return session, token


async def refresh(command: commands.RefreshSession, uow: UnitOfWork, context: Handling) -> tuple[Session, str]:
    """Spend the refresh token presented and return its session with the next one (by the real clock).
    An unknown, expired or revoked token is INVALID_TOKEN; a spent one is too, and ends its session (a
    refusal that keeps that change)."""
    now, presented, ttl_seconds = context.real_now, command.refresh_token, command.ttl_seconds
    if not presented.startswith(REFRESH_TOKEN_PREFIX) or len(presented) > 128:
        raise _invalid()
    token = await uow.sessions.lock_refresh_token(token_hash(presented))
    if token is None:
        raise _invalid()
    session = await uow.sessions.lock(token.session_id)
    if token.used_at is not None:
        if session.revoked_at is None:
            await uow.sessions.revoke(session.id, REUSED, now)
            raise _invalid(keep_changes=True)
        raise _invalid()
    if session.revoked_at is not None or now >= token.expires_at:
        raise _invalid()
    await uow.sessions.spend_refresh_token(token.id, now)
    following = await _new_refresh_token(uow, session.id, now, ttl_seconds)
    return session, following


async def end(command: commands.EndSession, uow: UnitOfWork, context: Handling) -> None:
    """Logout: the session's access and refresh tokens stop working now (by the real clock)."""
    now = context.real_now
    session = await uow.sessions.lock(command.session_id)
    if session is not None and session.revoked_at is None:
        await uow.sessions.revoke(session.id, LOGOUT, now)
