"""A member's identity: WeChat's unionid joins the app and the mini-program; a phone number is bound
through WeChat, sealed at rest, masked in answers, one member's only; deregistration erases the
person and keeps the books."""
import base64
import json
from datetime import datetime

import httpx
from sqlalchemy import func, select

from domain.jobs import grant_monthly_bonus
from persistence.personal_data import PersonalDataCipher
from persistence.reseal import reseal_personal_data
from persistence.tables import members, metadata, point_entries, wechat_identities
from persistence.unit_of_work import SqlUnitOfWork
from server.wechat import WeChatClient
from tests.api.member_views import MON, MemberViews

BIND = """
mutation BindPhoneNumber($code: String!) {
  bindPhoneNumber(input: { code: $code }) { member { id phoneMasked } userErrors { field message code } }
}
"""
DEREGISTER = "mutation DeregisterMember { deregisterMember { userErrors { field message code } } }"
views = MemberViews(MON)


def wechat_server(openids: dict[str, tuple[str, str | None]], phones: dict[str, str] | None = None):
    """WeChat's API as seen by WeChatClient: login codes → (openid, unionid), phone codes → numbers."""
    issued_tokens = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/sns/jscode2session":
            openid, unionid = openids[request.url.params["js_code"]]
            return httpx.Response(200, json={"openid": openid, "session_key": "k",
                                             **({"unionid": unionid} if unionid else {})})
        if request.url.path == "/cgi-bin/stable_token":
            issued_tokens.append(json.loads(request.content))
            return httpx.Response(200, json={"access_token": "wx-token", "expires_in": 7200})
        if request.url.path == "/wxa/business/getuserphonenumber":
            assert request.url.params["access_token"] == "wx-token"
            number = (phones or {}).get(json.loads(request.content)["code"])
            if number is None:
                return httpx.Response(200, json={"errcode": 40029, "errmsg": "invalid code"})
            return httpx.Response(200, json={"errcode": 0, "phone_info": {
                "phoneNumber": "+86" + number, "purePhoneNumber": number, "countryCode": "86"}})
        return httpx.Response(404)

    client = WeChatClient("wx-app", "wx-secret", transport=httpx.MockTransport(handle))
    client.issued_tokens = issued_tokens
    return client


async def bind(api, token, code) -> dict:
    result = await api.execute(BIND, {"code": code}, token=token, now=MON)
    assert "errors" not in result, result
    return result["data"]["bindPhoneNumber"]


async def test_unionid_joins_the_app_and_the_mini_program(api_with, database):
    wechat = wechat_server({"mp-code": ("o-mini-program", "u-1"), "app-code": ("o-app", "u-1"),
                            "other-code": ("o-other", "u-2"), "no-union": ("o-lonely", None)})
    async with api_with(wechat=wechat) as api:
        mini = await api.sign_in("mp-code", now=MON)
        app = await api.sign_in("app-code", now=MON)
        other = await api.sign_in("other-code", now=MON)
        lonely = await api.sign_in("no-union", now=MON)
    assert mini["member"]["id"] == app["member"]["id"]
    assert len({mini["member"]["id"], other["member"]["id"], lonely["member"]["id"]}) == 3
    async with database.transaction() as conn:
        assert (await conn.execute(select(func.count()).select_from(members))).scalar_one() == 3
        assert (await conn.execute(select(func.count()).select_from(point_entries)
                                   .where(point_entries.c.kind == "SIGNUP"))).scalar_one() == 3  # one gift each


async def test_phone_number_bound_through_wechat_sealed_and_masked(api_with, database):
    wechat = wechat_server({"c": ("o-phone", None)}, {"phone-code": "13800138000"})
    async with api_with(wechat=wechat) as api:
        token, member = await api.login("c", now=MON)
        bound = await bind(api, token, "phone-code")
        assert bound == {"member": {"id": member, "phoneMasked": "138****8000"}, "userErrors": []}
        assert (await api.data("MemberHome", token=token, now=MON))["me"]["phoneMasked"] == "138****8000"
        refused = await bind(api, token, "forged-code")
        assert [e["code"] for e in refused["userErrors"]] == ["INVALID_INPUT"] and refused["member"] is None
    assert wechat.issued_tokens == [{"grant_type": "client_credential", "appid": "wx-app", "secret": "wx-secret"}]
    assert "13800138000" not in await everything_stored(database)


async def test_a_phone_number_belongs_to_one_member(api):
    owner, _ = await api.login("owner", now=MON)
    other, _ = await api.login("other", now=MON)
    assert (await bind(api, owner, "13800138000"))["userErrors"] == []
    before = await views.snapshot(api, other)
    taken = await bind(api, other, "13800138000")
    assert [e["code"] for e in taken["userErrors"]] == ["PHONE_TAKEN"] and taken["member"] is None
    assert await views.snapshot(api, other) == before
    assert (await api.data("MemberHome", token=other, now=MON))["me"]["phoneMasked"] is None
    assert (await bind(api, owner, "13800138000"))["userErrors"] == []   # binding one's own again is fine
    for code in ["1380013800", "138001380000", "phone", "１３８００１３８０００"]:
        assert [e["code"] for e in (await bind(api, other, code))["userErrors"]] == ["INVALID_INPUT"], code


async def test_deregistration_erases_the_person_and_keeps_the_books(api, database):
    token, member = await api.login("leaving", now=MON)
    await api.data("UpdateProfile", {"input": {"nickname": "小王", "birthday": "1990-05-05", "gender": "MALE",
                                               "householdSize": 3}}, token=token, now=MON)
    await bind(api, token, "13900139000")
    await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": "leaving-1", "amount": 60000,
                                                    "channel": "APP", "paidAt": MON}}, now=MON)
    balance = (await views.home(api, token))["pointsBalance"]
    assert balance > 0
    result = await api.execute(DEREGISTER, token=token, now=MON)
    assert result["data"]["deregisterMember"]["userErrors"] == []
    async with database.transaction() as conn:
        row = (await conn.execute(select(members))).one()
        entries = (await conn.execute(select(point_entries.c.kind, point_entries.c.delta)
                                      .order_by(point_entries.c.id))).all()
        identities = (await conn.execute(select(func.count()).select_from(wechat_identities))).scalar_one()
    assert (row.nickname, row.birthday, row.gender, row.household_size, row.phone_sealed, row.phone_index,
            row.unionid) == (None,) * 7
    assert (row.points_balance, row.growth_value, row.tier_code) == (0, 0, "regular")
    assert row.deregistered_at is not None and identities == 0
    assert entries[-1] == ("ADJUSTMENT", -balance) and len(entries) > 1   # forfeited; the ledger stays
    stored = await everything_stored(database)
    assert "13900139000" not in stored and "小王" not in stored
    assert (await api.execute("{ me { id } }", token=token))["errors"][0]["extensions"]["code"] == "TOKEN_INVALID"
    order = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": "leaving-2",
                                                            "amount": 1000, "channel": "APP", "paidAt": MON}}, now=MON)
    assert [e["code"] for e in order["recordOrder"]["userErrors"]] == ["NOT_FOUND"]
    again_token, again = await api.login("leaving", now=MON)          # the same WeChat: a new member
    assert again != member
    assert (await bind(api, again_token, "13900139000"))["userErrors"] == []  # the number is free again


async def test_a_member_in_debt_deregisters_to_zero(api, database):
    token, member = await api.login("debtor", now=MON)
    await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": "debt-1", "amount": 50000,
                                                    "channel": "APP", "paidAt": MON}}, now=MON)
    await api.integration("RedeemPointsForOrder", {"input": {"memberId": member, "externalOrderId": "spend",
                                                             "points": 600, "orderAmount": 200000}}, now=MON)
    await api.integration("RefundOrder", {"input": {"externalId": "debt-1", "externalRefundId": "r",
                                                    "amount": 50000}}, now=MON)
    assert (await views.home(api, token))["pointsBalance"] < 0
    assert (await api.execute(DEREGISTER, token=token, now=MON))["data"]["deregisterMember"]["userErrors"] == []
    async with database.transaction() as conn:
        row = (await conn.execute(select(members))).one()
    assert (row.points_balance, row.points_debt) == (0, 0)


async def everything_stored(database) -> str:
    """Every value in every table, as text: what someone with a copy of the database would read."""
    rows = []
    async with database.transaction() as conn:
        for table in metadata.sorted_tables:
            rows += [str(tuple(row)) for row in await conn.execute(select(table))]
    return " ".join(rows)


async def test_the_data_key_rotates_without_losing_a_number(api_with, database):
    old, new = base64.b64encode(b"o" * 32).decode(), base64.b64encode(b"n" * 32).decode()
    async with api_with(LOYALTY_DATA_KEY=old) as before:
        token, _ = await before.login("rotated", now=MON)
        assert (await bind(before, token, "13600136000"))["userErrors"] == []
    assert await reseal_personal_data(database, PersonalDataCipher(b"n" * 32, (b"o" * 32,))) == 1
    assert await reseal_personal_data(database, PersonalDataCipher(b"n" * 32, (b"o" * 32,))) == 0
    async with api_with(LOYALTY_DATA_KEY=new) as after:  # the old key gone
        token, _ = await after.login("rotated", now=MON)
        assert (await after.data("MemberHome", token=token, now=MON))["me"]["phoneMasked"] == "136****6000"
        other, _ = await after.login("rotated-other", now=MON)
        assert [e["code"] for e in (await bind(after, other, "13600136000"))["userErrors"]] == ["PHONE_TAKEN"]


async def test_a_member_who_left_gets_refunds_for_the_books_only_and_no_bonus(api, database, program):
    token, member = await api.login("gone", now="2026-03-02T10:00:00+08:00")
    await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": "gone-1", "amount": 60000,
                                                    "channel": "APP", "paidAt": "2026-03-02T10:00:00+08:00"}},
                          now="2026-03-02T10:00:00+08:00")
    await api.execute(DEREGISTER, token=token, now="2026-03-03T10:00:00+08:00")
    refund = await api.integration("RefundOrder", {"input": {"externalId": "gone-1", "externalRefundId": "gone-r",
                                                             "amount": 5000}}, now="2026-03-04T10:00:00+08:00")
    order, after = refund["refundOrder"]["order"], refund["refundOrder"]["member"]
    assert refund["refundOrder"]["userErrors"] == []
    assert (order["refundedAmount"], after["pointsBalance"], after["growthValue"]) == (5000, 0, 0)
    # ¥550 net in March would earn the monthly bonus: not for a closed account
    bonus = await grant_monthly_bonus(lambda: SqlUnitOfWork(database), program,
                                      datetime.fromisoformat("2026-04-01T00:30:00+08:00"))
    assert bonus.processed == 0
