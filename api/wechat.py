"""WeChat login: code2Session through WeChat's API, or the development stand-in outside production."""
from __future__ import annotations

from dataclasses import dataclass

import httpx

CODE2SESSION_URL = "https://api.weixin.qq.com/sns/jscode2session"


@dataclass(frozen=True)
class WeChatIdentity:
    openid: str
    unionid: str | None = None


class WeChatLoginRefused(Exception):
    """WeChat did not accept the code (expired, used, or forged)."""


class DevelopmentWeChat:
    """The contract's stand-in: code C is openid dev-C, so the same code logs in the same member."""

    async def code_to_session(self, code: str) -> WeChatIdentity:
        return WeChatIdentity(openid=f"dev-{code}")


class WeChatClient:
    def __init__(self, appid: str, secret: str, transport: httpx.AsyncBaseTransport | None = None):
        self.appid, self.secret, self.transport = appid, secret, transport

    async def code_to_session(self, code: str) -> WeChatIdentity:
        params = {"appid": self.appid, "secret": self.secret, "js_code": code, "grant_type": "authorization_code"}
        async with httpx.AsyncClient(timeout=5.0, transport=self.transport) as client:
            try:
                response = await client.get(CODE2SESSION_URL, params=params)
                data = response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WeChatLoginRefused("WeChat could not be reached; try again.") from exc
        if data.get("errcode") or not data.get("openid"):
            raise WeChatLoginRefused(f"WeChat refused the code (errcode {data.get('errcode')}).")
        return WeChatIdentity(openid=data["openid"], unionid=data.get("unionid"))
