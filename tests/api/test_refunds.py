"""refundOrder through the integration API: proportional take-back of points and growth, tier
recomputed at once, negative balances, idempotency and refusals.

Rule (standard-program.md): a refund takes back floor(earned × refundedSoFar / amount) minus what
earlier refunds of that order took back, for points and growth alike.
Calendar (Asia/Shanghai): 2026-03-03 and 2026-03-10 are Tuesdays, 2026-03-04 a Wednesday.
"""
from __future__ import annotations

import asyncio

import pytest

from tests.api.member_views import FRI, NEXT_TUE, THU, TUE, WED, MemberViews

# ----------------------------------------------------------------------------- helpers


home, history, coupons, assert_ledger_consistent, snapshot = MemberViews(THU).bound()


async def record(api, member_id: str, external_id: str, amount: int, *, now: str = WED, paid_at: str | None = None,
                 channel: str = "APP") -> dict:
    payload = (await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": external_id, "amount": amount, "channel": channel,
        "paidAt": paid_at or now}}, now=now))["recordOrder"]
    assert payload["userErrors"] == [], payload
    return payload


async def refund_raw(api, external_id: str, refund_id: str, amount: int, now: str = THU) -> dict:
    return (await api.integration("RefundOrder", {"input": {
        "externalId": external_id, "externalRefundId": refund_id, "amount": amount}}, now=now))["refundOrder"]


async def refund(api, external_id: str, refund_id: str, amount: int, now: str = THU) -> dict:
    payload = await refund_raw(api, external_id, refund_id, amount, now)
    assert payload["userErrors"] == [], payload
    return payload


def kinds(entries: list[dict], kind: str) -> list[int]:
    """Deltas of one kind, oldest first."""
    return [e["delta"] for e in reversed(entries) if e["kind"] == kind]


def error_codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


async def reward_ids(api) -> dict[str, str]:
    edges = (await api.data("RewardCatalog", {"first": 50}))["rewards"]["edges"]
    return {edge["node"]["name"]: edge["node"]["id"] for edge in edges}


async def redeem(api, token: str, reward_id: str, key: str, now: str) -> dict:
    return (await api.data("RedeemReward", {"rewardId": reward_id, "idempotencyKey": key}, token=token,
                           now=now))["redeemReward"]


# ----------------------------------------------------------------------------- proportional take-back

@pytest.mark.parametrize("refunds", [
    # 123 points and 123 growth earned on 12345 fen (¥123.45 → 123 growth, floor(12345/100) = 123 points)
    # refund 1000: floor(123 × 1000 / 12345) = floor(9.96) = 9
    # refund 11345: refundedSoFar 12345 → floor(123 × 12345 / 12345) − 9 = 114
    [(1000, 9), (11345, 114)],
    # refund 1000: 9; refund 5000: floor(123 × 6000 / 12345) = floor(59.78) = 59, − 9 = 50;
    # refund 6345: 123 − 59 = 64 (per-refund floors would give 9 + 49 + 63 = 121 and leave 2 behind)
    [(1000, 9), (5000, 50), (6345, 64)],
    # refund 100: floor(123 × 100 / 12345) = floor(0.996) = 0; refund 100 more: floor(123 × 200 / 12345) = 1
    [(100, 0), (100, 1)],
])
async def test_partial_refunds_take_back_in_proportion_to_the_refunded_total(api, refunds):
    token, mid = await api.login("prop", now=WED)
    p = await record(api, mid, "P-1", 12345)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (123, 123)
    balance, growth, refunded = 100 + 123, 123, 0
    for i, (amount, back) in enumerate(refunds):
        p = await refund(api, "P-1", f"P-1-R{i}", amount)
        refunded += amount
        balance -= back
        growth -= back  # here points and growth earned are both 123, so the take-backs match
        assert p["order"]["refundedAmount"] == refunded
        assert p["order"]["amount"] == 12345
        assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (123, 123)  # what the order earned
        assert p["member"]["pointsBalance"] == balance
        assert p["member"]["growthValue"] == growth
    entries = await assert_ledger_consistent(api, token)
    refund_entries = [e for e in reversed(entries) if e["kind"] == "REFUND"]
    assert [e["delta"] for e in refund_entries] == [-back for _, back in refunds if back]
    assert all(e["expiresAt"] is None for e in refund_entries)  # take-backs add nothing


async def test_refund_takes_back_points_and_growth_separately_at_gold(api):
    token, mid = await api.login("gold-refund", now=WED)
    await record(api, mid, "GR-0", 200000)  # regular → gold: 2000 growth; 100 + 2000 + 100 + 300 = 2500 points
    # at gold (1.2): floor(123 × 1.2) = floor(147.6) = 147 points; ¥123.45 → 123 growth
    p = await record(api, mid, "GR-1", 12345)
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (147, 123)
    # refund 1000: points floor(147 × 1000 / 12345) = floor(11.9) = 11; growth floor(123 × 1000 / 12345) = 9
    p = await refund(api, "GR-1", "GR-1-R1", 1000)
    assert p["member"]["pointsBalance"] == 2500 + 147 - 11
    assert p["member"]["growthValue"] == 2123 - 9
    # refund the rest: points 147 − 11 = 136; growth 123 − 9 = 114 → growth 2000, still exactly gold
    p = await refund(api, "GR-1", "GR-1-R2", 11345)
    assert p["member"]["pointsBalance"] == 2500
    assert p["member"]["growthValue"] == 2000
    assert p["member"]["tier"]["code"] == "gold"
    assert p["order"]["refundedAmount"] == 12345
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "REFUND") == [-11, -136]


async def test_refund_of_a_third_party_order_takes_nothing_back(api):
    token, mid = await api.login("3p-refund", now=WED)
    await record(api, mid, "TP-1", 50000, channel="THIRD_PARTY")
    p = await refund(api, "TP-1", "TP-1-R1", 20000)
    assert p["order"]["refundedAmount"] == 20000
    assert (p["member"]["pointsBalance"], p["member"]["growthValue"]) == (100, 0)
    entries = await assert_ledger_consistent(api, token)
    assert kinds(entries, "REFUND") == []


@pytest.mark.program("fresh-grocery")
async def test_fresh_refund_takes_back_coins_in_proportion(api):
    token, mid = await api.login("fresh-refund", now=WED)
    p = await record(api, mid, "FR-1", 12345, paid_at=TUE)
    # floor(12345/1000) = 12 × 2 (Tuesday) = 24 coins; growth 123
    assert (p["order"]["pointsEarned"], p["order"]["growthEarned"]) == (24, 123)
    # refund 5000: coins floor(24 × 5000 / 12345) = floor(9.72) = 9; growth floor(123 × 5000 / 12345) = floor(49.8) = 49
    p = await refund(api, "FR-1", "FR-1-R1", 5000)
    assert (p["member"]["pointsBalance"], p["member"]["growthValue"]) == (24 - 9, 123 - 49)
    await assert_ledger_consistent(api, token)


# ----------------------------------------------------------------------------- tiers

async def test_refund_downgrades_the_tier_at_once_and_keeps_gifts(api):
    token, mid = await api.login("down", now=WED)
    await record(api, mid, "DN-1", 200000)  # regular → gold; 2500 points; 5 gift coupons
    gifts_before = [c for c in await coupons(api, token) if c["source"] == "UPGRADE_GIFT"]
    assert len(gifts_before) == 5

    # refund ¥500: growth back floor(2000 × 50000 / 200000) = 500 → 1500 → silver; points back 500
    p = await refund(api, "DN-1", "DN-1-R1", 50000)
    assert p["member"]["tier"]["code"] == "silver"
    assert (p["member"]["growthValue"], p["member"]["pointsBalance"]) == (1500, 2000)
    me = await home(api, token)
    assert me["nextTier"]["code"] == "gold" and me["growthToNextTier"] == 500
    assert me["tierExpiresAt"] is not None  # above the base tier a tier always has a validity

    # refund ¥1100 more: refundedSoFar 160000 → floor(2000 × 0.8) = 1600, − 500 = 1100 → growth 400 → regular
    p = await refund(api, "DN-1", "DN-1-R2", 110000, now=FRI)
    assert p["member"]["tier"]["code"] == "regular"
    assert (p["member"]["growthValue"], p["member"]["pointsBalance"]) == (400, 900)
    me = await home(api, token, FRI)
    assert me["tierExpiresAt"] is None
    assert me["nextTier"]["code"] == "silver" and me["growthToNextTier"] == 100
    assert {b["code"] for b in me["benefits"]} == {"POINTS", "MEMBER_EVENTS"}

    # gifts already granted are kept: the coupons, and the 100 + 300 gift points
    gifts_after = [c for c in await coupons(api, token, FRI) if c["source"] == "UPGRADE_GIFT"]
    assert [c["id"] for c in gifts_after] == [c["id"] for c in gifts_before]
    entries = await assert_ledger_consistent(api, token, FRI)
    assert sorted(kinds(entries, "UPGRADE_GIFT")) == [100, 300]
    assert kinds(entries, "REFUND") == [-500, -1100]


# ----------------------------------------------------------------------------- negative balance

async def test_refund_after_spending_leaves_a_debt_that_blocks_redemption_until_repaid(api):
    rewards = await reward_ids(api)
    free_shipping, five_yuan = rewards["免运费券"], rewards["5元无门槛券"]
    token, mid = await api.login("debt", now=WED)
    await record(api, mid, "DEBT-1", 30000)  # 300 points, 300 growth → 400
    for key in ("spend-1", "spend-2"):
        payload = await redeem(api, token, free_shipping, key, WED)  # 200 each
        assert payload["userErrors"] == []
    assert (await home(api, token, WED))["pointsBalance"] == 0

    # full refund: takes back all 300 though the member spent them → −300
    p = await refund(api, "DEBT-1", "DEBT-1-R1", 30000)
    assert p["member"]["pointsBalance"] == -300
    assert p["member"]["growthValue"] == 0
    entries = await assert_ledger_consistent(api, token)
    assert entries[0]["kind"] == "REFUND" and (entries[0]["delta"], entries[0]["balanceAfter"]) == (-300, -300)

    # while the balance is negative nothing can be redeemed, and the refusal changes nothing
    before = await snapshot(api, token)
    for name, key in ((free_shipping, "blocked-1"), (five_yuan, "blocked-2")):
        payload = await redeem(api, token, name, key, THU)
        assert error_codes(payload) == ["INSUFFICIENT_POINTS"]
        assert payload["redemption"] is None
    assert await snapshot(api, token) == before

    # a later order repays the debt: ¥499 on a Tuesday → 499 × 2 = 998 points; −300 + 998 = 698
    p = await record(api, mid, "DEBT-2", 49900, now=NEXT_TUE)
    assert p["order"]["pointsEarned"] == 998
    assert p["member"]["pointsBalance"] == 698
    assert p["member"]["growthValue"] == 499 and p["member"]["tier"]["code"] == "regular"
    # the 698 are really spendable: 500 for a coupon → 198, then 200 is too much
    payload = await redeem(api, token, five_yuan, "after-1", NEXT_TUE)
    assert payload["userErrors"] == [] and payload["member"]["pointsBalance"] == 198
    payload = await redeem(api, token, free_shipping, "after-2", NEXT_TUE)
    assert error_codes(payload) == ["INSUFFICIENT_POINTS"]
    entries = await assert_ledger_consistent(api, token, NEXT_TUE)
    assert (await home(api, token, NEXT_TUE))["pointsBalance"] == 198
    assert kinds(entries, "REDEMPTION") == [-200, -200, -500]


# ----------------------------------------------------------------------------- idempotency and refusals

async def test_refund_replay_answers_the_same_and_changes_nothing(api):
    token, mid = await api.login("refund-replay", now=WED)
    await record(api, mid, "RR-1", 10000)  # 100 points, 100 growth
    first = await refund(api, "RR-1", "RR-1-R1", 10000)
    assert first["order"]["refundedAmount"] == 10000
    assert first["member"]["pointsBalance"] == 100
    before = await snapshot(api, token)
    # the order is fully refunded, yet the same refund again is a replay, not REFUND_EXCEEDS_ORDER
    again = await refund(api, "RR-1", "RR-1-R1", 10000, now=FRI)
    assert again == first
    again = await refund(api, " RR-1 ", "RR-1-R1", 10000, now=FRI)
    assert again == first
    assert await snapshot(api, token) == before


async def test_refund_id_reused_with_other_input_is_refused(api):
    token, mid = await api.login("refund-reuse", now=WED)
    await record(api, mid, "RU-1", 10000)
    await record(api, mid, "RU-2", 10000)
    await refund(api, "RU-1", "RU-R1", 4000)  # takes back floor(100 × 4000 / 10000) = 40
    before = await snapshot(api, token)
    assert before["balance"] == 100 + 100 + 100 - 40
    # another amount
    payload = await refund_raw(api, "RU-1", "RU-R1", 4001)
    assert error_codes(payload) == ["IDEMPOTENCY_KEY_REUSED"]
    assert payload["order"] is None
    # another order
    payload = await refund_raw(api, "RU-2", "RU-R1", 4000)
    assert error_codes(payload) == ["IDEMPOTENCY_KEY_REUSED"]
    assert await snapshot(api, token) == before


async def test_refund_beyond_the_order_is_refused_and_changes_nothing(api):
    token, mid = await api.login("exceed", now=WED)
    await record(api, mid, "EX-1", 10000)
    payload = await refund_raw(api, "EX-1", "EX-R0", 10001)
    assert error_codes(payload) == ["REFUND_EXCEEDS_ORDER"]
    await refund(api, "EX-1", "EX-R1", 6000)  # takes back 60
    before = await snapshot(api, token)
    payload = await refund_raw(api, "EX-1", "EX-R2", 4001)  # 6000 + 4001 > 10000
    assert error_codes(payload) == ["REFUND_EXCEEDS_ORDER"]
    assert payload["order"] is None
    assert await snapshot(api, token) == before
    # the refused refund id was not used up: the remaining 4000 refunds under it
    p = await refund(api, "EX-1", "EX-R2", 4000)
    assert p["order"]["refundedAmount"] == 10000
    assert p["member"]["pointsBalance"] == 100 and p["member"]["growthValue"] == 0
    await assert_ledger_consistent(api, token)


async def test_refund_of_an_unknown_order_is_order_not_found(api):
    token, mid = await api.login("unknown-order", now=WED)
    await record(api, mid, "KNOWN-1", 10000)
    before = await snapshot(api, token)
    payload = await refund_raw(api, "NO-SUCH-ORDER", "NSO-R1", 100)
    assert error_codes(payload) == ["ORDER_NOT_FOUND"]
    assert payload["order"] is None and payload["member"] is None
    assert await snapshot(api, token) == before


@pytest.mark.parametrize("external_id, refund_id, amount, field", [
    ("INV-1", "INV-R1", 0, "amount"),
    ("INV-1", "INV-R1", -100, "amount"),
    ("INV-1", "", 100, "externalRefundId"),
    ("", "INV-R1", 100, "externalId"),
])
async def test_refund_with_invalid_input_is_refused(api, external_id, refund_id, amount, field):
    token, mid = await api.login("refund-invalid", now=WED)
    await record(api, mid, "INV-1", 10000)
    before = await snapshot(api, token)
    payload = await refund_raw(api, external_id, refund_id, amount)
    assert error_codes(payload) == ["INVALID_INPUT"]
    assert payload["userErrors"][0]["field"] == ["input", field]
    assert await snapshot(api, token) == before


async def test_concurrent_refunds_never_exceed_the_order(api):
    token, mid = await api.login("refund-race", now=WED)
    await record(api, mid, "RACE-1", 10000)  # 100 points, 100 growth
    results = await asyncio.gather(*(refund_raw(api, "RACE-1", f"RACE-1-R{i}", 4000) for i in range(3)))
    codes = sorted(tuple(error_codes(r)) for r in results)
    assert codes == [(), (), ("REFUND_EXCEEDS_ORDER",)]
    # two refunds of 4000 went through: refundedSoFar 8000 → floor(100 × 8000 / 10000) = 80 back
    me = await home(api, token)
    assert (me["pointsBalance"], me["growthValue"]) == (200 - 80, 100 - 80)
    entries = await assert_ledger_consistent(api, token)
    assert sorted(kinds(entries, "REFUND")) == [-40, -40]
