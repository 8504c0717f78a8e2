"""Signing in from the mobile app (WeChat's Open SDK code exchanged at sns/oauth2/access_token), by phone
number with an SMS code, and one member per person: the unionid joins the apps, a phone-only sign-up is
folded into the WeChat member that binds its number, and staff merge what is left (客服主管 and above).
WeChat's and the SMS providers' HTTP APIs are local fakes for the real clients."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import parse_qs

import httpx
import pytest
from sqlalchemy import select

from domain.sms import SmsUnavailable
from persistence.tables import members, point_entries, sms_codes
from server.sms import AliyunSms
from server.wechat import DevelopmentWeChat, WeChatAppClient, WeChatPlatforms
from tests.api.member_views import MON
from tests.api.staff_helpers import staff_token

APP_LOGIN = """
mutation LoginWithWeChatApp($code: String!) {
  loginWithWeChat(input: { code: $code, platform: APP }) {
    accessToken refreshToken member { id memberNo } userErrors { field message code }
  }
}
"""
MINI_LOGIN = """
mutation LoginWithWeChat($code: String!) {
  loginWithWeChat(input: { code: $code }) { accessToken member { id memberNo } userErrors { field message code } }
}
"""
REQUEST = """
mutation RequestSmsCode($phone: String!) {
  requestSmsCode(input: { phone: $phone }) { retryAfterSeconds userErrors { field message code retryAfter } }
}
"""
PHONE_LOGIN = """
mutation LoginWithPhone($phone: String!, $smsCode: String!) {
  loginWithPhone(input: { phone: $phone, smsCode: $smsCode }) {
    accessToken refreshToken member { id memberNo phoneMasked } userErrors { field message code }
  }
}
"""
BIND = """
mutation BindPhoneNumber($code: String!) {
  bindPhoneNumber(input: { code: $code }) { member { id phoneMasked } userErrors { field message code } }
}
"""
HOME = "{ me { id pointsBalance growthValue phoneMasked tier { code } } }"
MERGE = """
mutation MergeMembers($sourceMemberId: ID!, $targetMemberId: ID!, $reason: String!) {
  mergeMembers(input: { sourceMemberId: $sourceMemberId, targetMemberId: $targetMemberId, reason: $reason }) {
    member { id pointsBalance growthValue tier { code } } userErrors { field message code }
  }
}
"""
PHONE = "13800138000"


async def payload(api, query, variables, name, **kw) -> dict:
    result = await api.execute(query, variables, now=kw.pop("now", MON), **kw)
    assert "errors" not in result, result
    return result["data"][name]


def codes(found: dict) -> list[str]:
    return [error["code"] for error in found["userErrors"]]


async def home(api, token) -> dict:
    result = await api.execute(HOME, token=token, now=MON)
    assert "errors" not in result, result
    return result["data"]["me"]


# --- WeChat from the mobile app ------------------------------------------------------------------------

async def test_app_login_joins_the_mini_program_member_by_unionid_with_one_sign_up_gift(api, database):
    mini = await payload(api, MINI_LOGIN, {"code": "ann~union-ann"}, "loginWithWeChat")
    app = await payload(api, APP_LOGIN, {"code": "ann-phone~union-ann"}, "loginWithWeChat")
    assert app["userErrors"] == [] and app["member"] == mini["member"] and app["refreshToken"]
    again = await payload(api, APP_LOGIN, {"code": "ann-phone"}, "loginWithWeChat")  # the app's openid alone
    assert again["member"] == mini["member"]
    stranger = await payload(api, APP_LOGIN, {"code": "bob-phone"}, "loginWithWeChat")
    assert stranger["member"]["id"] != mini["member"]["id"]
    assert (await home(api, app["accessToken"]))["pointsBalance"] == 100  # the gift once per person
    async with database.transaction() as conn:
        gifts = (await conn.execute(select(point_entries.c.member_id).where(point_entries.c.kind == "SIGNUP"))).all()
    assert len(gifts) == 2


async def test_a_member_first_seen_without_a_unionid_takes_it_from_the_other_app(api):
    first = await payload(api, APP_LOGIN, {"code": "cat-phone"}, "loginWithWeChat")
    await payload(api, APP_LOGIN, {"code": "cat-phone~union-cat"}, "loginWithWeChat")
    mini = await payload(api, MINI_LOGIN, {"code": "cat-mini~union-cat"}, "loginWithWeChat")
    assert mini["member"] == first["member"]


def wechat_app_server(answers: dict[str, dict]):
    """WeChat's sns/oauth2/access_token for the mobile app's appid, as WeChatAppClient calls it."""
    seen = []

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/sns/oauth2/access_token" and request.method == "GET"
        params = dict(request.url.params)
        seen.append(params)
        if params["code"] == "unreachable":
            raise httpx.ConnectError("no route to host")
        return httpx.Response(200, json=answers.get(params["code"], {"errcode": 40029, "errmsg": "invalid code"}))

    return WeChatAppClient("wx-mobile-app", "app-secret", transport=httpx.MockTransport(handle)), seen


async def test_the_real_app_client_exchanges_the_code_and_refusals_are_user_errors(api_with):
    client, seen = wechat_app_server({"good": {"access_token": "user-token", "expires_in": 7200, "openid": "o-app-1",
                                               "scope": "snsapi_userinfo", "unionid": "union-dee"}})
    async with api_with(wechat=WeChatPlatforms(DevelopmentWeChat(), client)) as api:
        mini = await payload(api, MINI_LOGIN, {"code": "dee~union-dee"}, "loginWithWeChat")
        app = await payload(api, APP_LOGIN, {"code": "good"}, "loginWithWeChat")
        assert app["member"] == mini["member"]
        assert seen[0] == {"appid": "wx-mobile-app", "secret": "app-secret", "code": "good",
                           "grant_type": "authorization_code"}
        refused = await payload(api, APP_LOGIN, {"code": "forged"}, "loginWithWeChat")
        assert codes(refused) == ["INVALID_INPUT"] and refused["accessToken"] is None
        down = await payload(api, APP_LOGIN, {"code": "unreachable"}, "loginWithWeChat")
        assert codes(down) == ["PROVIDER_UNAVAILABLE"] and down["accessToken"] is None
        for bad in ["", " ", "x" * 129, "bad\ncode"]:
            assert codes(await payload(api, APP_LOGIN, {"code": bad}, "loginWithWeChat")) == ["INVALID_INPUT"]


# --- phone and SMS code --------------------------------------------------------------------------------

async def test_phone_login_registers_then_signs_in_with_single_use_codes(api, database):
    sent = await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
    assert sent == {"retryAfterSeconds": 60, "userErrors": []}
    wrong = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "123456"}, "loginWithPhone")
    assert codes(wrong) == ["SMS_CODE_INVALID"] and wrong["accessToken"] is None
    first = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone")
    assert first["userErrors"] == [] and first["member"]["phoneMasked"] == "138****8000"
    assert (await home(api, first["accessToken"]))["pointsBalance"] == 100
    reused = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone")
    assert codes(reused) == ["SMS_CODE_INVALID"]
    await payload(api, REQUEST, {"phone": "+86 138-0013-8000"}, "requestSmsCode")   # the same number, written so
    second = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone")
    assert second["member"] == first["member"]
    async with database.transaction() as conn:
        stored = (await conn.execute(select(sms_codes))).mappings().all()
        count = len((await conn.execute(select(members.c.id))).all())
    assert count == 1
    assert all("000000" not in str(dict(row)) and PHONE not in str(dict(row)) for row in stored)


async def test_a_code_stops_working_after_five_wrong_tries_and_when_it_expires(api):
    await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
    for _ in range(5):
        assert codes(await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "999999"}, "loginWithPhone")) \
            == ["SMS_CODE_INVALID"]
    assert codes(await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone")) \
        == ["SMS_CODE_INVALID"]
    sent_at = datetime.fromisoformat(MON)
    await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode", now=sent_at.isoformat())
    late = (sent_at + timedelta(minutes=5, seconds=1)).isoformat()
    assert codes(await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone",
                               now=late)) == ["SMS_CODE_INVALID"]
    await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode", now=sent_at.isoformat())
    in_time = (sent_at + timedelta(minutes=4, seconds=59)).isoformat()
    assert (await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone",
                          now=in_time))["userErrors"] == []


@pytest.mark.parametrize("phone", ["1380013800", "23800138000", "phone", "138001380001", "１３８００１３８０００", ""])
async def test_numbers_that_are_not_mainland_mobiles_are_refused(api, phone):
    assert codes(await payload(api, REQUEST, {"phone": phone}, "requestSmsCode")) == ["INVALID_INPUT"]
    assert codes(await payload(api, PHONE_LOGIN, {"phone": phone, "smsCode": "000000"}, "loginWithPhone")) \
        == ["INVALID_INPUT"]


async def test_sms_sends_are_limited_per_number_per_address_and_per_day(api_with):
    async with api_with(LOYALTY_RATE_LIMITS="sms_phone=1/60,sms_phone_day=2/86400,sms_ip=3/3600") as api:
        assert (await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode"))["userErrors"] == []
        again = await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
        assert codes(again) == ["RATE_LIMITED"] and 1 <= again["userErrors"][0]["retryAfter"] <= 60
        assert (await payload(api, REQUEST, {"phone": "13900139000"}, "requestSmsCode"))["userErrors"] == []
        fourth = await payload(api, REQUEST, {"phone": "13600136000"}, "requestSmsCode")  # the address's 4th try
        assert codes(fourth) == ["RATE_LIMITED"] and fourth["userErrors"][0]["retryAfter"] > 60
    async with api_with(LOYALTY_RATE_LIMITS="sms_phone=5/1,sms_phone_day=2/86400") as api:
        for _ in range(2):
            assert (await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode"))["userErrors"] == []
        day = await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")  # the number's 3rd today
        assert codes(day) == ["RATE_LIMITED"] and day["userErrors"][0]["retryAfter"] > 3600


class BrokenSms:
    def new_code(self) -> str:
        return "424242"

    async def send(self, phone: str, code: str) -> None:
        raise SmsUnavailable("the provider answered HTTP 503")


async def test_a_provider_that_cannot_send_is_a_user_error_and_its_code_never_works(api_with):
    async with api_with(sms=BrokenSms()) as api:
        refused = await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
        assert codes(refused) == ["PROVIDER_UNAVAILABLE"] and refused["retryAfterSeconds"] is None
        assert codes(await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "424242"}, "loginWithPhone")) \
            == ["SMS_CODE_INVALID"]


def aliyun_server(texts: list[dict], fail: bool = False):
    """Alibaba Cloud SMS's SendSms, as AliyunSms calls it: what was texted is kept for the test to read."""

    def handle(request: httpx.Request) -> httpx.Response:
        assert request.headers["x-acs-action"] == "SendSms"
        assert request.headers["authorization"].startswith("ACS3-HMAC-SHA256 Credential=key-id,")
        if fail:
            return httpx.Response(200, json={"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit"})
        params = {name: values[0] for name, values in parse_qs(request.url.query.decode()).items()}
        texts.append({"phone": params["PhoneNumbers"], **json.loads(params["TemplateParam"])})
        return httpx.Response(200, json={"Code": "OK", "Message": "OK", "BizId": "1", "RequestId": "r"})

    return AliyunSms("key-id", "key-secret", "会员中心", "SMS_0001", transport=httpx.MockTransport(handle))


async def test_the_real_sms_client_texts_a_random_code_that_signs_in(api_with):
    texts: list[dict] = []
    async with api_with(sms=aliyun_server(texts)) as api:
        await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
        assert len(texts) == 1 and texts[0]["phone"] == PHONE and len(texts[0]["code"]) == 6
        signed_in = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": texts[0]["code"]}, "loginWithPhone")
        assert signed_in["userErrors"] == [] and signed_in["member"]["phoneMasked"] == "138****8000"
    async with api_with(sms=aliyun_server(texts, fail=True)) as api:
        assert codes(await payload(api, REQUEST, {"phone": "13900139000"}, "requestSmsCode")) \
            == ["PROVIDER_UNAVAILABLE"]


# --- one person, one member ----------------------------------------------------------------------------

async def test_binding_the_number_of_a_phone_only_sign_up_folds_it_into_the_wechat_member(api):
    await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
    phone_only = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone")
    wechat = await payload(api, MINI_LOGIN, {"code": "eve"}, "loginWithWeChat")
    bound = await payload(api, BIND, {"code": PHONE}, "bindPhoneNumber", token=wechat["accessToken"])
    assert bound["userErrors"] == [] and bound["member"] == {"id": wechat["member"]["id"], "phoneMasked": "138****8000"}
    assert (await home(api, wechat["accessToken"]))["pointsBalance"] == 100   # one sign-up gift, not two
    closed = await api.execute(HOME, token=phone_only["accessToken"], now=MON)
    assert closed["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"
    await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
    by_phone = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone")
    assert by_phone["member"]["id"] == wechat["member"]["id"]   # the number now signs in the WeChat member


async def test_a_phone_only_member_with_more_than_its_gift_is_not_folded(api):
    await payload(api, REQUEST, {"phone": PHONE}, "requestSmsCode")
    phone_only = await payload(api, PHONE_LOGIN, {"phone": PHONE, "smsCode": "000000"}, "loginWithPhone")
    checked_in = await api.execute('mutation { checkIn(input: {idempotencyKey: "k1"}) { userErrors { code } } }',
                                   token=phone_only["accessToken"], now=MON)
    assert checked_in["data"]["checkIn"]["userErrors"] == []
    wechat = await payload(api, MINI_LOGIN, {"code": "fay"}, "loginWithWeChat")
    taken = await payload(api, BIND, {"code": PHONE}, "bindPhoneNumber", token=wechat["accessToken"])
    assert codes(taken) == ["PHONE_TAKEN"]
    assert (await home(api, phone_only["accessToken"]))["phoneMasked"] == "138****8000"


async def order(api, member_id, external_id, amount) -> dict:
    result = await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": external_id, "amount": amount, "channel": "APP",
        "paidAt": "2026-03-02T10:00:00+08:00"}}, now=MON)
    assert result["recordOrder"]["userErrors"] == [], result
    return result["recordOrder"]


async def test_staff_merge_moves_points_growth_and_belongings_and_closes_the_source(api, database, program):
    source = await payload(api, MINI_LOGIN, {"code": "gus-old"}, "loginWithWeChat")
    target = await payload(api, APP_LOGIN, {"code": "gus-new"}, "loginWithWeChat")
    silver = program.tiers[1].growth_threshold
    await order(api, source["member"]["id"], "merge-1", silver * 100)   # the source reaches the second tier
    await api.execute('mutation { checkIn(input: {idempotencyKey: "m1"}) { userErrors { code } } }',
                      token=source["accessToken"], now=MON)
    before_source, before_target = await home(api, source["accessToken"]), await home(api, target["accessToken"])
    assert before_source["tier"]["code"] == program.tiers[1].code

    agent = await staff_token(api, database, "agent", "SUPPORT_AGENT")
    forbidden = await api.execute(MERGE, {"sourceMemberId": source["member"]["id"],
                                          "targetMemberId": target["member"]["id"], "reason": "dup"}, token=agent)
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    supervisor = await staff_token(api, database, "super", "SUPPORT_SUPERVISOR")
    itself = await payload(api, MERGE, {"sourceMemberId": target["member"]["id"],
                                        "targetMemberId": target["member"]["id"], "reason": "dup"}, "mergeMembers",
                           token=supervisor)
    assert codes(itself) == ["INVALID_INPUT"]
    merged = await payload(api, MERGE, {"sourceMemberId": source["member"]["id"],
                                        "targetMemberId": target["member"]["id"],
                                        "reason": "客户来电：同一人两个账号"}, "mergeMembers", token=supervisor)
    assert merged["userErrors"] == []
    kept = merged["member"]
    assert kept["pointsBalance"] == before_source["pointsBalance"] + before_target["pointsBalance"]  # no second gift
    assert kept["growthValue"] == before_source["growthValue"] + before_target["growthValue"]
    assert kept["tier"]["code"] == program.tiers[1].code
    assert (await api.execute(HOME, token=source["accessToken"], now=MON))["errors"][0]["extensions"]["code"] \
        == "TOKEN_INVALID"
    again = await payload(api, MINI_LOGIN, {"code": "gus-old"}, "loginWithWeChat")  # the old WeChat signs in the kept
    assert again["member"]["id"] == target["member"]["id"]
    refunded = await api.integration("RefundOrder", {"input": {"externalId": "merge-1", "externalRefundId": "mr-1",
                                                               "amount": silver * 100}}, now=MON)
    assert refunded["refundOrder"]["userErrors"] == []   # the moved order's refund reaches the kept member
    twice = await payload(api, MERGE, {"sourceMemberId": source["member"]["id"],
                                       "targetMemberId": target["member"]["id"], "reason": "again"}, "mergeMembers",
                          token=supervisor)
    assert codes(twice) == ["NOT_FOUND"]
    log = await api.execute("{ auditLog(first: 5) { edges { node { action outcome before after } } } }",
                            token=await staff_token(api, database, "boss", "ADMIN"))
    entry = next(edge["node"] for edge in log["data"]["auditLog"]["edges"]
                 if edge["node"]["action"] == "mergeMembers" and edge["node"]["outcome"] == "OK")
    assert entry["before"]["pointsBalance"] == before_target["pointsBalance"]
    assert entry["after"]["pointsBalance"] == kept["pointsBalance"]
