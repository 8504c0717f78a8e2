"""Referrals (邀请有礼), through the API: a new member signs in with a referrer's code and gets the referee's
coupon; the referee's first order that earns growth, once it has stood 7 days without being fully
refunded, pays the referrer 200 points through the `referral_reward` job, at most 10 a local month; one
person on both sides voids it; `me.referrals` shows none of the referee's personal data.

Dates (Shanghai): the referees join on Monday 2 March 2026 and pay on Tuesday 3 March at 10:00, so
their orders have stood 7 days at 10:00 on Tuesday 10 March.
"""
from __future__ import annotations

import asyncio
import base64
from datetime import datetime

import pytest

from api.schema import schema
from domain.jobs import run_due_jobs
from domain.jobs.referrals import REFERRAL_REWARD, reward_referrals
from domain.referral_codes import referral_code
from persistence.unit_of_work import SqlUnitOfWork
from tests.api.staff_helpers import staff_token

JOINED = "2026-03-02T10:00:00+08:00"
PAID = "2026-03-03T10:00:00+08:00"
STOOD = "2026-03-10T10:00:00+08:00"              # PAID + 7 days
NOT_YET = "2026-03-10T09:59:59+08:00"            # one second before
BIND = """
mutation BindPhoneNumber($code: String!) {
  bindPhoneNumber(input: { code: $code }) { member { id } userErrors { field message code } }
}
"""
NODE = "query($id: ID!) { node(id: $id) { __typename id ... on Referral { status pointsAwarded } } }"


def as_shown(moment: str) -> str:
    """A moment as the API writes it: to the millisecond."""
    return moment.replace("+08:00", ".000+08:00")


def pk(global_id: str) -> int:
    return int(base64.b64decode(global_id).decode().partition(":")[2])


async def join(api, code: str, referral: str | None, now: str = JOINED) -> dict:
    """A WeChat sign-in with a referral code (LoginWithReferral): the whole payload."""
    return (await api.data("LoginWithReferral", {"code": code, "referralCode": referral}, now=now))["loginWithWeChat"]


async def joined(api, code: str, referral: str | None, now: str = JOINED) -> tuple[str, str]:
    """(token, member ID) of a sign-in whose referral code was taken."""
    payload = await join(api, code, referral, now)
    assert payload["userErrors"] == [], payload
    return payload["accessToken"], payload["member"]["id"]


async def mine(api, token: str, first: int = 50, after: str | None = None, now: str = JOINED) -> dict:
    return (await api.data("MyReferrals", {"first": first, "after": after}, token=token, now=now))["me"]


async def statuses(api, token: str, now: str = STOOD) -> list[tuple[str, int]]:
    edges = (await mine(api, token, now=now))["referrals"]["edges"]
    return [(e["node"]["status"], e["node"]["pointsAwarded"]) for e in edges]


async def referrer(api, code: str = "referrer") -> tuple[str, str, str]:
    """(token, member ID, referral code) of a member who invites others."""
    token, member = await api.login(code, now="2026-03-01T09:00:00+08:00")
    return token, member, (await mine(api, token))["referralCode"]


async def order(api, member: str, external_id: str, amount: int = 5000, paid_at: str = PAID,
                channel: str = "MINI_PROGRAM") -> None:
    result = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id,
                                                             "amount": amount, "channel": channel, "paidAt": paid_at}},
                                   now=paid_at)
    assert result["recordOrder"]["userErrors"] == [], result


async def refund(api, external_id: str, refund_id: str, amount: int, now: str) -> None:
    result = await api.integration("RefundOrder", {"input": {"externalId": external_id, "externalRefundId": refund_id,
                                                             "amount": amount}}, now=now)
    assert result["refundOrder"]["userErrors"] == [], result


async def reward(database, program, now: str):
    return await reward_referrals(lambda: SqlUnitOfWork(database), program, datetime.fromisoformat(now))


async def entries(api, token: str, kind: str = "REFERRAL", now: str = STOOD) -> list[dict]:
    edges = (await api.data("PointHistory", {"first": 100}, token=token, now=now))["me"]["pointHistory"]["edges"]
    return [e["node"] for e in edges if e["node"]["kind"] == kind]


async def test_a_new_member_joins_with_a_code_and_gets_the_referee_coupon(api, database):
    token, member, code = await referrer(api)
    assert len(code) == 7 and code == referral_code(pk(member))
    assert (await mine(api, token))["referrals"] == {"totalCount": 0, "edges": [],
                                                     "pageInfo": {"hasNextPage": False, "endCursor": None}}

    payload = await join(api, "referee", f" {code.lower()} ")   # as typed: case and spaces forgiven
    assert payload["userErrors"] == [] and payload["accessToken"] and payload["refreshToken"]
    coupons = (await api.data("MyCoupons", {"first": 10}, token=payload["accessToken"], now=JOINED))["me"]["coupons"]
    assert sorted((c["node"]["source"], c["node"]["title"], c["node"]["minSpend"], c["node"]["discountAmount"])
                  for c in coupons["edges"]) == [("REFERRAL_GIFT", "满30减5", 3000, 500),
                                                 ("SIGNUP_GIFT", "新人礼券 满30减5", 3000, 500)]

    listed = (await mine(api, token))["referrals"]
    [edge] = listed["edges"]
    assert listed["totalCount"] == 1
    assert (edge["node"]["joinedAt"], edge["node"]["status"], edge["node"]["pointsAwarded"]) == (
        as_shown(JOINED), "PENDING", 0)
    # node(id:) shows it to the referrer, not to the referee
    referral_id = edge["node"]["id"]
    assert (await api.data("Node", {"id": referral_id}, token=token))["node"]["id"] == referral_id
    assert (await api.execute(NODE, {"id": referral_id}, token=payload["accessToken"]))["data"]["node"] is None


async def test_a_code_that_links_nothing_is_a_user_error_beside_the_sign_in(api, database):
    token, member, code = await referrer(api)
    # unknown codes (2222222 names member 1724454733): a new member all the same, with the sign-up gift only
    for attempt, unknown in enumerate(("2222222", "not-a-code")):
        payload = await join(api, f"unknown-{attempt}", unknown)
        assert payload["accessToken"] and payload["member"]["id"]
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [("INVALID_REFERRAL_CODE",
                                                                             ["input", "referralCode"])]
        coupons = (await api.data("MyCoupons", {"first": 10}, token=payload["accessToken"]))["me"]["coupons"]
        assert [c["node"]["source"] for c in coupons["edges"]] == ["SIGNUP_GIFT"]
    # an existing member's sign-in links nothing: the referrer's own, a referee's second, one joined by unionid
    await joined(api, "newcomer", code)
    await api.login("holder~UNION-X")
    for existing in ("referrer", "newcomer", "holder-elsewhere~UNION-X"):
        payload = await join(api, existing, code)
        assert payload["accessToken"] and [e["code"] for e in payload["userErrors"]] == ["INVALID_REFERRAL_CODE"]
        assert "already existed" in payload["userErrors"][0]["message"]
    # the new member's own code: ids come one after another, so the next member's is known
    _, probe = await api.login("probe")
    own = referral_code(pk(probe) + 1)
    payload = await join(api, "self-referee", own)
    assert referral_code(pk(payload["member"]["id"])) == own
    assert [(e["code"], e["message"]) for e in payload["userErrors"]] == [
        ("INVALID_REFERRAL_CODE", "This is the new member's own referral code.")]
    assert (await mine(api, payload["accessToken"]))["referralCode"] == own
    # a blank code is no code
    assert (await join(api, "blank", ""))["userErrors"] == []
    # a deregistered member's code names nobody
    gone_token, _, gone_code = await referrer(api, "gone")
    assert (await api.data("DeregisterMember", token=gone_token))["deregisterMember"]["userErrors"] == []
    assert [e["code"] for e in (await join(api, "late", gone_code))["userErrors"]] == ["INVALID_REFERRAL_CODE"]
    assert [(n["node"]["status"]) for n in (await mine(api, token))["referrals"]["edges"]] == ["PENDING"]


async def test_the_referrer_is_paid_when_the_first_eligible_order_has_stood_seven_days(api, database, program):
    token, _, code = await referrer(api)
    _, referee = await joined(api, "referee", code)
    await order(api, referee, "third-party", 90000, channel="THIRD_PARTY")   # earns no growth
    await order(api, referee, "small", 49)                                 # under ¥1: no growth
    assert await statuses(api, token) == [("PENDING", 0)]
    await order(api, referee, "first", 5000)
    assert await statuses(api, token) == [("QUALIFYING", 0)]
    await order(api, referee, "second", 8000, paid_at="2026-03-04T10:00:00+08:00")

    assert (await reward(database, program, NOT_YET)).processed == 0
    assert await statuses(api, token) == [("QUALIFYING", 0)] and await entries(api, token) == []
    results = await run_due_jobs(lambda: SqlUnitOfWork(database), program, datetime.fromisoformat(STOOD))
    assert [(r.job, r.processed) for r in results if r.job == REFERRAL_REWARD] == [(REFERRAL_REWARD, 1)]
    assert await statuses(api, token) == [("REWARDED", 200)]
    [entry] = await entries(api, token)
    assert (entry["delta"], entry["description"]) == (200, "邀请有礼：好友首单奖励")
    assert entry["expiresAt"] == as_shown("2027-03-10T23:59:59+08:00")   # the usual lot: the same local date a year on
    notes = (await api.data("MyNotifications", {"first": 10}, token=token, now=STOOD))["me"]["notifications"]["edges"]
    rewarded = [n["node"] for n in notes if n["node"]["kind"] == "REFERRAL_REWARDED"]
    assert [(n["title"], n["body"]) for n in rewarded] == [
        ("邀请有礼奖励到账", "您邀请的好友已完成首单，奖励 200 积分。")]
    # a second run, the same minute or a month on, changes nothing
    assert (await reward(database, program, STOOD)).processed == 0
    assert (await reward(database, program, "2026-04-10T10:00:00+08:00")).processed == 0
    assert len(await entries(api, token)) == 1


async def test_a_fully_refunded_first_order_does_not_reward_but_a_later_order_can(api, database, program):
    token, _, code = await referrer(api)
    _, referee = await joined(api, "referee", code)
    await order(api, referee, "refunded", 6000)
    await refund(api, "refunded", "refunded-1", 1000, now="2026-03-04T10:00:00+08:00")
    await refund(api, "refunded", "refunded-2", 5000, now="2026-03-05T10:00:00+08:00")
    assert await statuses(api, token) == [("PENDING", 0)]
    assert (await reward(database, program, "2026-03-20T10:00:00+08:00")).processed == 0
    assert await statuses(api, token) == [("PENDING", 0)] and await entries(api, token) == []

    await order(api, referee, "later", 3000, paid_at="2026-03-21T10:00:00+08:00")
    assert (await reward(database, program, "2026-03-28T09:59:59+08:00")).processed == 0
    assert (await reward(database, program, "2026-03-28T10:00:00+08:00")).processed == 1
    assert await statuses(api, token) == [("REWARDED", 200)]


async def test_a_full_refund_hands_over_to_the_next_order_still_standing(api, database, program):
    token, _, code = await referrer(api)
    _, referee = await joined(api, "referee", code)
    await order(api, referee, "first", 6000)                                       # 3 March
    await order(api, referee, "second", 3000, paid_at="2026-03-05T10:00:00+08:00")  # stands from 5 March
    await refund(api, "first", "first-all", 6000, now="2026-03-06T10:00:00+08:00")
    assert await statuses(api, token) == [("QUALIFYING", 0)]
    assert (await reward(database, program, STOOD)).processed == 0
    assert (await reward(database, program, "2026-03-12T10:00:00+08:00")).processed == 1
    assert await statuses(api, token) == [("REWARDED", 200)]


async def test_a_full_refund_racing_the_reward_pays_exactly_when_it_rewarded(api, database, program):
    """The job locks the referrer, then the referral; the refund locks the referee, then the referral: whichever
    comes second sees what the first did. REWARDED stays rewarded; PENDING was never paid."""
    token, _, code = await referrer(api)
    _, referee = await joined(api, "referee", code)
    await order(api, referee, "raced", 6000)
    _, result = await asyncio.gather(refund(api, "raced", "raced-all", 6000, now=STOOD), reward(database, program, STOOD))
    [(status, points)] = await statuses(api, token)
    assert (status, points, len(await entries(api, token))) in {("REWARDED", 200, 1), ("PENDING", 0, 0)}
    assert result.processed == (status == "REWARDED")


async def test_a_partial_refund_still_rewards(api, database, program):
    token, _, code = await referrer(api)
    _, referee = await joined(api, "referee", code)
    await order(api, referee, "partly", 10000)
    await refund(api, "partly", "partly-1", 9999, now="2026-03-05T10:00:00+08:00")
    assert (await reward(database, program, STOOD)).processed == 1
    assert await statuses(api, token) == [("REWARDED", 200)]


async def test_at_most_ten_referrals_are_rewarded_a_local_month(api, database, program):
    token, _, code = await referrer(api)
    cap = program.referral.monthly_cap
    for n in range(cap + 1):
        _, referee = await joined(api, f"referee-{n}", code)
        await order(api, referee, f"order-{n}")
    assert (await reward(database, program, STOOD)).processed == 1
    assert sorted(await statuses(api, token)) == [("QUALIFYING", 0)] + [("REWARDED", 200)] * cap
    assert (await reward(database, program, "2026-03-31T23:59:59+08:00")).processed == 0
    assert len(await entries(api, token, now="2026-03-31T23:59:59+08:00")) == cap
    # 1 April, local: the one left waiting is paid from the new month's allowance
    assert (await reward(database, program, "2026-04-01T00:00:00+08:00")).processed == 1
    assert await statuses(api, token) == [("REWARDED", 200)] * (cap + 1)
    assert sum(e["delta"] for e in await entries(api, token, now="2026-04-01T00:00:00+08:00")) == 200 * (cap + 1)


async def test_one_person_on_both_sides_by_wechat_unionid_voids_it(api, database, program):
    # the referrer's WeChat turns out to carry the unionid the referee signed up with
    token, _, code = await referrer(api, "unionid-referrer")
    _, referee = await joined(api, "unionid-referee~UNION-1", code)
    again = await api.sign_in("unionid-referrer~UNION-1", now=JOINED)
    assert again["member"]["id"] != referee
    # the referee's WeChat turns out to carry the unionid the referrer holds
    other_token, _ = await api.login("unionid-holder~UNION-2", now="2026-03-01T09:00:00+08:00")
    other_code = (await mine(api, other_token))["referralCode"]
    _, other_referee = await joined(api, "plain-referee", other_code)
    assert (await api.sign_in("plain-referee~UNION-2", now=JOINED))["member"]["id"] == other_referee

    await order(api, referee, "u-1")
    await order(api, other_referee, "u-2")
    assert (await reward(database, program, STOOD)).processed == 0
    assert await statuses(api, token) == [("VOID", 0)] and await statuses(api, other_token) == [("VOID", 0)]
    assert await entries(api, token) == [] and await entries(api, other_token) == []


async def test_one_person_on_both_sides_by_phone_number_voids_it(api, database, program):
    token, _, code = await referrer(api)
    assert (await api.execute(BIND, {"code": "13800138001"}, token=token, now=JOINED))["data"]["bindPhoneNumber"][
        "userErrors"] == []
    referee_token, referee = await joined(api, "referee", code)
    refused = (await api.execute(BIND, {"code": "13800138001"}, token=referee_token, now=JOINED))["data"]
    assert [e["code"] for e in refused["bindPhoneNumber"]["userErrors"]] == ["PHONE_TAKEN"]
    assert await statuses(api, token) == [("VOID", 0)]   # kept although the binding was refused
    await order(api, referee, "p-1")
    assert (await reward(database, program, STOOD)).processed == 0
    assert await entries(api, token) == []


async def test_staff_merging_the_two_voids_it(api, database, program):
    token, referrer_id, code = await referrer(api)
    _, referee = await joined(api, "referee", code)
    supervisor = await staff_token(api, database, "supervisor", "SUPPORT_SUPERVISOR")
    merged = await api.data("MergeMembers", {"sourceMemberId": referee, "targetMemberId": referrer_id,
                                             "reason": "同一人两个账号"}, token=supervisor, now=JOINED)
    assert merged["mergeMembers"]["userErrors"] == []
    assert await statuses(api, token) == [("VOID", 0)]


async def test_a_closed_referrer_or_referee_voids_it_at_the_reward(api, database, program):
    staff = await staff_token(api, database, "agent", "SUPPORT_AGENT")
    leaving_token, _, leaving_code = await referrer(api, "leaving-referrer")
    _, first = await joined(api, "first", leaving_code)
    staying_token, _, staying_code = await referrer(api, "staying-referrer")
    second_token, second = await joined(api, "second", staying_code)
    referrals = [(await mine(api, t))["referrals"]["edges"][0]["node"]["id"] for t in (leaving_token, staying_token)]
    await order(api, first, "c-1")
    await order(api, second, "c-2")
    for token in (leaving_token, second_token):
        assert (await api.data("DeregisterMember", token=token, now="2026-03-05T10:00:00+08:00"))[
            "deregisterMember"]["userErrors"] == []
    assert (await reward(database, program, STOOD)).processed == 2
    shown = [(await api.execute(NODE, {"id": r}, token=staff))["data"]["node"] for r in referrals]
    assert [(n["status"], n["pointsAwarded"]) for n in shown] == [("VOID", 0), ("VOID", 0)]
    assert await entries(api, staying_token) == []


async def test_me_referrals_pages_newest_first_and_shows_nothing_of_the_referee(api, database):
    token, _, code = await referrer(api)
    days = ["2026-03-02T10:00:00+08:00", "2026-03-03T11:00:00+08:00", "2026-03-04T12:00:00+08:00"]
    for n, day in enumerate(days):
        referee_token, _ = await joined(api, f"referee-{n}", code, now=day)
        await api.data("UpdateProfile", {"input": {"nickname": f"好友{n}"}}, token=referee_token, now=day)
    first = (await mine(api, token, first=2))["referrals"]
    assert first["totalCount"] == 3 and first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["joinedAt"] for e in first["edges"]] == [as_shown(days[2]), as_shown(days[1])]
    rest = (await mine(api, token, first=2, after=first["pageInfo"]["endCursor"]))["referrals"]
    assert rest["totalCount"] == 3 and rest["pageInfo"]["hasNextPage"] is False
    assert [e["node"]["joinedAt"] for e in rest["edges"]] == [as_shown(days[0])]
    # a referral has no field that reaches the referee: not their member, nickname or phone
    assert set(schema._schema.type_map["Referral"].fields) == {"id", "joinedAt", "status", "pointsAwarded"}
    nodes = [e["node"] for e in first["edges"] + rest["edges"]]
    assert all(base64.b64decode(node["id"]).startswith(b"Referral:") for node in nodes)
    assert "好友" not in str(nodes)


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_has_no_referrals(api, database, program):
    token, member = await api.login("fresh-referrer", now="2026-03-01T09:00:00+08:00")
    shown = await mine(api, token)
    assert shown["referralCode"] is None and shown["referrals"]["totalCount"] == 0
    payload = await join(api, "fresh-referee", referral_code(pk(member)))
    assert payload["accessToken"]
    assert [(e["code"], e["message"]) for e in payload["userErrors"]] == [("INVALID_REFERRAL_CODE",
                                                                          "This program has no referrals.")]
    coupons = (await api.data("MyCoupons", {"first": 10}, token=payload["accessToken"]))["me"]["coupons"]["edges"]
    assert "REFERRAL_GIFT" not in {c["node"]["source"] for c in coupons}
    await order(api, payload["member"]["id"], "fresh-order")
    assert (await reward(database, program, STOOD)).status == "not due"
    assert (await mine(api, token, now=STOOD))["referrals"]["totalCount"] == 0
