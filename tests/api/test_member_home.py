"""MemberHome: a member's whole home screen for constructed members.

Standard tiers: regular 0 / silver 500 / gold 2000 / diamond 5000 growth; upgrade gifts 100 / 300 / 800
points; benefits cumulative (2 / 5 / 8 / 11). tierExpiresAt: same local wall time 12 months after the
upgrade, null on the base tier. pointsExpiringSoon: points in lots expiring within 30 days, with the
earliest expiry, or null.
"""
from datetime import datetime, timedelta, timezone

import pytest

CST = timezone(timedelta(hours=8))

REGULAR_BENEFITS = {"POINTS", "MEMBER_EVENTS"}
SILVER_BENEFITS = REGULAR_BENEFITS | {"BIRTHDAY_GIFT", "MONTHLY_COUPONS", "PRIORITY_SHIPPING"}
GOLD_BENEFITS = SILVER_BENEFITS | {"MEMBER_PRICE", "EXCLUSIVE_EVENTS", "DEDICATED_SERVICE"}
DIAMOND_BENEFITS = GOLD_BENEFITS | {"POINTS_BOOST", "ONE_ON_ONE_SERVICE", "FREE_SHIPPING"}


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def home(api, token, now):
    return (await api.data("MemberHome", token=token, now=now))["me"]


async def order(api, member_id, external_id, yuan, paid_at) -> dict:
    payload = (await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": external_id, "amount": yuan * 100, "channel": "APP",
        "paidAt": paid_at}}, now=paid_at))["recordOrder"]
    assert payload["userErrors"] == []
    return payload


async def tiers_by_code(api) -> dict:
    return {t["code"]: t for t in (await api.data("Tiers"))["tiers"]}


async def test_new_member_home(api):
    token, member_id = await api.login("fresh-home", now="2026-03-01T10:00:00+08:00")
    me = await home(api, token, "2026-03-01T10:00:00+08:00")
    tiers = await tiers_by_code(api)
    assert me["id"] == member_id
    assert isinstance(me["memberNo"], str) and me["memberNo"]
    assert (me["nickname"], me["phoneMasked"], me["birthday"]) == (None, None, None)
    assert me["tier"] == {"id": tiers["regular"]["id"], "code": "regular", "name": "普通会员", "level": 1}
    assert me["nextTier"] == {"id": tiers["silver"]["id"], "code": "silver", "name": "银牌会员", "level": 2,
                              "growthThreshold": 500}
    assert me["growthValue"] == 0
    assert me["growthToNextTier"] == 500  # 500 − 0
    assert me["tierExpiresAt"] is None
    assert me["pointsBalance"] == 100  # sign-up
    assert me["pointsExpiringSoon"] is None  # the sign-up lot lasts a year
    assert {b["code"] for b in me["benefits"]} == REGULAR_BENEFITS and len(me["benefits"]) == 2
    assert me["checkInStatus"] == {"checkedInToday": False, "streakDays": 0, "todayReward": 1}


async def test_member_numbers_are_unique(api):
    numbers = set()
    for code in ("n1", "n2", "n3"):
        token, _ = await api.login(code)
        numbers.add((await home(api, token, None))["memberNo"])
    assert len(numbers) == 3


async def test_constructed_silver_member_snapshot(api):
    token, member_id = await api.login("silver-home", now="2026-02-27T10:00:00+08:00")  # +100 sign-up
    profile = await api.data("UpdateProfile", {"input": {"nickname": "小红", "birthday": "1992-07-15"}},
                             token=token, now="2026-02-27T10:05:00+08:00")
    assert profile["updateProfile"]["pointsAwarded"] == 5  # birthday task
    # Friday 2026-02-27, ¥499: 499 points, 499 growth (still regular)
    await order(api, member_id, "feb", 499, "2026-02-27T11:00:00+08:00")
    # Monday 2026-03-02 09:30, ¥101: 101 points at regular ×1.0; growth 600 → silver, +100 gift
    await order(api, member_id, "mar", 101, "2026-03-02T09:30:00+08:00")
    checked = await api.data("CheckIn", {"idempotencyKey": "home"}, token=token, now="2026-03-02T10:00:00+08:00")
    assert checked["checkIn"]["checkIn"]["pointsAwarded"] == 1

    me = await home(api, token, "2026-03-02T12:00:00+08:00")
    tiers = await tiers_by_code(api)
    assert me["id"] == member_id
    assert (me["nickname"], me["phoneMasked"], me["birthday"]) == ("小红", None, "1992-07-15")
    assert me["tier"] == {"id": tiers["silver"]["id"], "code": "silver", "name": "银牌会员", "level": 2}
    assert me["nextTier"] == {"id": tiers["gold"]["id"], "code": "gold", "name": "金牌会员", "level": 3,
                              "growthThreshold": 2000}
    assert me["growthValue"] == 600  # 499 + 101
    assert me["growthToNextTier"] == 1400  # 2000 − 600
    # upgraded 2026-03-02 09:30 local: valid to the same wall time 12 months later
    assert instant(me["tierExpiresAt"]) == datetime(2027, 3, 2, 9, 30, tzinfo=CST)
    # 100 sign-up + 5 birthday + 499 + 101 + 100 silver gift + 1 check-in
    assert me["pointsBalance"] == 806
    assert me["pointsExpiringSoon"] is None
    assert {b["code"] for b in me["benefits"]} == SILVER_BENEFITS and len(me["benefits"]) == 5
    assert all(b["name"] and b["description"] and b["id"] for b in me["benefits"])
    assert me["checkInStatus"] == {"checkedInToday": True, "streakDays": 1, "todayReward": 1}


@pytest.mark.parametrize("yuan, code, level, benefits, next_code, to_next", [
    (1999, "silver", 2, SILVER_BENEFITS, "gold", 1),            # 2000 − 1999
    (2000, "gold", 3, GOLD_BENEFITS, "diamond", 3000),          # 5000 − 2000
    (5000, "diamond", 4, DIAMOND_BENEFITS, None, None),
    (8000, "diamond", 4, DIAMOND_BENEFITS, None, None),         # top tier: nothing next, however much growth
])
async def test_tier_ladder_in_the_home(api, yuan, code, level, benefits, next_code, to_next):
    token, member_id = await api.login(f"ladder-{yuan}", now="2026-03-02T09:00:00+08:00")
    await order(api, member_id, f"ladder-{yuan}", yuan, "2026-03-02T10:00:00+08:00")
    me = await home(api, token, "2026-03-02T12:00:00+08:00")
    tiers = await tiers_by_code(api)
    assert (me["tier"]["code"], me["tier"]["level"]) == (code, level)
    assert me["growthValue"] == yuan
    assert {b["code"] for b in me["benefits"]} == benefits
    assert len(me["benefits"]) == len(benefits)
    # the benefits are those the Tiers list gives every tier up to this one
    listed = {b["id"] for t in tiers.values() if t["level"] <= level for b in t["benefits"]}
    assert {b["id"] for b in me["benefits"]} == listed
    assert me["growthToNextTier"] == to_next
    if next_code is None:
        assert me["nextTier"] is None
    else:
        assert me["nextTier"]["code"] == next_code
        assert me["growthToNextTier"] == me["nextTier"]["growthThreshold"] - me["growthValue"]
    assert instant(me["tierExpiresAt"]) == datetime(2027, 3, 2, 10, 0, tzinfo=CST)


async def test_diamond_has_all_eleven_benefits(api):
    token, member_id = await api.login("diamond-home", now="2026-03-02T09:00:00+08:00")
    await order(api, member_id, "d", 5000, "2026-03-02T10:00:00+08:00")
    me = await home(api, token, "2026-03-02T12:00:00+08:00")
    assert len(me["benefits"]) == 11
    assert len({b["id"] for b in me["benefits"]}) == 11
    # 100 sign-up + 5000 order (regular ×1.0 before the order) + 100 + 300 + 800 gifts
    assert me["pointsBalance"] == 6300


async def test_points_expiring_soon(api):
    # 100 sign-up on 2026-03-01 → lot expires 2027-03-01 23:59:59 local
    token, member_id = await api.login("expiring", now="2026-03-01T10:00:00+08:00")
    # ¥200 on Friday 2026-03-20 → 200 points, lot expires 2027-03-20 23:59:59 local
    await order(api, member_id, "later", 200, "2026-03-20T10:00:00+08:00")

    async def soon(now):
        return (await home(api, token, now))["pointsExpiringSoon"]

    assert await soon("2026-12-01T10:00:00+08:00") is None
    # 340 days after sign-up: only the first lot is within 30 days
    found = await soon("2027-02-04T10:00:00+08:00")
    assert found["points"] == 100
    assert instant(found["expiresAt"]) == datetime(2027, 3, 1, 23, 59, 59, tzinfo=CST)
    # both lots within 30 days: their sum, and the earlier expiry
    found = await soon("2027-02-25T10:00:00+08:00")
    assert found["points"] == 300
    assert instant(found["expiresAt"]) == datetime(2027, 3, 1, 23, 59, 59, tzinfo=CST)
    # the first lot has lapsed: only the second is still to expire
    found = await soon("2027-03-02T00:00:00+08:00")
    assert found["points"] == 200
    assert instant(found["expiresAt"]) == datetime(2027, 3, 20, 23, 59, 59, tzinfo=CST)
    assert await soon("2027-03-21T00:00:00+08:00") is None


async def test_member_home_needs_a_member_token(api):
    result = await api.op("MemberHome")
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    result = await api.op("MemberHome", api_key=api.api_key)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_home(api):
    token, member_id = await api.login("fresh-home", now="2026-03-01T10:00:00+08:00")
    me = await home(api, token, "2026-03-01T10:00:00+08:00")
    assert (me["tier"]["code"], me["tier"]["name"]) == ("green", "青番茄会员")
    assert me["nextTier"]["code"] == "red" and me["growthToNextTier"] == 1000
    assert me["pointsBalance"] == 0
    assert {b["code"] for b in me["benefits"]} == {"POINTS", "MEMBER_EVENTS"}
    # ¥1200 on Monday 03-02 → 1200 growth → red: red adds MONTHLY_COUPONS and BIRTHDAY_GIFT
    await order(api, member_id, "fresh", 1200, "2026-03-02T10:00:00+08:00")
    me = await home(api, token, "2026-03-02T12:00:00+08:00")
    assert me["tier"]["code"] == "red"
    assert me["growthToNextTier"] == 2800  # 4000 − 1200
    assert me["pointsBalance"] == 120  # floor(120000 / 1000); the red gift has coupons only
    assert {b["code"] for b in me["benefits"]} == {"POINTS", "MEMBER_EVENTS", "MONTHLY_COUPONS", "BIRTHDAY_GIFT"}


async def test_a_change_to_the_catalog_shows_at_the_next_request(api, database):
    """The process holds the tiers and benefits; every change to them bumps catalog_version (triggers),
    which a member's request reads with its session: the next request shows the change, without
    another statement for the version."""
    from sqlalchemy import delete, insert, update

    from persistence.tables import benefits, tiers
    token, _ = await api.login("catalog-change")
    now = datetime(2026, 3, 2, 12, tzinfo=CST).isoformat()
    assert {b["code"] for b in (await home(api, token, now))["benefits"]} == REGULAR_BENEFITS
    async with database.transaction() as conn:
        await conn.execute(insert(benefits).values(code="WELCOME_TEA", tier_code="regular", name="迎宾茶",
                                                   description="", sort_order=99))
    assert {b["code"] for b in (await home(api, token, now))["benefits"]} == REGULAR_BENEFITS | {"WELCOME_TEA"}
    async with database.transaction() as conn:
        await conn.execute(update(tiers).where(tiers.c.code == "silver").values(name="白银会员"))
        await conn.execute(delete(benefits).where(benefits.c.code == "WELCOME_TEA"))
    me = await home(api, token, now)
    assert {b["code"] for b in me["benefits"]} == REGULAR_BENEFITS and me["nextTier"]["name"] == "白银会员"
    assert (await tiers_by_code(api))["silver"]["name"] == "白银会员"
