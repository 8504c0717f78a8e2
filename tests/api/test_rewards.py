"""Rewards through RewardCatalog and RedeemReward.

Standard catalog: 5元无门槛券 500 / 满50减10 800 / 免运费券 200 / 9折券 1500 (silver+) /
会员定制帆布袋 GOODS 3000, stock 100. Checks in order: NOT_FOUND, TIER_TOO_LOW, OUT_OF_STOCK,
INSUFFICIENT_POINTS. Points are spent from the lots that expire first.
Points come from integration RecordOrder: floor(amount/100) × 1.0 for a regular member on a non-Tuesday.
"""
import base64
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import update

from persistence.tables import rewards

CST = timezone(timedelta(hours=8))
MONDAY = "2026-03-09T10:00:00+08:00"
REDEEM_AT = "2026-03-10T10:00:00+08:00"


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def catalog(api, now=REDEEM_AT) -> dict[str, dict]:
    data = await api.data("RewardCatalog", {"first": 100}, now=now)
    return {edge["node"]["name"]: edge["node"] for edge in data["rewards"]["edges"]}


async def set_reward(database, name: str, **values) -> None:
    async with database.transaction() as conn:
        result = await conn.execute(update(rewards).where(rewards.c.name == name).values(**values))
        assert result.rowcount == 1


async def member(api, code: str, order_yuan: int = 0, now: str = MONDAY) -> tuple[str, str]:
    """A member signed up at `now`, with one APP order of `order_yuan` paid at `now`."""
    token, member_id = await api.login(code, now=now)
    if order_yuan:
        await order(api, member_id, f"{code}-order", order_yuan, now)
    return token, member_id


async def order(api, member_id: str, external_id: str, yuan: int, paid_at: str) -> dict:
    payload = (await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": external_id, "amount": yuan * 100, "channel": "APP",
        "paidAt": paid_at}}, now=paid_at))["recordOrder"]
    assert payload["userErrors"] == []
    return payload


async def redeem(api, token, reward_id, key, now=REDEEM_AT):
    return (await api.data("RedeemReward", {"rewardId": reward_id, "idempotencyKey": key},
                           token=token, now=now))["redeemReward"]


async def state(api, token, now=REDEEM_AT) -> dict:
    """Everything a refused redemption must leave as it was."""
    me = (await api.data("MemberHome", token=token, now=now))["me"]
    coupons = await api.data("MyCoupons", {"first": 100}, token=token, now=now)
    history = await api.data("PointHistory", {"first": 100}, token=token, now=now)
    return {"balance": me["pointsBalance"], "coupons": coupons["me"]["coupons"],
            "history": history["me"]["pointHistory"], "catalog": await catalog(api, now)}


async def test_catalog_lists_the_seeded_rewards(api):
    found = await catalog(api)
    assert {name: (r["kind"], r["pointsCost"], r["stock"], r["minTierLevel"]) for name, r in found.items()} == {
        "5元无门槛券": ("COUPON", 500, None, 1),
        "满50减10": ("COUPON", 800, None, 1),
        "免运费券": ("COUPON", 200, None, 1),
        "9折券": ("COUPON", 1500, None, 2),
        "会员定制帆布袋": ("GOODS", 3000, 100, 1),
    }
    # pages of 2: 2 + 2 + 1, nothing repeated or missed, same order as one big page
    everything = [r["id"] for r in found.values()]
    seen, after, pages = [], None, 0
    while True:
        data = (await api.data("RewardCatalog", {"first": 2, "after": after}))["rewards"]
        pages += 1
        seen += [edge["node"]["id"] for edge in data["edges"]]
        assert len(data["edges"]) == (2 if pages < 3 else 1)
        if not data["pageInfo"]["hasNextPage"]:
            break
        after = data["pageInfo"]["endCursor"]
    assert pages == 3 and seen == everything


async def test_inactive_reward_is_not_listed(api, database):
    await set_reward(database, "满50减10", active=False)
    assert "满50减10" not in await catalog(api)
    assert len(await catalog(api)) == 4


async def test_coupon_reward_issues_a_redemption_coupon_and_debits_points(api):
    # 100 sign-up + 400 from a ¥400 order (regular ×1.0, Monday) = 500
    token, _ = await member(api, "coupon-redeemer", order_yuan=400)
    reward = (await catalog(api))["5元无门槛券"]
    payload = await redeem(api, token, reward["id"], "buy-5-off")
    assert payload["userErrors"] == []
    redemption = payload["redemption"]
    assert redemption["pointsSpent"] == 500
    assert redemption["reward"] == {"id": reward["id"], "name": "5元无门槛券"}
    assert payload["member"]["pointsBalance"] == 0  # 500 − 500
    coupon = redemption["coupon"]
    assert coupon["title"] == "5元无门槛券"
    assert coupon["status"] == "AVAILABLE"
    # issued on local 2026-03-10: valid until the end of 2026-03-10 + 30 days = 2026-04-09
    assert instant(coupon["validUntil"]) == datetime(2026, 4, 9, 23, 59, 59, tzinfo=CST)
    held = await api.data("MyCoupons", {"first": 100, "status": "AVAILABLE"}, token=token, now=REDEEM_AT)
    node = next(e["node"] for e in held["me"]["coupons"]["edges"] if e["node"]["id"] == coupon["id"])
    assert (node["source"], node["kind"], node["minSpend"], node["discountAmount"]) == ("REDEMPTION", "AMOUNT_OFF", 0, 500)
    history = (await api.data("PointHistory", {"first": 1}, token=token, now=REDEEM_AT))["me"]["pointHistory"]
    newest = history["edges"][0]["node"]
    assert (newest["kind"], newest["delta"], newest["balanceAfter"], newest["expiresAt"]) == ("REDEMPTION", -500, 0, None)
    # nothing left: a second redemption with a new key is refused
    assert codes(await redeem(api, token, reward["id"], "buy-5-off-again")) == ["INSUFFICIENT_POINTS"]


async def test_redemption_coupon_validity_counts_from_the_local_issue_date(api):
    token, _ = await member(api, "late-night", order_yuan=400)  # 500 points
    five_off = (await catalog(api))["5元无门槛券"]["id"]
    # 2026-03-09T16:30Z is 2026-03-10T00:30 local: issued on local March 10, valid until the end of April 9
    payload = await redeem(api, token, five_off, "midnight", now="2026-03-09T16:30:00Z")
    assert payload["userErrors"] == []
    assert instant(payload["redemption"]["coupon"]["validUntil"]) == datetime(2026, 4, 9, 23, 59, 59, tzinfo=CST)


async def test_goods_reward_decrements_stock_and_has_no_coupon(api):
    # ¥2900 on a Monday: 2900 points at regular ×1.0, 2900 growth → gold (silver + gold gifts)
    token, _ = await member(api, "goods-redeemer", order_yuan=2900)
    before = await state(api, token)
    assert before["balance"] >= 3000
    bag = before["catalog"]["会员定制帆布袋"]
    payload = await redeem(api, token, bag["id"], "bag")
    assert payload["userErrors"] == []
    assert payload["redemption"]["pointsSpent"] == 3000
    assert payload["redemption"]["coupon"] is None
    assert payload["redemption"]["reward"]["name"] == "会员定制帆布袋"
    assert payload["member"]["pointsBalance"] == before["balance"] - 3000
    after = await state(api, token)
    assert after["catalog"]["会员定制帆布袋"]["stock"] == 99  # 100 − 1
    assert after["coupons"]["totalCount"] == before["coupons"]["totalCount"]


async def test_last_item_in_stock_then_out_of_stock(api, database):
    await set_reward(database, "会员定制帆布袋", stock=1)
    # ¥5900: 100 + 5900 points + silver/gold/diamond gifts, enough for two bags
    token, _ = await member(api, "last-bag", order_yuan=5900)
    bag = (await catalog(api))["会员定制帆布袋"]
    assert bag["stock"] == 1
    assert (await redeem(api, token, bag["id"], "first"))["userErrors"] == []
    before = await state(api, token)
    assert before["catalog"]["会员定制帆布袋"]["stock"] == 0
    assert before["balance"] >= 3000  # still enough points: stock is what refuses
    assert codes(await redeem(api, token, bag["id"], "second")) == ["OUT_OF_STOCK"]
    assert await state(api, token) == before


async def test_not_found_comes_first(api, database):
    # a regular member with 100 points: would also fail tier, stock and balance checks
    token, member_id = await member(api, "not-found")
    await set_reward(database, "9折券", active=False, stock=0)
    before = await state(api, token)
    unknown = base64.b64encode(b"Reward:987654").decode()
    for reward_id in (unknown, member_id):  # unknown reward; a well-formed ID of another type
        payload = await redeem(api, token, reward_id, f"nf-{reward_id}")
        assert codes(payload) == ["NOT_FOUND"]
        assert payload["redemption"] is None
    # inactive 9折券 (silver+, 1500 points, stock 0): NOT_FOUND before TIER_TOO_LOW/OUT_OF_STOCK/INSUFFICIENT_POINTS
    async with database.transaction() as conn:
        inactive_pk = (await conn.execute(rewards.select().where(rewards.c.name == "9折券"))).one().id
    inactive_id = base64.b64encode(f"Reward:{inactive_pk}".encode()).decode()
    assert codes(await redeem(api, token, inactive_id, "inactive")) == ["NOT_FOUND"]
    # a malformed ID is bad input
    assert codes(await redeem(api, token, "!!not-an-id!!", "malformed")) == ["INVALID_INPUT"]
    assert await state(api, token) == before


async def test_tier_too_low_comes_before_stock_and_balance(api, database):
    token, _ = await member(api, "tier-first")  # regular, 100 points
    await set_reward(database, "9折券", stock=0)  # silver+, 1500 points, now out of stock too
    before = await state(api, token)
    payload = await redeem(api, token, before["catalog"]["9折券"]["id"], "tier")
    assert codes(payload) == ["TIER_TOO_LOW"]
    assert await state(api, token) == before


async def test_out_of_stock_comes_before_balance(api, database):
    token, _ = await member(api, "stock-first")  # regular, 100 points; the bag needs tier 1 and 3000 points
    await set_reward(database, "会员定制帆布袋", stock=0)
    before = await state(api, token)
    assert codes(await redeem(api, token, before["catalog"]["会员定制帆布袋"]["id"], "stock")) == ["OUT_OF_STOCK"]
    assert await state(api, token) == before


async def test_insufficient_points_comes_last(api, database):
    token, _ = await member(api, "points-last")  # regular, 100 points
    before = await state(api, token)
    payload = await redeem(api, token, before["catalog"]["会员定制帆布袋"]["id"], "points")
    assert codes(payload) == ["INSUFFICIENT_POINTS"]
    assert payload["redemption"] is None
    assert await state(api, token) == before
    assert before["catalog"]["会员定制帆布袋"]["stock"] == 100


async def test_silver_passes_the_tier_check(api, database):
    # ¥500: 500 growth → silver; 100 + 500 + 100 gift points, well under 9折券's 1500
    token, _ = await member(api, "silver-checks", order_yuan=500)
    tenth_off = (await catalog(api))["9折券"]["id"]
    assert codes(await redeem(api, token, tenth_off, "a")) == ["INSUFFICIENT_POINTS"]
    await set_reward(database, "9折券", stock=0)
    assert codes(await redeem(api, token, tenth_off, "b")) == ["OUT_OF_STOCK"]


async def test_same_key_replays_and_different_reward_is_key_reused(api):
    # 100 + 400 = 500 points
    token, _ = await member(api, "replayer", order_yuan=400)
    found = await catalog(api)
    shipping, five_off = found["免运费券"]["id"], found["5元无门槛券"]["id"]
    first = await redeem(api, token, shipping, "k1")
    assert first["userErrors"] == []
    assert first["member"]["pointsBalance"] == 300  # 500 − 200
    after_first = await state(api, token)
    assert after_first["coupons"]["totalCount"] == 2  # the sign-up coupon + this one
    again = await redeem(api, token, shipping, "k1", now="2026-03-10T10:05:00+08:00")
    assert again == first
    assert await state(api, token) == after_first
    reused = await redeem(api, token, five_off, "k1")
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert reused["redemption"] is None
    assert await state(api, token) == after_first
    # a new key redeems again
    second = await redeem(api, token, shipping, "k2")
    assert second["userErrors"] == []
    assert second["redemption"]["id"] != first["redemption"]["id"]
    assert second["redemption"]["coupon"]["id"] != first["redemption"]["coupon"]["id"]
    assert second["member"]["pointsBalance"] == 100  # 300 − 200
    # the first key still replays its answer although the balance would no longer cover it... once more
    replay = await redeem(api, token, shipping, "k1")
    assert replay["userErrors"] == []
    assert replay["redemption"] == first["redemption"]
    assert replay["member"]["pointsBalance"] == 100


async def test_points_are_spent_from_the_soonest_expiring_lots(api):
    # Three lots, each expiring at the end of the same local date a year later:
    #   100 sign-up on 2025-01-10 → expires 2026-01-10
    #   200 from a ¥200 order on Wednesday 2025-03-05 → expires 2026-03-05
    #   200 from a ¥200 order on Wednesday 2025-06-11 → expires 2026-06-11   (growth 400: still regular)
    token, member_id = await api.login("lots", now="2025-01-10T10:00:00+08:00")
    await order(api, member_id, "lots-1", 200, "2025-03-05T10:00:00+08:00")
    await order(api, member_id, "lots-2", 200, "2025-06-11T10:00:00+08:00")
    shipping = (await catalog(api, "2025-07-01T10:00:00+08:00"))["免运费券"]["id"]
    # 200 points: all 100 of the January lot, then 100 of the March lot; the June lot is untouched
    payload = await redeem(api, token, shipping, "lots", now="2025-07-01T10:00:00+08:00")
    assert payload["userErrors"] == []
    assert payload["member"]["pointsBalance"] == 300

    async def expiring(now):
        return (await api.data("MemberHome", token=token, now=now))["me"]["pointsExpiringSoon"]

    # the January lot is used up: nothing expires in the 30 days before 2026-01-10
    assert await expiring("2025-12-20T10:00:00+08:00") is None
    # 100 of the March lot are left
    soon = await expiring("2026-02-20T10:00:00+08:00")
    assert soon["points"] == 100
    assert instant(soon["expiresAt"]) == datetime(2026, 3, 5, 23, 59, 59, tzinfo=CST)
    # the June lot is whole
    soon = await expiring("2026-05-20T10:00:00+08:00")
    assert soon["points"] == 200
    assert instant(soon["expiresAt"]) == datetime(2026, 6, 11, 23, 59, 59, tzinfo=CST)


async def test_redeem_requires_a_member(api):
    reward_id = (await catalog(api))["免运费券"]["id"]
    result = await api.op("RedeemReward", {"rewardId": reward_id, "idempotencyKey": "x"})
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_catalog_and_tiered_goods(api):
    found = await catalog(api)
    assert {name: (r["kind"], r["pointsCost"], r["stock"], r["minTierLevel"]) for name, r in found.items()} == {
        "2元无门槛券": ("COUPON", 20, None, 1),
        "新品试吃装": ("GOODS", 80, 500, 2),
    }
    green, _ = await member(api, "fresh-green")  # no sign-up coins: 0
    assert codes(await redeem(api, green, found["新品试吃装"]["id"], "g1")) == ["TIER_TOO_LOW"]
    assert codes(await redeem(api, green, found["2元无门槛券"]["id"], "g2")) == ["INSUFFICIENT_POINTS"]
    # ¥1000 on a Monday: floor(100000 / 1000) = 100 coins, 1000 growth → red
    red, _ = await member(api, "fresh-red", order_yuan=1000)
    payload = await redeem(api, red, found["新品试吃装"]["id"], "r1")
    assert payload["userErrors"] == []
    assert payload["redemption"]["coupon"] is None
    assert payload["member"]["pointsBalance"] == 20  # 100 − 80
    assert (await catalog(api))["新品试吃装"]["stock"] == 499
    payload = await redeem(api, red, found["2元无门槛券"]["id"], "r2")
    assert payload["userErrors"] == []
    assert payload["redemption"]["coupon"]["title"] == "2元无门槛券"
    assert payload["member"]["pointsBalance"] == 0  # 20 − 20
