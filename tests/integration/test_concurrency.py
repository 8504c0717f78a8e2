"""Concurrent requests for the same member never lose or double-count a point (both databases).

On SQLite this needs BEGIN IMMEDIATE (without it, concurrent read-modify-write loses updates);
on PostgreSQL it needs the member row lock.
"""
import asyncio

from sqlalchemy import update

from persistence.tables import rewards

TUESDAY = "2026-03-03T12:00:00+08:00"


async def reward_id(api, name: str) -> str:
    data = await api.data("RewardCatalog", {"first": 50})
    return next(e["node"]["id"] for e in data["rewards"]["edges"] if e["node"]["name"] == name)


async def balance(api, token) -> int:
    return (await api.data("MemberHome", token=token))["me"]["pointsBalance"]


async def history_sum(api, token) -> int:
    data = await api.data("PointHistory", {"first": 100}, token=token)
    return sum(e["node"]["delta"] for e in data["me"]["pointHistory"]["edges"])


def order(member_id: str, n: int, amount: int) -> dict:
    return {"input": {"memberId": member_id, "externalId": f"CONC-{n}", "amount": amount,
                      "channel": "APP", "paidAt": "2026-03-02T12:00:00+08:00"}}


async def test_concurrent_orders_for_one_member_all_count(api):
    token, member = await api.login("concurrent-orders")
    # 10 orders of ¥10.00 on a Monday: 10 points each, 10 growth each; sign-up gave 100.
    results = await asyncio.gather(*(api.integration("RecordOrder", order(member, n, 1000)) for n in range(10)))
    assert all(r["recordOrder"]["userErrors"] == [] for r in results)
    assert await balance(api, token) == 100 + 10 * 10
    assert await history_sum(api, token) == 200
    home = (await api.data("MemberHome", token=token))["me"]
    assert home["growthValue"] == 100


async def test_concurrent_redemptions_never_overspend(api):
    token, member = await api.login("concurrent-redeem")
    await api.integration("RecordOrder", order(member, 1, 90_000))  # 900 points → balance 1000, silver (900 growth)
    free_shipping = await reward_id(api, "免运费券")  # 200 points each: at most 5 of 10 can succeed
    results = await asyncio.gather(*(
        api.data("RedeemReward", {"rewardId": free_shipping, "idempotencyKey": f"k{n}"}, token=token)
        for n in range(10)))
    codes = [r["redeemReward"]["userErrors"][0]["code"] if r["redeemReward"]["userErrors"] else "OK" for r in results]
    assert codes.count("OK") == 5
    assert codes.count("INSUFFICIENT_POINTS") == 5
    # silver upgrade gift added 100 on top: 1000 + 100 − 5 × 200
    assert await balance(api, token) == 100
    assert await history_sum(api, token) == 100


async def test_concurrent_retries_with_one_key_redeem_once(api):
    token, member = await api.login("concurrent-same-key")
    await api.integration("RecordOrder", order(member, 2, 50_000))
    before = await balance(api, token)
    free_shipping = await reward_id(api, "免运费券")
    results = await asyncio.gather(*(
        api.data("RedeemReward", {"rewardId": free_shipping, "idempotencyKey": "same"}, token=token)
        for _ in range(8)))
    redemption_ids = {r["redeemReward"]["redemption"]["id"] for r in results}
    assert len(redemption_ids) == 1
    assert await balance(api, token) == before - 200


async def test_limited_stock_is_never_oversold(api, database):
    async with database.transaction() as conn:
        await conn.execute(update(rewards).where(rewards.c.name == "会员定制帆布袋").values(stock=3))
    bag = await reward_id(api, "会员定制帆布袋")
    members = []
    for n in range(6):
        token, member = await api.login(f"stock-{n}")
        await api.integration("RecordOrder", order(member, 100 + n, 300_000))  # 3000 points
        members.append(token)
    results = await asyncio.gather(*(
        api.data("RedeemReward", {"rewardId": bag, "idempotencyKey": "bag"}, token=token) for token in members))
    codes = [r["redeemReward"]["userErrors"][0]["code"] if r["redeemReward"]["userErrors"] else "OK" for r in results]
    assert codes.count("OK") == 3 and codes.count("OUT_OF_STOCK") == 3
    data = await api.data("RewardCatalog", {"first": 50})
    assert next(e["node"]["stock"] for e in data["rewards"]["edges"] if e["node"]["id"] == bag) == 0


async def test_concurrent_first_logins_register_one_member(api):
    results = await asyncio.gather(*(api.data("LoginWithWeChat", {"code": "twin"}) for _ in range(6)))
    member_ids = {r["loginWithWeChat"]["member"]["id"] for r in results}
    assert len(member_ids) == 1
    token = results[0]["loginWithWeChat"]["accessToken"]
    assert await balance(api, token) == 100  # one sign-up gift, not six


async def test_concurrent_check_ins_with_different_keys_pay_once(api):
    token, _ = await api.login("concurrent-check-in")
    results = await asyncio.gather(*(
        api.data("CheckIn", {"idempotencyKey": f"c{n}"}, token=token, now=TUESDAY) for n in range(6)))
    ok = [r for r in results if not r["checkIn"]["userErrors"]]
    assert len(ok) == 1
    assert all(r["checkIn"]["userErrors"][0]["code"] == "ALREADY_CHECKED_IN" for r in results if r not in ok)
    assert await balance(api, token) == 101
