"""Who is calling: a member or a staff member (a signed access token naming a live session), an
integration (an API key with scopes), or nobody.

Access tokens are short-lived JWTs (HS256, audience per kind of caller) that name their session by
its random token id and hold no other id; every request checks that the session is still live and of
the token's kind, so logout, refresh-token reuse and deregistration stop a token at once. Tokens
follow the real clock, never the test clock.
"""
from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
import strawberry

from domain.access import Scope

TOKEN_ALGORITHM = "HS256"
MEMBER_AUDIENCE = "loyalty-member"
STAFF_AUDIENCE = "loyalty-staff"
API_KEY_PREFIX = "lk_"


EXPIRED = "EXPIRED"              # an access token past its time, of a live session: refresh it
ENDED = "ENDED"                  # a token of a session that has ended (logout, refresh-token reuse, 注销)
INVALID_TOKEN = "INVALID_TOKEN"  # not a token this service signed
INVALID_KEY = "INVALID_KEY"      # an API key that is unknown or revoked


@dataclass(frozen=True)
class Anonymous:
    """Nobody; or somebody whose credentials did not hold, `why` saying how, so that a client can tell
    "refresh the token" from "sign in again"."""

    why: str | None = None


@dataclass(frozen=True)
class MemberCaller:
    member_id: int
    session_id: int


@dataclass(frozen=True)
class StaffCaller:
    staff_id: int
    username: str
    role: str
    session_id: int


@dataclass(frozen=True)
class IntegrationCaller:
    api_key_id: int
    name: str
    scopes: frozenset[Scope]


Caller = Anonymous | MemberCaller | StaffCaller | IntegrationCaller


@dataclass(frozen=True)
class TokenClaims:
    audience: str
    session_token_id: str
    expired: bool


class InvalidToken(Exception):
    pass


def issue_access_token(secret: str, audience: str, session_token_id: str, now: datetime,
                       ttl_seconds: int) -> tuple[str, datetime]:
    expires_at = now + timedelta(seconds=ttl_seconds)
    token = jwt.encode({"sid": session_token_id, "aud": audience, "iat": int(now.timestamp()),
                        "exp": int(expires_at.timestamp())}, secret, algorithm=TOKEN_ALGORITHM)
    return token, expires_at


def read_access_token(secret: str, token: str, now: datetime) -> TokenClaims:
    """The claims of a token this service signed, and whether it has expired at `now` (the real clock)."""
    audience, session_token_id, expires = _verified(secret, token)
    return TokenClaims(audience, session_token_id, expired=expires <= now.timestamp())


@functools.lru_cache(maxsize=4096)
def _verified(secret: str, token: str) -> tuple[str, str, int]:
    """A token's signature and claims checked once, then remembered (a client sends the same token for its
    whole life, 15 minutes by default): what is remembered holds whatever the time, since expiry is
    compared at every use. A token that fails is not remembered."""
    try:
        claims = jwt.decode(token, secret, algorithms=[TOKEN_ALGORITHM], audience=[MEMBER_AUDIENCE, STAFF_AUDIENCE],
                            options={"require": ["exp", "aud", "sid"], "verify_exp": False})
        if not isinstance(claims["sid"], str) or not 0 < len(claims["sid"]) <= 64 or not isinstance(claims["exp"], int):
            raise ValueError("sid")
        return claims["aud"], claims["sid"], claims["exp"]
    except (jwt.InvalidTokenError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from None


def new_api_key() -> tuple[str, str]:
    """A new integration key and the hash that is stored (the key itself never is)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_access_token(info: strawberry.Info, audience: str, session) -> tuple[str, datetime]:
    """A signed access token for the session, living `LOYALTY_ACCESS_TOKEN_TTL` seconds of real time
    (whatever X-Loyalty-Now says: a test clock must not mint old or eternal tokens)."""
    settings = info.context.services.settings
    token, expires_at = issue_access_token(settings.secret_key, audience, session.token_id,
                                           info.context.services.clock.now(), settings.access_token_ttl_seconds)
    return token, expires_at.astimezone(info.context.zone)

