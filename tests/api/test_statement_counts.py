"""A request's SQL statement count must not grow with the number of items it returns.

Each read operation of the member app is measured with 1 item and with 50 items (built through
the real API where practical, catalog rows inserted with SQLAlchemy Core), and the two counts must
be equal and small. Counts are printed (`pytest -s`) so they can be reported.

Measured counts (the same on PostgreSQL and SQLite):
  MemberHome 1: the session, with the member, the catalog version, the points expiring soon and the
    check-ins of today and yesterday (a registered operation known to show them).
  MyCoupons(first: 50) 3: session with member, coupon page, coupon count.
  PointHistory(first: 50) 2: session with member, ledger page.
  Tiers 3 after a change to the catalog (its version, then tiers with the version, benefits); 1 when
    the process holds the current catalog (the version).
  RewardCatalog(first: 50) 1: reward page.
  MyReferrals(first: 50) 3: session with member, referral page, referral count (the code is computed).
A member request's access token names its session, which is checked to be live (one statement, so
that logout takes effect at once) and read with the member's row; the tiers and benefits are held by
the process and read again only when their version changed. The catalog queries are sent without a token.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import delete, func, insert, select, update

from persistence.tables import benefits, rewards, tiers
from tests.conftest import counting_statements

SHANGHAI = "+08:00"
# Monday 2 March 2026 (no member-day doubling); the rich member checks in on 2..7 March.
DAY_1 = date(2026, 3, 2)
CHECK_IN_DAYS = 6
LAST_DAY = DAY_1 + timedelta(days=CHECK_IN_DAYS - 1)  # Saturday 7 March 2026
FREE_SHIPPING_COST = 200

# Bounds: the counts listed above.
BOUNDS = {"MemberHome": 1, "MyCoupons": 3, "PointHistory": 2, "Tiers": 3, "RewardCatalog": 1, "MyReferrals": 3}


def at(day: date, clock: str = "12:00:00") -> str:
    return f"{day.isoformat()}T{clock}{SHANGHAI}"


async def measured(api, database, name: str, variables: dict | None = None, **kw) -> tuple[int, dict]:
    with counting_statements(database) as counter:
        data = await api.data(name, variables or {}, **kw)
    return counter.count, data


def check_count(name: str, one: int, fifty: int) -> None:
    print(f"\n{name}: {one} statements with 1 item, {fifty} with 50 items")
    assert one == fifty, f"{name}: {one} statements with 1 item but {fifty} with 50"
    assert fifty <= BOUNDS[name], f"{name}: {fifty} statements, expected at most {BOUNDS[name]}"


async def reward_id_named(api, name: str) -> str:
    edges = (await api.data("RewardCatalog", {"first": 50}))["rewards"]["edges"]
    return next(e["node"]["id"] for e in edges if e["node"]["name"] == name)


async def build_rich_member(api) -> str:
    """A member with exactly 50 coupons and 50 ledger entries, all through the API.

    Order of ¥6,500 on Monday 2 March at STORE, tier before the order regular (×1.0):
      points floor(650000/100) × 1.0 × 1 = 6500; growth 6500 ≥ 5000 → diamond at once, so the
      silver, gold and diamond gifts: 100 + 300 + 800 = 1200 points, 2 + 3 + 5 = 10 coupons.
    Balance 100 (sign-up) + 6500 + 1200 = 7800; check-ins 2..7 March give 1+2+3+4+5+6 = 21 → 7821.
    39 redemptions of 免运费券 (200 each) spend 7800, leaving 21.
    Coupons: 1 新人礼券 + 10 upgrade gifts + 39 redeemed = 50.
    Ledger: SIGNUP + ORDER + 3 UPGRADE_GIFT + 6 CHECK_IN + 39 REDEMPTION = 50.
    """
    token, member_id = await api.login("rich", now=at(DAY_1, "09:00:00"))
    order = await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": "rich-order", "amount": 650000, "channel": "STORE",
        "paidAt": at(DAY_1, "10:00:00")}}, now=at(DAY_1, "10:00:05"))
    assert order["recordOrder"]["userErrors"] == []
    assert order["recordOrder"]["member"]["pointsBalance"] == 7800
    assert order["recordOrder"]["member"]["tier"]["code"] == "diamond"
    for n in range(CHECK_IN_DAYS):
        result = await api.data("CheckIn", {"idempotencyKey": f"ci-{n}"}, token=token,
                                now=at(DAY_1 + timedelta(days=n), "08:00:00"))
        assert result["checkIn"]["userErrors"] == []
    reward_id = await reward_id_named(api, "免运费券")
    redemptions = 7800 // FREE_SHIPPING_COST  # 39
    for n in range(redemptions):
        result = await api.data("RedeemReward", {"rewardId": reward_id, "idempotencyKey": f"r-{n}"},
                                token=token, now=at(LAST_DAY, "09:00:00"))
        assert result["redeemReward"]["userErrors"] == [], result
    assert result["redeemReward"]["member"]["pointsBalance"] == 7821 - 39 * 200  # 21
    return token


async def test_member_reads_cost_the_same_with_1_and_50_items(api, database):
    # 39 extra diamond benefits: a diamond member sees the program's 2 + 3 + 3 + 3 = 11 plus 39 = 50
    # benefits, a regular member sees the 2 regular ones.
    async with database.transaction() as conn:
        await conn.execute(insert(benefits), [
            {"code": f"EXTRA_{n}", "tier_code": "diamond", "name": f"附加权益{n}", "description": "", "sort_order": 100 + n}
            for n in range(39)])
    now = at(LAST_DAY, "12:00:00")
    one_token, _ = await api.login("single", now=at(LAST_DAY, "11:00:00"))  # 1 coupon, 1 ledger entry
    rich_token = await build_rich_member(api)

    home_one, data = await measured(api, database, "MemberHome", token=one_token, now=now)
    assert len(data["me"]["benefits"]) == 2 and data["me"]["tier"]["code"] == "regular"
    home_fifty, data = await measured(api, database, "MemberHome", token=rich_token, now=now)
    assert len(data["me"]["benefits"]) == 50 and data["me"]["nextTier"] is None
    assert data["me"]["checkInStatus"] == {"checkedInToday": True, "streakDays": 6, "todayReward": 6}
    check_count("MemberHome", home_one, home_fifty)
    # Eleven months on, the remaining 21 points (the check-in lots, expiring 2..7 March 2027) are
    # within 30 days: the aggregate is still one statement.
    later = at(date(2027, 2, 20))
    home_later, data = await measured(api, database, "MemberHome", token=rich_token, now=later)
    assert data["me"]["pointsExpiringSoon"]["points"] == 21
    assert home_later == home_fifty

    coupons_one, data = await measured(api, database, "MyCoupons", {"first": 50}, token=one_token, now=now)
    assert data["me"]["coupons"]["totalCount"] == 1 and len(data["me"]["coupons"]["edges"]) == 1
    coupons_fifty, data = await measured(api, database, "MyCoupons", {"first": 50}, token=rich_token, now=now)
    assert data["me"]["coupons"]["totalCount"] == 50 and len(data["me"]["coupons"]["edges"]) == 50
    assert data["me"]["coupons"]["pageInfo"]["hasNextPage"] is False
    check_count("MyCoupons", coupons_one, coupons_fifty)
    # A second page (after a cursor) and a status filter cost the same.
    cursor = data["me"]["coupons"]["edges"][9]["cursor"]
    page_two, data = await measured(api, database, "MyCoupons", {"first": 50, "after": cursor},
                                    token=rich_token, now=now)
    assert len(data["me"]["coupons"]["edges"]) == 40
    assert page_two == coupons_fifty
    filtered, data = await measured(api, database, "MyCoupons", {"first": 50, "status": "AVAILABLE"},
                                    token=rich_token, now=now)
    assert data["me"]["coupons"]["totalCount"] == 50
    assert filtered == coupons_fifty

    history_one, data = await measured(api, database, "PointHistory", {"first": 50}, token=one_token, now=now)
    assert [e["node"]["kind"] for e in data["me"]["pointHistory"]["edges"]] == ["SIGNUP"]
    history_fifty, data = await measured(api, database, "PointHistory", {"first": 50}, token=rich_token, now=now)
    assert len(data["me"]["pointHistory"]["edges"]) == 50
    assert data["me"]["pointHistory"]["pageInfo"]["hasNextPage"] is False
    check_count("PointHistory", history_one, history_fifty)


async def test_tiers_cost_the_same_with_1_and_50_tiers(api, database):
    # 1 tier: only `regular` (and its 2 benefits) left in the catalog (no member holds a tier).
    async with database.transaction() as conn:
        await conn.execute(delete(benefits).where(benefits.c.tier_code != "regular"))
        await conn.execute(delete(tiers).where(tiers.c.code != "regular"))
    one, data = await measured(api, database, "Tiers")
    assert [t["code"] for t in data["tiers"]] == ["regular"]

    # 50 tiers: 49 more at levels 10..58, each with one benefit of its own.
    async with database.transaction() as conn:
        await conn.execute(insert(tiers), [
            {"code": f"extra{level}", "name": f"扩展{level}", "level": level, "growth_threshold": 10000 + level,
             "points_multiplier": Decimal("1.0"), "retention_deduction": 0} for level in range(10, 59)])
        await conn.execute(insert(benefits), [
            {"code": f"EXTRA_{level}", "tier_code": f"extra{level}", "name": f"权益{level}", "description": "",
             "sort_order": 0} for level in range(10, 59)])
    fifty, data = await measured(api, database, "Tiers")
    assert len(data["tiers"]) == 50
    # The top tier holds regular's 2 benefits and the 49 added ones.
    assert len(data["tiers"][-1]["benefits"]) == 2 + 49
    check_count("Tiers", one, fifty)


async def test_reward_catalog_costs_the_same_with_1_and_50_rewards(api, database):
    # 1 reward: every reward but the first retired.
    async with database.transaction() as conn:
        first_id = (await conn.execute(select(func.min(rewards.c.id)))).scalar_one()
        await conn.execute(update(rewards).where(rewards.c.id != first_id).values(active=False))
    one, data = await measured(api, database, "RewardCatalog", {"first": 50})
    assert len(data["rewards"]["edges"]) == 1

    # 50 rewards: the program's 5 active again and 45 goods added.
    async with database.transaction() as conn:
        await conn.execute(update(rewards).values(active=True))
        await conn.execute(insert(rewards), [
            {"code": f"extra-{n}", "name": f"加购礼品{n}", "description": "", "kind": "GOODS", "points_cost": 100 + n,
             "stock": 10, "min_tier_level": 1, "active": True, "sort_order": 1000 + n} for n in range(45)])
    fifty, data = await measured(api, database, "RewardCatalog", {"first": 50})
    assert len(data["rewards"]["edges"]) == 50
    assert data["rewards"]["pageInfo"]["hasNextPage"] is False
    check_count("RewardCatalog", one, fifty)
    # The app sends its token with every request: the catalog is the same whoever asks, so the session
    # is not read for it (a bad token changes nothing either).
    token, _ = await api.login("catalog-reader")
    with_token, signed_in = await measured(api, database, "RewardCatalog", {"first": 50}, token=token)
    _, bad_token = await measured(api, database, "RewardCatalog", {"first": 50}, token="not-a-token")
    assert (with_token, signed_in, bad_token) == (fifty, data, data)


async def test_my_referrals_cost_the_same_with_1_and_50_referrals(api, database):
    """50 members sign up with the rich referrer's code, 1 with the single one's; one of the 50 has paid
    an order, so the statuses differ too."""
    async def referrer(code: str) -> tuple[str, str]:
        token, _ = await api.login(code, now=at(DAY_1, "08:00:00"))
        return token, (await api.data("MyReferrals", {"first": 1}, token=token))["me"]["referralCode"]

    async def join(code: str, referral: str) -> str:
        payload = (await api.data("LoginWithReferral", {"code": code, "referralCode": referral},
                                  now=at(DAY_1, "09:00:00")))["loginWithWeChat"]
        assert payload["userErrors"] == [], payload
        return payload["member"]["id"]

    one_token, one_code = await referrer("referrer-of-one")
    rich_token, rich_code = await referrer("referrer-of-fifty")
    await join("referee-of-one", one_code)
    referees = [await join(f"referee-{n}", rich_code) for n in range(50)]
    paid = at(DAY_1, "10:00:00")
    order = await api.integration("RecordOrder", {"input": {"memberId": referees[0], "externalId": "referee-order",
                                                            "amount": 5000, "channel": "APP", "paidAt": paid}}, now=paid)
    assert order["recordOrder"]["userErrors"] == []
    now = at(LAST_DAY, "12:00:00")

    one, data = await measured(api, database, "MyReferrals", {"first": 50}, token=one_token, now=now)
    assert data["me"]["referrals"]["totalCount"] == 1 and len(data["me"]["referrals"]["edges"]) == 1
    fifty, data = await measured(api, database, "MyReferrals", {"first": 50}, token=rich_token, now=now)
    assert data["me"]["referrals"]["totalCount"] == 50 and len(data["me"]["referrals"]["edges"]) == 50
    assert {e["node"]["status"] for e in data["me"]["referrals"]["edges"]} == {"PENDING", "QUALIFYING"}
    check_count("MyReferrals", one, fifty)
    # A second page (after a cursor) costs the same.
    cursor = (await api.data("MyReferrals", {"first": 10}, token=rich_token, now=now))["me"]["referrals"][
        "pageInfo"]["endCursor"]
    page_two, data = await measured(api, database, "MyReferrals", {"first": 50, "after": cursor},
                                    token=rich_token, now=now)
    assert len(data["me"]["referrals"]["edges"]) == 40
    assert page_two == fifty
