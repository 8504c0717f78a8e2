"""Who is calling: a member (signed, expiring access token), an integration (API key), or nobody."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from api.errors import forbidden, unauthenticated

TOKEN_ALGORITHM = "HS256"
TOKEN_AUDIENCE = "loyalty-member"
API_KEY_PREFIX = "lk_"


@dataclass(frozen=True)
class Anonymous:
    pass


@dataclass(frozen=True)
class MemberCaller:
    member_id: int


@dataclass(frozen=True)
class IntegrationCaller:
    api_key_id: int
    name: str


Caller = Anonymous | MemberCaller | IntegrationCaller


class InvalidToken(Exception):
    pass


def issue_access_token(secret: str, member_id: int, now: datetime, ttl_seconds: int) -> tuple[str, datetime]:
    expires_at = now + timedelta(seconds=ttl_seconds)
    token = jwt.encode({"sub": str(member_id), "aud": TOKEN_AUDIENCE, "iat": int(now.timestamp()),
                        "exp": int(expires_at.timestamp())}, secret, algorithm=TOKEN_ALGORITHM)
    return token, expires_at


def member_id_from_token(secret: str, token: str) -> int:
    """Tokens are checked against the real time, never the test clock: a token must not outlive itself."""
    try:
        claims = jwt.decode(token, secret, algorithms=[TOKEN_ALGORITHM], audience=TOKEN_AUDIENCE,
                            options={"require": ["exp", "sub", "aud"]})
        return int(claims["sub"])
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise InvalidToken(str(exc)) from None


def new_api_key() -> tuple[str, str]:
    """A new integration key and the hash that is stored (the key itself never is)."""
    key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return key, hash_api_key(key)


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def require_member(caller: Caller) -> int:
    if isinstance(caller, MemberCaller):
        return caller.member_id
    if isinstance(caller, IntegrationCaller):
        raise forbidden("This operation is for members; integrations use the integration operations.")
    raise unauthenticated()


def require_integration(caller: Caller) -> IntegrationCaller:
    if isinstance(caller, IntegrationCaller):
        return caller
    if isinstance(caller, MemberCaller):
        raise forbidden("This operation is for integrations (X-API-Key).")
    raise unauthenticated("Send X-API-Key: <key> to call integration operations.")
