"""Signing in (WeChat from the mini-program or the mobile app, a phone number with an SMS code), the
profile, the phone number, and leaving (注销)."""
from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from typing import Awaitable, Callable, TypeVar

import strawberry

from api.core.access import ANYONE, MEMBERS
from api.core.auth import MEMBER_AUDIENCE, new_access_token
from api.core.mutations import Refused, check_rate, execute, mutation, user_error
from api.core.vocabulary import Gender, UserError, WeChatPlatform
from api.members.types import Member, member_of, signed_in_member
from domain import commands
from domain.errors import LoyaltyError
from domain.errors import UserErrorCode as DomainCode
from domain.errors import invalid
from domain.members import mainland_phone, sms_code
from domain.sms import SmsUnavailable
from domain.wechat import WeChatRefused, WeChatUnavailable

SMS_CODE_TTL_SECONDS = 300


@strawberry.input
class LoginWithWeChatInput:
    code: str = strawberry.field(description="The code from wx.login() (MINI_PROGRAM), or from the WeChat Open "
                                             "SDK's SendAuth in the mobile app (APP).")
    platform: WeChatPlatform = strawberry.field(default=WeChatPlatform.MINI_PROGRAM,
                                                description="Which WeChat app the code comes from.")
    referral_code: str | None = strawberry.field(
        default=None, description="The code of the member who invited this one (邀请有礼): it links a member "
                                  "registered by this sign-in. One that cannot (unknown, an existing member's "
                                  "sign-in) is INVALID_REFERRAL_CODE in userErrors, and the sign-in still succeeds.")


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
    """Sign in with a WeChat login code of the mini-program or the mobile app: the member of that openid,
    else of its unionid (the same person in the other app), else a new member with the sign-up gift (and,
    with a referral code, the referee's gift). A referral code that linked nothing is answered in
    userErrors beside the signed-in member and tokens."""
    context = info.context
    settings = context.services.settings
    code = wechat_code(input.code)
    await check_rate(info, "login_ip", context.client_ip)
    await check_rate(info, "login_code", code)
    wechat = context.services.wechat
    exchange = wechat.app_identity if input.platform == WeChatPlatform.APP else wechat.code_to_session
    identity = await from_wechat(info, lambda: exchange(code))
    signed_in = await execute(info, commands.SignInWithWeChat(
        identity.openid, identity.unionid, settings.refresh_token_ttl_seconds, input.platform.value,
        input.referral_code))
    token, expires_at = new_access_token(info, MEMBER_AUDIENCE, signed_in.session)
    # Refused would answer the userError alone; made here only so that it is counted as every userError is.
    referral_errors = Refused([user_error(signed_in.referral_refused)]).errors if signed_in.referral_refused else []
    return LoginWithWeChatPayload(access_token=token, expires_at=expires_at, refresh_token=signed_in.refresh_token,
                                  member=await signed_in_member(info, signed_in.member.id),
                                  user_errors=referral_errors)


@strawberry.input
class RequestSmsCodeInput:
    phone: str = strawberry.field(description="A mainland mobile number, 11 digits.")


@strawberry.type
class RequestSmsCodePayload:
    retry_after_seconds: int | None = strawberry.field(
        default=None, description="Seconds before another code may be sent to this number.")
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class LoginWithPhoneInput:
    phone: str
    sms_code: str = strawberry.field(description="The 6 digits texted by requestSmsCode (valid 5 minutes, once).")


@strawberry.type
class LoginWithPhonePayload:
    access_token: str | None = None
    expires_at: datetime | None = None
    refresh_token: str | None = None
    member: Member | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@mutation(ANYONE)
async def request_sms_code(info: strawberry.Info, input: RequestSmsCodeInput) -> RequestSmsCodePayload:
    """Text a 6-digit sign-in code to a mainland number (valid 5 minutes, once). Sends are limited per number
    (one a minute, ten a day), per client address and per day in all; a refusal says when to retry."""
    context = info.context
    phone = mainland_phone(input.phone)
    sender = context.services.sms
    if sender is None:
        raise LoyaltyError(DomainCode.PROVIDER_UNAVAILABLE,
                           "Signing in by text message is not available; sign in with WeChat.")
    await check_rate(info, "sms_ip", context.client_ip)
    await check_rate(info, "sms_phone", phone)
    await check_rate(info, "sms_phone_day", phone)
    await check_rate(info, "sms_day", "all")
    code = sender.new_code()
    await execute(info, commands.StoreSmsCode(phone, code_hash(info, phone, code), SMS_CODE_TTL_SECONDS))
    try:
        async with context.reader.released():  # the provider may take seconds: no pooled connection held
            await sender.send(phone, code)
    except SmsUnavailable as exc:
        await execute(info, commands.StoreSmsCode(phone, "", 0))  # the code never left: it must not work
        raise LoyaltyError(DomainCode.PROVIDER_UNAVAILABLE,
                           f"The text message could not be sent ({exc}); try again shortly.") from None
    return RequestSmsCodePayload(retry_after_seconds=context.services.settings.rate_limits.get("sms_phone", (1, 60))[1])


@mutation(ANYONE)
async def login_with_phone(info: strawberry.Info, input: LoginWithPhoneInput) -> LoginWithPhonePayload:
    """Sign in with a phone number and the code texted to it: the member of that number, else a new member
    with the number bound and the sign-up gift. A wrong, used or expired code is SMS_CODE_INVALID; after 5
    wrong tries the code stops working."""
    context = info.context
    settings = context.services.settings
    phone, code = mainland_phone(input.phone), sms_code(input.sms_code)
    await check_rate(info, "login_ip", context.client_ip)
    member, session, refresh_token = await execute(info, commands.SignInWithPhone(
        phone, code_hash(info, phone, code), settings.refresh_token_ttl_seconds))
    token, expires_at = new_access_token(info, MEMBER_AUDIENCE, session)
    return LoginWithPhonePayload(access_token=token, expires_at=expires_at, refresh_token=refresh_token,
                                 member=await signed_in_member(info, member.id))


def code_hash(info: strawberry.Info, phone: str, code: str) -> str:
    """What is kept of a sign-in code: an HMAC under the service's secret key of number and code, so that the
    table's rows give away no code (a plain hash of 6 digits is a million guesses away)."""
    secret = info.context.services.settings.secret_key.encode()
    return hmac.new(secret, f"sms:{phone}:{code}".encode(), hashlib.sha256).hexdigest()


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
        raise invalid("code", "code must be 1 to 128 printable characters.")
    return code


async def from_wechat(info: strawberry.Info, call: Callable[[], Awaitable[T]]) -> T:
    """What WeChat answers for a code; a code it refuses is INVALID_INPUT on `code`, WeChat unreachable (or
    the platform not set up) PROVIDER_UNAVAILABLE. The request holds no pooled connection while it waits
    (WeChat may take seconds)."""
    try:
        async with info.context.reader.released():
            return await call()
    except WeChatUnavailable as exc:
        raise LoyaltyError(DomainCode.PROVIDER_UNAVAILABLE, str(exc)) from None
    except WeChatRefused as exc:
        raise invalid("code", str(exc)) from None
