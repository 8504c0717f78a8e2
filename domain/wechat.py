"""What sign-in and phone binding need of WeChat: a port. `server.wechat` holds the client of WeChat's
API and the development stand-ins."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None = None


class WeChatRefused(Exception):
    """WeChat did not accept the code (expired, used, or forged)."""


class WeChatUnavailable(WeChatRefused):
    """WeChat could not be reached or answered nonsense, or this platform is not set up: not the code's fault."""


class WeChat(Protocol):
    async def code_to_session(self, code: str) -> WeChatIdentity:
        """The identity of a `wx.login()` code (code2Session)."""

    async def app_identity(self, code: str) -> WeChatIdentity:
        """The identity of a mobile app's SendAuth code (sns/oauth2/access_token, the app's own appid)."""

    async def phone_number(self, code: str) -> str:
        """The phone number of a getPhoneNumber code."""
