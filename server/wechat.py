"""WeChat: code2Session for the mini-program's sign-in, sns/oauth2/access_token for the mobile app's
(the Open Platform SDK's SendAuth, under the app's own appid), and getuserphonenumber for the phone
number, through WeChat's API, or the development stand-ins outside production."""
from __future__ import annotations

import asyncio
import time

import httpx

from domain.wechat import WeChatIdentity, WeChatRefused, WeChatUnavailable

CODE2SESSION_URL = "https://api.weixin.qq.com/sns/jscode2session"
APP_ACCESS_TOKEN_URL = "https://api.weixin.qq.com/sns/oauth2/access_token"
STABLE_TOKEN_URL = "https://api.weixin.qq.com/cgi-bin/stable_token"
PHONE_NUMBER_URL = "https://api.weixin.qq.com/wxa/business/getuserphonenumber"


class DevelopmentWeChat:
    """The contract's stand-ins: the mini-program's login code C is openid dev-C, the mobile app's
    dev-app-C, so the same code logs in the same member; a code of the form "C~U" carries unionid U (on
    both platforms), so that tests can join identities; a phone code of 11 digits is that phone number."""

    async def code_to_session(self, code: str) -> WeChatIdentity:
        code, _, unionid = code.partition("~")
        return WeChatIdentity(openid=f"dev-{code}", unionid=unionid or None)

    async def app_identity(self, code: str) -> WeChatIdentity:
        code, _, unionid = code.partition("~")
        return WeChatIdentity(openid=f"dev-app-{code}", unionid=unionid or None)

    async def phone_number(self, code: str) -> str:
        if len(code) == 11 and code.isascii() and code.isdigit():
            return code
        raise WeChatRefused("Outside production a phone code is the 11-digit number itself.")


class WeChatClient:
    """WeChat's server API. The access token comes from stable_token, which hands every instance the
    same token (the plain token endpoint would make instances invalidate each other's)."""

    def __init__(self, appid: str, secret: str, transport: httpx.AsyncBaseTransport | None = None):
        self.appid, self.secret, self.transport = appid, secret, transport
        self._token: tuple[str, float] | None = None
        self._token_lock = asyncio.Lock()

    async def _call(self, method: str, url: str, **kw) -> dict:
        async with httpx.AsyncClient(timeout=5.0, transport=self.transport) as client:
            try:
                response = await client.request(method, url, **kw)
                return response.json()
            except (httpx.HTTPError, ValueError) as exc:
                raise WeChatUnavailable("WeChat could not be reached; try again.") from exc

    async def app_identity(self, code: str) -> WeChatIdentity:
        raise WeChatUnavailable("Signing in from the mobile app is not set up (LOYALTY_WECHAT_APP_APPID).")

    async def code_to_session(self, code: str) -> WeChatIdentity:
        data = await self._call("GET", CODE2SESSION_URL, params={
            "appid": self.appid, "secret": self.secret, "js_code": code, "grant_type": "authorization_code"})
        if data.get("errcode") or not data.get("openid"):
            raise WeChatRefused(f"WeChat refused the code (errcode {data.get('errcode')}).")
        return WeChatIdentity(openid=data["openid"], unionid=data.get("unionid"))

    async def _access_token(self) -> str:
        async with self._token_lock:
            if self._token is None or self._token[1] <= time.monotonic():
                data = await self._call("POST", STABLE_TOKEN_URL, json={
                    "grant_type": "client_credential", "appid": self.appid, "secret": self.secret})
                if not data.get("access_token"):
                    raise WeChatRefused(f"WeChat gave no access token (errcode {data.get('errcode')}).")
                self._token = (data["access_token"], time.monotonic() + int(data.get("expires_in", 7200)) - 300)
            return self._token[0]

    async def phone_number(self, code: str) -> str:
        data = await self._call("POST", PHONE_NUMBER_URL, params={"access_token": await self._access_token()},
                                json={"code": code})
        number = (data.get("phone_info") or {}).get("purePhoneNumber")
        if data.get("errcode") or not number:
            raise WeChatRefused(f"WeChat refused the phone code (errcode {data.get('errcode')}).")
        return number


class WeChatAppClient(WeChatClient):
    """The mobile app's sign-in: the code of the Open Platform SDK's SendAuth, exchanged at
    sns/oauth2/access_token under the app's own appid and secret. The openid is the app's (another than
    the mini-program's for the same person); the unionid, when the app is bound to the same Open Platform
    account, is the person's in both. The user access token WeChat also returns is not kept: sign-in needs
    only who it is."""

    async def app_identity(self, code: str) -> WeChatIdentity:
        data = await self._call("GET", APP_ACCESS_TOKEN_URL, params={
            "appid": self.appid, "secret": self.secret, "code": code, "grant_type": "authorization_code"})
        if data.get("errcode") or not data.get("openid"):
            raise WeChatRefused(f"WeChat refused the code (errcode {data.get('errcode')}).")
        return WeChatIdentity(openid=data["openid"], unionid=data.get("unionid"))


class WeChatPlatforms:
    """The mini-program's WeChat (sign-in, phone numbers) and the mobile app's (sign-in), as one port."""

    def __init__(self, mini_program, app):
        self.mini_program, self.app = mini_program, app

    async def code_to_session(self, code: str) -> WeChatIdentity:
        return await self.mini_program.code_to_session(code)

    async def phone_number(self, code: str) -> str:
        return await self.mini_program.phone_number(code)

    async def app_identity(self, code: str) -> WeChatIdentity:
        return await self.app.app_identity(code)
