"""redeemPointsForOrder (积分抵现) through the integration API, and refunds of orders whose points
were offset.

Standard: 100 points = ¥1 (100 fen), at least 100, in multiples of 100, at most half of orderAmount.
Fresh-grocery: 10 coins = ¥1, at least 10, in multiples of 10, up to the whole orderAmount.
A refund gives back offset points in proportion to the refunded total, as a new 12-month lot.
Calendar (Asia/Shanghai): 2026-03-04 is a Wednesday.
"""
from __future__ import annotations

import asyncio

import pytest

from api.core.ids import to_global_id
from tests.api.member_views import FRI, THU, WED, MemberViews, dt

# ----------------------------------------------------------------------------- helpers


home, history, coupons, assert_ledger_consistent, snapshot = MemberViews(WED).bound()


async def record(api, member_id: str, external_id: str, amount: int, *, now: str = WED) -> dict:
    payload = (await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": external_id, "amount": amount, "channel": "APP",
        "paidAt": now}}, now=now))["recordOrder"]
    assert payload["userErrors"] == [], payload
    return payload


async def refund(api, external_id: str, refund_id: str, amount: int, now: str) -> dict:
    payload = (await api.integration("RefundOrder", {"input": {
        "externalId": external_id, "externalRefundId": refund_id, "amount": amount}}, now=now))["refundOrder"]
    assert payload["userErrors"] == [], payload
    return payload


async def offset_raw(api, member_id: str, external_order_id: str, points: int, order_amount: int,
                     now: str = WED) -> dict:
    return (await api.integration("RedeemPointsForOrder", {"input": {
        "memberId": member_id, "externalOrderId": external_order_id, "points": points,
        "orderAmount": order_amount}}, now=now))["redeemPointsForOrder"]


async def offset(api, member_id: str, external_order_id: str, points: int, order_amount: int,
                 now: str = WED) -> dict:
    payload = await offset_raw(api, member_id, external_order_id, points, order_amount, now)
    assert payload["userErrors"] == [], payload
    return payload


def kinds(entries: list[dict], kind: str) -> list[int]:
    """Deltas of one kind, oldest first."""
    return [e["delta"] for e in reversed(entries) if e["kind"] == kind]


def error_codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def member_with_1200_points(api, code: str) -> tuple[str, str]:
    """100 sign-up + 1000 for a ¥1000 order + 100 silver gift (1000 growth reaches silver)."""
    token, mid = await api.login(code, now=WED)
    p = await record(api, mid, f"{code}-seed", 100000)
    assert p["member"]["pointsBalance"] == 1200
    return token, mid


# ----------------------------------------------------------------------------- standard rules

@pytest.mark.parametrize("points, order_amount, amount_off", [
    (100, 10000, 100),    # the minimum: 100 points = ¥1
    (1000, 2000, 1000),   # exactly half of ¥20
    (1000, 2050, 1000),   # half of ¥20.50 is 1025 fen → 1025 points → 1000 in whole steps of 100
    (100, 200, 100),      # half of ¥2 is ¥1 = 100 points
    (1200, 100000, 1200),  # the whole balance
])
async def test_standard_offset_within_the_rules(api, points, order_amount, amount_off):
    token, mid = await member_with_1200_points(api, "std-ok")
    p = await offset(api, mid, "SO-1", points, order_amount)
    assert (p["pointsSpent"], p["amountOff"]) == (points, amount_off)
    assert p["member"]["id"] == mid
    assert p["member"]["pointsBalance"] == 1200 - points
    # an offset takes points; it gives no growth and changes no tier
    me = await home(api, token)
    assert (me["growthValue"], me["tier"]["code"]) == (1000, "silver")
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "ORDER_OFFSET") == [-points]
    assert entries[0]["kind"] == "ORDER_OFFSET" and entries[0]["expiresAt"] is None


@pytest.mark.parametrize("points, order_amount, field", [
    (50, 10000, "points"),      # under the minimum of 100
    (0, 10000, "points"),
    (-100, 10000, "points"),
    (150, 10000, "points"),     # not a multiple of 100
    (1100, 2000, "points"),     # over half of ¥20 (1000 points)
    (1100, 2050, "points"),     # half of ¥20.50 allows 1000 points in whole steps
    (100, 199, "points"),       # half of ¥1.99 is 99 fen: not even the minimum fits
    (100, 0, "orderAmount"),
    (100, -5000, "orderAmount"),
])
async def test_standard_offset_outside_the_rules_is_invalid_input(api, points, order_amount, field):
    token, mid = await member_with_1200_points(api, "std-bad")
    before = await snapshot(api, token)
    p = await offset_raw(api, mid, "SB-1", points, order_amount)
    assert error_codes(p) == ["INVALID_INPUT"]
    assert p["userErrors"][0]["field"] == ["input", field]
    assert (p["pointsSpent"], p["amountOff"], p["member"]) == (None, None, None)
    assert await snapshot(api, token) == before
    # the refused request did not take the order: a valid offset for it goes through
    p = await offset(api, mid, "SB-1", 100, 10000)
    assert p["member"]["pointsBalance"] == 1100


async def test_offset_beyond_the_balance_is_insufficient_points(api):
    token, mid = await api.login("short", now=WED)  # 100 sign-up points
    before = await snapshot(api, token)
    p = await offset_raw(api, mid, "SH-1", 200, 10000)
    assert error_codes(p) == ["INSUFFICIENT_POINTS"]
    assert p["member"] is None
    assert await snapshot(api, token) == before
    p = await offset(api, mid, "SH-1", 100, 10000)
    assert (p["pointsSpent"], p["amountOff"], p["member"]["pointsBalance"]) == (100, 100, 0)
    await assert_ledger_consistent(api, token)


@pytest.mark.parametrize("member_id, code", [
    (to_global_id("Member", 987654321), "NOT_FOUND"),
    (to_global_id("Reward", 1), "NOT_FOUND"),
    ("not-an-id", "INVALID_INPUT"),
])
async def test_offset_for_an_unknown_or_malformed_member(api, member_id, code):
    token, mid = await api.login("offset-bystander", now=WED)
    before = await snapshot(api, token)
    p = await offset_raw(api, member_id, "UM-1", 100, 10000)
    assert error_codes(p) == [code]
    assert await snapshot(api, token) == before


async def test_offset_replay_and_one_offset_per_order(api):
    token, mid = await api.login("offset-replay", now=WED)
    other_token, other = await api.login("offset-other", now=WED)
    first = await offset(api, mid, "OR-1", 100, 10000)
    assert (first["pointsSpent"], first["amountOff"], first["member"]["pointsBalance"]) == (100, 100, 0)
    before = await snapshot(api, token)
    other_before = await snapshot(api, other_token)

    # same input: the first answer again, even though the balance (0) could not pay for it now
    again = await offset(api, mid, "OR-1", 100, 10000, now=THU)
    assert again == first
    assert await snapshot(api, token) == before

    # a second, different offset for the same order: refused
    for member_id, points, order_amount in ((mid, 200, 10000), (mid, 100, 20000), (other, 100, 10000)):
        p = await offset_raw(api, member_id, "OR-1", points, order_amount, now=THU)
        assert error_codes(p) == ["IDEMPOTENCY_KEY_REUSED"], (member_id, points, order_amount)
        assert p["pointsSpent"] is None
    assert await snapshot(api, token) == before
    assert await snapshot(api, other_token) == other_before
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "ORDER_OFFSET") == [-100]


# ----------------------------------------------------------------------------- fresh-grocery rules

@pytest.mark.program("fresh-grocery")
@pytest.mark.parametrize("points, order_amount, amount_off", [
    (10, 1000, 100),       # 10 coins = ¥1
    (100, 1000, 1000),     # the whole order
    (10, 150, 100),        # ¥1.50 allows 15 coins → 10 in whole steps
    (50, 100000, 500),
    (110, 1000, None),     # more than the whole order (100 coins)
    (20, 150, None),       # 15 coins at most → 10
    (15, 1000, None),      # not a multiple of 10
    (5, 1000, None),       # under the minimum of 10
])
async def test_fresh_offset_rules(api, points, order_amount, amount_off):
    token, mid = await api.login("fresh-offset", now=WED)
    # no sign-up coins; ¥1000 → floor(100000/1000) = 100 coins (1000 growth → red, whose gift has no coins)
    p = await record(api, mid, "FO-seed", 100000)
    assert p["member"]["pointsBalance"] == 100
    before = await snapshot(api, token)
    p = await offset_raw(api, mid, "FO-1", points, order_amount)
    if amount_off is None:
        assert error_codes(p) == ["INVALID_INPUT"]
        assert await snapshot(api, token) == before
    else:
        assert p["userErrors"] == []
        assert (p["pointsSpent"], p["amountOff"]) == (points, amount_off)
        assert p["member"]["pointsBalance"] == 100 - points
    await assert_ledger_consistent(api, token)


@pytest.mark.program("fresh-grocery")
async def test_fresh_offset_beyond_the_balance_is_insufficient_points(api):
    token, mid = await api.login("fresh-short", now=WED)  # 0 coins
    p = await offset_raw(api, mid, "FS-1", 10, 1000)
    assert error_codes(p) == ["INSUFFICIENT_POINTS"]
    assert (await home(api, token))["pointsBalance"] == 0
    assert await history(api, token) == []


# ----------------------------------------------------------------------------- refunds give offset points back

async def test_refund_gives_offset_points_back_in_proportion_as_new_lots(api):
    token, mid = await api.login("offset-refund", now=WED)
    await record(api, mid, "OFR-0", 30000)  # 100 + 300 = 400 points, 300 growth
    p = await offset(api, mid, "OFR-1", 300, 10000)  # ¥3 off a ¥100 order
    assert (p["amountOff"], p["member"]["pointsBalance"]) == (300, 100)
    p = await record(api, mid, "OFR-1", 9700)  # paid ¥97: 97 points, 97 growth
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (97, 97)
    assert (p["member"]["pointsBalance"], p["member"]["growthValue"]) == (197, 397)

    # refund ¥30 of ¥97: take back floor(97 × 3000 / 9700) = 30; give back floor(300 × 3000 / 9700) = floor(92.8) = 92
    p = await refund(api, "OFR-1", "OFR-1-R1", 3000, now=THU)
    assert p["member"]["pointsBalance"] == 197 - 30 + 92
    assert p["member"]["growthValue"] == 397 - 30  # offsets never give growth, and none comes back
    entries = await assert_ledger_consistent(api, token, THU)
    refunds = [e for e in reversed(entries) if e["kind"] == "REFUND"]
    assert sorted(e["delta"] for e in refunds) == [-30, 92]
    given_back = next(e for e in refunds if e["delta"] > 0)
    taken = next(e for e in refunds if e["delta"] < 0)
    assert dt(given_back["expiresAt"]) == dt("2027-03-05T23:59:59+08:00")  # a new lot, 12 months from the refund
    assert taken["expiresAt"] is None

    # refund the remaining ¥67: take back 97 − 30 = 67; give back 300 − 92 = 208
    p = await refund(api, "OFR-1", "OFR-1-R2", 6700, now=FRI)
    assert p["order"]["refundedAmount"] == 9700
    assert p["member"]["pointsBalance"] == 259 - 67 + 208 == 400  # all 300 offset points are back
    assert p["member"]["growthValue"] == 300
    entries = await assert_ledger_consistent(api, token, FRI)
    refunds = [e for e in reversed(entries) if e["kind"] == "REFUND"]
    assert sorted(e["delta"] for e in refunds) == [-67, -30, 92, 208]
    given_back = next(e for e in refunds if e["delta"] == 208)
    assert dt(given_back["expiresAt"]) == dt("2027-03-06T23:59:59+08:00")

    # the points given back are spendable like any others: an offset of all 400 on a ¥8 order
    p = await offset(api, mid, "OFR-2", 400, 800, now=FRI)
    assert p["member"]["pointsBalance"] == 0
    await assert_ledger_consistent(api, token, FRI)


async def test_refund_of_an_order_without_offset_gives_nothing_back(api):
    token, mid = await api.login("no-offset-refund", now=WED)
    await offset(api, mid, "NOR-OTHER", 100, 10000)  # an offset for another order
    await record(api, mid, "NOR-1", 10000)  # 100 points; balance 100 − 100 + 100 = 100
    p = await refund(api, "NOR-1", "NOR-1-R1", 10000, now=THU)
    assert p["member"]["pointsBalance"] == 0  # only the 100 order points go; the other order's offset stays spent
    entries = await assert_ledger_consistent(api, token, THU)
    assert kinds(entries, "REFUND") == [-100]


@pytest.mark.program("fresh-grocery")
async def test_fresh_refund_gives_offset_coins_back_in_proportion(api):
    token, mid = await api.login("fresh-offset-refund", now=WED)
    await record(api, mid, "FOR-0", 100000)  # 100 coins, growth 1000 → red
    p = await offset(api, mid, "FOR-1", 100, 5000)  # 100 coins = ¥10 off a ¥50 order
    assert (p["amountOff"], p["member"]["pointsBalance"]) == (1000, 0)
    p = await record(api, mid, "FOR-1", 4000)  # paid ¥40: floor(4000/1000) = 4 coins, 40 growth
    assert p["member"]["pointsBalance"] == 4
    # refund ¥15 of ¥40: take back floor(4 × 1500 / 4000) = 1; give back floor(100 × 1500 / 4000) = 37;
    # growth back floor(40 × 1500 / 4000) = 15
    p = await refund(api, "FOR-1", "FOR-1-R1", 1500, now=THU)
    assert p["member"]["pointsBalance"] == 4 - 1 + 37
    assert p["member"]["growthValue"] == 1040 - 15
    entries = await assert_ledger_consistent(api, token, THU)
    assert sorted(kinds(entries, "REFUND")) == [-1, 37]


async def test_concurrent_offsets_cannot_overspend(api):
    token, mid = await api.login("offset-race", now=WED)  # 100 points
    results = await asyncio.gather(*(offset_raw(api, mid, f"ORACE-{i}", 100, 10000) for i in range(4)))
    codes = sorted(tuple(error_codes(r)) for r in results)
    assert codes == [()] + [("INSUFFICIENT_POINTS",)] * 3
    assert (await home(api, token))["pointsBalance"] == 0
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "ORDER_OFFSET") == [-100]
