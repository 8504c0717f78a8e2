"""recordOrder through the integration API: points, growth, tiers, upgrade gifts, idempotency, bad input.

Numbers come from docs/standard-program.md and docs/fresh-grocery-program.md; each expected
value is worked out by hand in a comment next to it.
Calendar (Asia/Shanghai): 2026-03-02 is a Monday, 2026-03-03 a Tuesday (member day), 2026-03-04 a Wednesday.
"""
from __future__ import annotations

import asyncio

import pytest

from api.core.ids import to_global_id
from tests.api.member_views import FRI, MON, THU, TUE, WED, MemberViews, dt

# ----------------------------------------------------------------------------- helpers


home, history, coupons, assert_ledger_consistent, snapshot = MemberViews(WED).bound()


async def member(api, code: str, now: str = WED) -> tuple[str, str]:
    return await api.login(code, now=now)


def order_input(member_id: str, external_id: str, amount: int, *, channel: str = "APP", paid_at: str = WED,
                shipping_fee: int | None = None) -> dict:
    data = {"memberId": member_id, "externalId": external_id, "amount": amount, "channel": channel, "paidAt": paid_at}
    if shipping_fee is not None:
        data["shippingFee"] = shipping_fee
    return data


async def record(api, member_id: str, external_id: str, amount: int, *, now: str = WED, **kw) -> dict:
    """A recordOrder that must succeed; returns the payload."""
    kw.setdefault("paid_at", now)
    payload = (await api.integration("RecordOrder", {"input": order_input(member_id, external_id, amount, **kw)},
                                     now=now))["recordOrder"]
    assert payload["userErrors"] == [], payload
    return payload


async def record_raw(api, variables_input: dict, now: str = WED) -> dict:
    return (await api.integration("RecordOrder", {"input": variables_input}, now=now))["recordOrder"]


async def refund(api, external_id: str, refund_id: str, amount: int, now: str = WED) -> dict:
    payload = (await api.integration("RefundOrder", {"input": {
        "externalId": external_id, "externalRefundId": refund_id, "amount": amount}}, now=now))["refundOrder"]
    assert payload["userErrors"] == [], payload
    return payload


def kinds(entries: list[dict], kind: str) -> list[int]:
    return [e["delta"] for e in entries if e["kind"] == kind]


def gift_coupons(found: list[dict]) -> list[dict]:
    return [c for c in found if c["source"] == "UPGRADE_GIFT"]


def error_codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


# ----------------------------------------------------------------------------- growth & points arithmetic

async def test_growth_is_one_per_yuan_half_up_and_points_floor_per_full_yuan(api):
    token, mid = await member(api, "g1")
    cases = [
        # amount, points = floor(amount/100) (regular 1.0, Wednesday), growth = yuan half up, 0 under ¥1
        (149, 1, 1),      # ¥1.49 → 1 growth
        (150, 1, 2),      # ¥1.50 → 2 growth, but still only 1 full yuan of points
        (80, 0, 0),       # ¥0.80 → under ¥1: no growth, no points
        (99, 0, 0),       # ¥0.99 → would round to 1, but an order under ¥1 gives 0
        (100, 1, 1),      # exactly ¥1
        (12399, 123, 124),  # ¥123.99 → 123 points, 124 growth
    ]
    growth = 0
    balance = 100  # sign-up gift
    for i, (amount, points, grown) in enumerate(cases):
        payload = await record(api, mid, f"G1-{i}", amount)
        growth += grown
        balance += points
        assert payload["order"]["amount"] == amount
        assert payload["order"]["refundedAmount"] == 0
        assert (payload["order"]["pointsEarned"], payload["order"]["growthEarned"]) == (points, grown), amount
        assert payload["member"]["growthValue"] == growth
        assert payload["member"]["pointsBalance"] == balance
        assert payload["member"]["id"] == mid
    assert (growth, balance) == (128, 226)  # 1+2+0+0+1+124 ; 100 + 1+1+0+0+1+123
    entries = await assert_ledger_consistent(api, token)
    # one ORDER entry per order that earned something, each a lot expiring a year later
    assert sorted(kinds(entries, "ORDER")) == [1, 1, 1, 123]
    for entry in entries:
        if entry["kind"] == "ORDER":
            assert dt(entry["expiresAt"]) == dt("2027-03-04T23:59:59+08:00")


async def test_shipping_fee_earns_nothing(api):
    token, mid = await member(api, "ship")
    payload = await record(api, mid, "SHIP-1", 10000, shipping_fee=5000)
    # ¥100 of goods → 100 points and 100 growth; ¥50 of shipping adds nothing
    assert (payload["order"]["pointsEarned"], payload["order"]["growthEarned"]) == (100, 100)
    payload = await record(api, mid, "SHIP-2", 0, shipping_fee=2000)
    # only shipping: nothing at all
    assert (payload["order"]["pointsEarned"], payload["order"]["growthEarned"]) == (0, 0)
    me = await home(api, token)
    assert (me["pointsBalance"], me["growthValue"]) == (100 + 100, 100)
    await assert_ledger_consistent(api, token)


async def test_channels_third_party_earns_neither_points_nor_growth(api):
    token, mid = await member(api, "chan")
    for channel in ("APP", "MINI_PROGRAM", "STORE"):
        payload = await record(api, mid, f"CH-{channel}", 1234, channel=channel)
        # floor(1234/100) = 12 points; ¥12.34 → 12 growth
        assert (payload["order"]["pointsEarned"], payload["order"]["growthEarned"]) == (12, 12), channel
    # ¥3000 on a third-party platform would reach gold if it counted; it earns nothing
    payload = await record(api, mid, "CH-3P", 300000, channel="THIRD_PARTY")
    assert (payload["order"]["pointsEarned"], payload["order"]["growthEarned"]) == (0, 0)
    assert payload["order"]["amount"] == 300000
    me = await home(api, token)
    assert me["pointsBalance"] == 100 + 3 * 12
    assert me["growthValue"] == 3 * 12
    assert me["tier"]["code"] == "regular"
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "ORDER") == [12, 12, 12]  # no entry for the third-party order
    assert gift_coupons(await coupons(api, token)) == []


# ----------------------------------------------------------------------------- member day (Tuesday)

@pytest.mark.parametrize("paid_at, now, doubled", [
    # late Monday in UTC is Tuesday 01:30 in Shanghai → doubled
    ("2026-03-02T17:30:00Z", WED, True),
    # Tuesday 16:30 UTC is Wednesday 00:30 in Shanghai → not doubled
    ("2026-03-03T16:30:00Z", WED, False),
    # the first second of Tuesday, local
    ("2026-03-03T00:00:00+08:00", WED, True),
    # the last second of Monday, local, reported on a Tuesday: the paid date counts, not the report date
    ("2026-03-02T23:59:59+08:00", TUE, False),
    # paid on Tuesday, reported on Wednesday: still member day
    ("2026-03-03T23:59:59+08:00", THU, True),
    # a Tuesday given with another offset (New York, -05:00): 2026-03-02T20:00-05:00 = 2026-03-03T09:00+08:00
    ("2026-03-02T20:00:00-05:00", WED, True),
])
async def test_tuesday_doubling_follows_the_local_date_of_paid_at(api, paid_at, now, doubled):
    token, mid = await member(api, "tue", now=MON)
    payload = await record(api, mid, "TUE-1", 1234, paid_at=paid_at, now=now)
    # floor(1234/100) = 12 units, ×2 on member day; growth is never doubled: ¥12.34 → 12
    assert payload["order"]["pointsEarned"] == (24 if doubled else 12)
    assert payload["order"]["growthEarned"] == 12
    assert payload["member"]["pointsBalance"] == 100 + (24 if doubled else 12)
    await assert_ledger_consistent(api, token, now)


# ----------------------------------------------------------------------------- tier multiplier

async def test_tier_multiplier_is_the_tier_before_the_order(api):
    token, mid = await member(api, "mult")
    # regular → gold in this order, but it earns at the regular 1.0: 2000 points, not 2400
    p = await record(api, mid, "M-1", 200000)
    assert p["order"]["pointsEarned"] == 2000
    assert p["member"]["tier"]["code"] == "gold"
    balance = 100 + 2000 + 100 + 300  # sign-up + order + silver and gold gifts
    assert p["member"]["pointsBalance"] == balance

    # gold (1.2), Wednesday: floor(12 × 1.2) = floor(14.4) = 14
    p = await record(api, mid, "M-2", 1299)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (14, 13)
    # gold, Tuesday: floor(3 × 1.2 × 2) = floor(7.2) = 7 (not floor(3 × 1.2) × 2 = 6)
    p = await record(api, mid, "M-3", 300, paid_at=TUE)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (7, 3)
    growth = 2000 + 13 + 3
    assert p["member"]["growthValue"] == growth == 2016

    # reach diamond (5000) exactly: 2984 growth, earned at gold: floor(2984 × 1.2) = floor(3580.8) = 3580
    p = await record(api, mid, "M-4", 298400)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (3580, 2984)
    assert p["member"]["tier"]["code"] == "diamond"
    assert p["member"]["growthValue"] == 5000
    balance += 14 + 7 + 3580 + 800  # + diamond gift
    assert p["member"]["pointsBalance"] == balance

    # diamond (1.5), Wednesday: floor(3 × 1.5) = floor(4.5) = 4
    p = await record(api, mid, "M-5", 399)
    assert p["order"]["pointsEarned"] == 4
    # diamond, Tuesday: floor(3 × 1.5 × 2) = 9 (not floor(4.5) × 2 = 8)
    p = await record(api, mid, "M-6", 300, paid_at=TUE)
    assert p["order"]["pointsEarned"] == 9
    balance += 4 + 9
    assert p["member"]["pointsBalance"] == balance
    me = await home(api, token)
    assert me["nextTier"] is None and me["growthToNextTier"] is None  # top tier
    entries = await assert_ledger_consistent(api, token)
    assert sorted(kinds(entries, "UPGRADE_GIFT")) == [100, 300, 800]


# ----------------------------------------------------------------------------- tiers and upgrade gifts

async def test_regular_member_home_shows_next_tier_and_no_expiry(api):
    token, mid = await member(api, "next")
    await record(api, mid, "N-1", 30000)
    me = await home(api, token)
    assert me["tier"]["code"] == "regular"
    assert me["tierExpiresAt"] is None
    assert me["nextTier"]["code"] == "silver"
    assert me["nextTier"]["growthThreshold"] == 500
    assert me["growthToNextTier"] == 500 - 300


async def test_one_order_upgrades_through_every_level_with_each_gift(api):
    now = "2026-03-04T10:15:30+08:00"
    token, mid = await member(api, "multi", now=now)
    p = await record(api, mid, "UP-1", 200000, now=now)
    assert p["member"]["tier"]["code"] == "gold"
    assert p["member"]["growthValue"] == 2000
    # 100 sign-up + 2000 order + 100 silver gift + 300 gold gift
    assert p["member"]["pointsBalance"] == 2500

    me = await home(api, token, now)
    assert me["tier"]["code"] == "gold" and me["tier"]["level"] == 3
    assert me["nextTier"]["code"] == "diamond"
    assert me["growthToNextTier"] == 5000 - 2000
    # valid 12 months from the moment of the upgrade, same local wall time
    assert dt(me["tierExpiresAt"]) == dt("2027-03-04T10:15:30+08:00")
    assert {"MEMBER_PRICE", "BIRTHDAY_GIFT", "POINTS"} <= {b["code"] for b in me["benefits"]}

    entries = await assert_ledger_consistent(api, token, now)
    assert sorted(kinds(entries, "UPGRADE_GIFT")) == [100, 300]
    for entry in entries:
        if entry["kind"] == "UPGRADE_GIFT":
            assert dt(entry["expiresAt"]) == dt("2027-03-04T23:59:59+08:00")

    found = await coupons(api, token, now)
    gifts = gift_coupons(found)
    assert len(gifts) == 2 + 3  # silver 2 × 满30减5, gold 3 × 满30减5
    for coupon in gifts:
        assert (coupon["kind"], coupon["minSpend"], coupon["discountAmount"], coupon["status"]) == (
            "AMOUNT_OFF", 3000, 500, "AVAILABLE")
        # gift coupons: valid to the end of the issue day + 30 days
        assert dt(coupon["validUntil"]) == dt("2026-04-03T23:59:59+08:00")
    assert [c["source"] for c in found].count("SIGNUP_GIFT") == 1
    assert len(found) == 6


async def test_upgrade_gifts_are_granted_once_per_level_in_a_lifetime(api):
    token, mid = await member(api, "once")
    # regular → gold: silver and gold gifts
    await record(api, mid, "ONCE-A", 200000, now=WED)
    assert (await home(api, token))["pointsBalance"] == 100 + 2000 + 100 + 300

    # full refund: growth 2000 → 0, back to regular at once; gifts kept, order points taken back
    p = await refund(api, "ONCE-A", "ONCE-A-R1", 200000, now=THU)
    assert p["member"]["tier"]["code"] == "regular"
    assert p["member"]["growthValue"] == 0
    assert p["member"]["pointsBalance"] == 2500 - 2000
    me = await home(api, token, THU)
    assert me["tierExpiresAt"] is None
    assert len(gift_coupons(await coupons(api, token, THU))) == 5

    # back to silver: no second silver gift; ¥600 at regular 1.0 → 600 points
    p = await record(api, mid, "ONCE-B", 60000, now=FRI)
    assert p["member"]["tier"]["code"] == "silver"
    assert p["member"]["pointsBalance"] == 500 + 600
    me = await home(api, token, FRI)
    assert dt(me["tierExpiresAt"]) == dt("2027-03-06T10:00:00+08:00")  # a new 12 months from this upgrade
    # back to gold: no second gold gift; ¥1500 at silver 1.0 → 1500 points
    p = await record(api, mid, "ONCE-C", 150000, now=FRI)
    assert p["member"]["tier"]["code"] == "gold"
    assert p["member"]["pointsBalance"] == 1100 + 1500
    # diamond for the first time: its gift is due. growth 2100 + 2900 = 5000; points at gold floor(2900 × 1.2) = 3480
    p = await record(api, mid, "ONCE-D", 290000, now=FRI)
    assert p["member"]["tier"]["code"] == "diamond"
    assert p["order"]["pointsEarned"] == 3480
    assert p["member"]["pointsBalance"] == 2600 + 3480 + 800

    entries = await assert_ledger_consistent(api, token, FRI)
    assert sorted(kinds(entries, "UPGRADE_GIFT")) == [100, 300, 800]
    assert len(gift_coupons(await coupons(api, token, FRI))) == 2 + 3 + 5


async def test_tier_validity_from_29_february_ends_on_28_february(api):
    now = "2028-02-29T20:00:00+08:00"
    token, mid = await member(api, "leap", now=now)
    await record(api, mid, "LEAP-1", 50000, now=now)  # ¥500 → 500 growth → silver
    me = await home(api, token, now)
    assert me["tier"]["code"] == "silver"
    assert dt(me["tierExpiresAt"]) == dt("2029-02-28T20:00:00+08:00")
    assert me["nextTier"]["code"] == "gold" and me["growthToNextTier"] == 1500
    entries = await assert_ledger_consistent(api, token, now)
    # 2028-02-29 is a Tuesday: ¥500 → 500 × 2 = 1000 points, a lot ending 2029-02-28
    assert kinds(entries, "ORDER") == [1000]
    order_entry = next(e for e in entries if e["kind"] == "ORDER")
    assert dt(order_entry["expiresAt"]) == dt("2029-02-28T23:59:59+08:00")


# ----------------------------------------------------------------------------- fresh-grocery program

@pytest.mark.program("fresh-grocery")
async def test_fresh_signup_gives_no_coins_only_a_newcomer_coupon(api):
    token, _ = await member(api, "fresh-new")
    me = await home(api, token)
    assert me["pointsBalance"] == 0
    assert me["tier"]["code"] == "green"
    assert me["nextTier"]["code"] == "red" and me["growthToNextTier"] == 1000
    assert await history(api, token) == []
    found = await coupons(api, token)
    assert [(c["source"], c["minSpend"], c["discountAmount"]) for c in found] == [("SIGNUP_GIFT", 3000, 500)]


@pytest.mark.program("fresh-grocery")
async def test_fresh_coins_per_full_ten_yuan_doubled_on_tuesday_and_red_gift(api):
    token, mid = await member(api, "fresh-coins")
    # ¥123.45 on Wednesday: floor(12345/1000) = 12 coins; growth ¥123.45 → 123
    p = await record(api, mid, "F-1", 12345)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (12, 123)
    # ¥9.99 on Tuesday (given in UTC: Monday 18:00Z = Tuesday 02:00 local): floor(0.999) = 0 × 2 = 0; growth 10
    p = await record(api, mid, "F-2", 999, paid_at="2026-03-02T18:00:00Z")
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (0, 10)
    # ¥123.45 on Tuesday: 12 × 2 = 24 coins
    p = await record(api, mid, "F-3", 12345, paid_at=TUE)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (24, 123)
    # growth 123 + 10 + 123 = 256; ¥744 → 744 growth → exactly 1000 → red; 74 coins at green 1.0
    p = await record(api, mid, "F-4", 74400)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (74, 744)
    assert p["member"]["tier"]["code"] == "red"
    assert p["member"]["growthValue"] == 1000
    # red gift is coupons only: no coins
    assert p["member"]["pointsBalance"] == 12 + 0 + 24 + 74

    me = await home(api, token)
    assert dt(me["tierExpiresAt"]) == dt("2027-03-04T10:00:00+08:00")
    assert me["nextTier"]["code"] == "gold" and me["growthToNextTier"] == 3000
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "UPGRADE_GIFT") == []
    assert sorted(kinds(entries, "ORDER")) == [12, 24, 74]
    gifts = gift_coupons(await coupons(api, token))
    assert len(gifts) == 2
    assert all((c["minSpend"], c["discountAmount"]) == (3000, 500) for c in gifts)


@pytest.mark.program("fresh-grocery")
async def test_fresh_green_to_gold_in_one_order(api):
    token, mid = await member(api, "fresh-gold")
    # ¥4000.49 → 4000 growth (half up) → red and gold at once; 400 coins (no tier multiplier in this program)
    p = await record(api, mid, "FG-1", 400049)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (400, 4000)
    assert p["member"]["tier"]["code"] == "gold"
    assert p["member"]["pointsBalance"] == 400
    me = await home(api, token)
    assert me["nextTier"] is None and me["growthToNextTier"] is None
    assert len(gift_coupons(await coupons(api, token))) == 2 + 3
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "UPGRADE_GIFT") == []
    # on gold, still 1 coin per ¥10, doubled on Tuesday: floor(1999/1000) = 1 × 2 = 2
    p = await record(api, mid, "FG-2", 1999, paid_at=TUE)
    assert p["order"]["pointsEarned"] == 2


# ----------------------------------------------------------------------------- idempotency

async def test_record_order_replay_returns_the_same_order_and_changes_nothing(api):
    token, mid = await member(api, "replay")
    first = await record(api, mid, "R-1", 12345, shipping_fee=800, channel="STORE", paid_at=TUE)
    # Tuesday: floor(12345/100) = 123 × 2 = 246 points; growth 123
    assert (first["order"]["pointsEarned"], first["order"]["growthEarned"]) == (246, 123)
    before = await snapshot(api, token)
    assert before["balance"] == 100 + 246

    again = await record(api, mid, "R-1", 12345, shipping_fee=800, channel="STORE", paid_at=TUE, now=THU)
    assert again["order"] == first["order"]
    assert again["member"] == first["member"]
    # the same instant written in UTC is the same paidAt: still a replay
    again = await record(api, mid, "R-1", 12345, shipping_fee=800, channel="STORE",
                         paid_at="2026-03-03T02:00:00Z", now=THU)
    assert again["order"] == first["order"]
    assert await snapshot(api, token) == before
    await assert_ledger_consistent(api, token)


@pytest.mark.parametrize("change", [
    {"amount": 12346},
    {"shippingFee": 801},
    {"shippingFee": None},
    {"channel": "APP"},
    {"paidAt": "2026-03-03T10:00:01+08:00"},
    {"paidAt": WED},
])
async def test_record_order_same_external_id_with_other_input_is_refused(api, change):
    token, mid = await member(api, "reuse")
    base = order_input(mid, "K-1", 12345, channel="STORE", paid_at=TUE, shipping_fee=800)
    first = await record_raw(api, base)
    assert first["userErrors"] == []
    before = await snapshot(api, token)

    changed = {**base, **change}
    if changed.get("shippingFee") is None:
        changed.pop("shippingFee")  # omitted: no shipping fee, which differs from 800
    payload = await record_raw(api, changed, now=THU)
    assert error_codes(payload) == ["IDEMPOTENCY_KEY_REUSED"]
    assert payload["order"] is None
    assert await snapshot(api, token) == before


async def test_record_order_same_external_id_for_another_member_is_refused(api):
    token_a, a = await member(api, "owner-a")
    token_b, b = await member(api, "owner-b")
    await record(api, a, "SHARED-1", 5000)
    before_a, before_b = await snapshot(api, token_a), await snapshot(api, token_b)
    payload = await record_raw(api, order_input(b, "SHARED-1", 5000))
    assert error_codes(payload) == ["IDEMPOTENCY_KEY_REUSED"]
    assert payload["order"] is None and payload["member"] is None
    assert await snapshot(api, token_a) == before_a
    assert await snapshot(api, token_b) == before_b
    assert before_b["balance"] == 100


# ----------------------------------------------------------------------------- refusals

@pytest.mark.parametrize("member_id, code", [
    (to_global_id("Member", 987654321), "NOT_FOUND"),   # well-formed, no such member
    (to_global_id("Tier", 1), "NOT_FOUND"),             # an ID of another type
    ("not-an-id", "INVALID_INPUT"),
    ("bm9wZQ==", "INVALID_INPUT"),                      # base64 of "nope": not one of our IDs
    ("", "INVALID_INPUT"),
])
async def test_record_order_for_an_unknown_or_malformed_member(api, member_id, code):
    token, mid = await member(api, "bystander")
    before = await snapshot(api, token)
    payload = await record_raw(api, order_input(member_id, "BAD-M-1", 10000))
    assert error_codes(payload) == [code]
    assert payload["order"] is None and payload["member"] is None
    if code == "INVALID_INPUT":
        assert payload["userErrors"][0]["field"] == ["input", "memberId"]
    assert await snapshot(api, token) == before
    # the refused externalId was not taken: it records normally afterwards
    ok = await record(api, mid, "BAD-M-1", 10000)
    assert ok["order"]["pointsEarned"] == 100


@pytest.mark.parametrize("change, field", [
    ({"amount": -1}, "amount"),
    ({"amount": -10000}, "amount"),
    ({"shippingFee": -1}, "shippingFee"),
    ({"paidAt": "2026-03-04T10:00:00"}, "paidAt"),  # no offset
    ({"externalId": ""}, "externalId"),
    ({"externalId": "   "}, "externalId"),
])
async def test_record_order_invalid_input_is_refused_and_changes_nothing(api, change, field):
    token, mid = await member(api, "invalid")
    before = await snapshot(api, token)
    payload = await record_raw(api, {**order_input(mid, "INV-1", 10000, shipping_fee=0), **change})
    assert error_codes(payload) == ["INVALID_INPUT"]
    assert payload["userErrors"][0]["field"] == ["input", field]
    assert payload["order"] is None
    assert await snapshot(api, token) == before
    ok = await record(api, mid, "INV-1", 10000, shipping_fee=0)
    assert ok["order"]["pointsEarned"] == 100


@pytest.mark.parametrize("change", [
    {"channel": "PHONE"},
    {"channel": "app"},
    {"paidAt": "next tuesday"},
    {"amount": "100"},
    {"amount": 1.5},
    {"amount": 2**31},  # beyond GraphQL's 32-bit Int
])
async def test_record_order_malformed_values_are_top_level_errors(api, change):
    token, mid = await member(api, "malformed")
    before = await snapshot(api, token)
    result = await api.op("RecordOrder", {"input": {**order_input(mid, "MAL-1", 10000), **change}},
                          api_key=api.api_key, now=WED)
    assert result.get("errors"), result
    assert result.get("data") is None
    assert "Traceback" not in str(result) and "SELECT" not in str(result)
    assert await snapshot(api, token) == before
    ok = await record(api, mid, "MAL-1", 10000)
    assert ok["order"]["pointsEarned"] == 100


# ----------------------------------------------------------------------------- retries racing each other

async def test_concurrent_retries_of_one_order_record_it_once(api):
    """Five retries of one order race a different order under the same externalId. Whichever arrives first
    is recorded, once; every other request is a replay of it or IDEMPOTENCY_KEY_REUSED."""
    token, mid = await member(api, "race")
    other_token, other = await member(api, "race-other")
    same = order_input(mid, "RACE-1", 12345, paid_at="2026-03-04T09:59:58.123456+08:00")
    results = await asyncio.gather(*(record_raw(api, same) for _ in range(5)),
                                   record_raw(api, order_input(other, "RACE-1", 12345)))
    mine, theirs = results[:5], results[5]
    recorded = {r["order"]["id"] for r in results if r["order"] is not None}
    assert len(recorded) == 1  # one order, whoever won
    if theirs["userErrors"] == []:  # the other member's order came first: all five retries are refused
        assert all(error_codes(r) == ["IDEMPOTENCY_KEY_REUSED"] for r in mine), mine
        winner, loser = other_token, token
    else:  # ours came first: the other five are replays of it
        assert error_codes(theirs) == ["IDEMPOTENCY_KEY_REUSED"] and all(r["userErrors"] == [] for r in mine), results
        winner, loser = token, other_token
    # credited once, to whoever won: 100 + floor(12345/100) = 223; growth ¥123.45 → 123
    won = await home(api, winner)
    assert (won["pointsBalance"], won["growthValue"]) == (223, 123)
    assert kinds(await assert_ledger_consistent(api, winner), "ORDER") == [123]
    assert (await home(api, loser))["pointsBalance"] == 100
