"""Monthly coupons (月券礼) through ClaimMonthlyCoupons and MyCoupons.

Standard: claimable on local days 1..5, once a month: silver 2, gold 3, diamond 5 × 满50减5
(minSpend 5000, discountAmount 500), valid until 23:59:59 local of the month's last day;
regular → TIER_TOO_LOW, days 6.. → NOT_CLAIMABLE. Fresh-grocery: red 3 × 满30减2, gold 5 × 满50减5.
Tiers are reached with integration RecordOrder: 1 growth per yuan (silver 500, gold 2000, diamond 5000;
fresh-grocery red 1000, gold 4000).
"""
from datetime import datetime, timedelta, timezone

import pytest

CST = timezone(timedelta(hours=8))
SETUP = "2026-02-10T10:00:00+08:00"


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def member_with_spend(api, code: str, yuan: int, expected_tier: str) -> str:
    """A member whose growth is `yuan` from one APP order in February (upgrades happen at once)."""
    token, member_id = await api.login(code, now=SETUP)
    if yuan:
        data = await api.integration("RecordOrder", {"input": {
            "memberId": member_id, "externalId": f"order-{code}", "amount": yuan * 100, "channel": "APP",
            "paidAt": SETUP}}, now=SETUP)
        payload = data["recordOrder"]
        assert payload["userErrors"] == []
        assert payload["member"]["growthValue"] == yuan
    me = (await api.data("MemberHome", token=token, now=SETUP))["me"]
    assert me["tier"]["code"] == expected_tier
    return token


async def claim(api, token, now):
    return (await api.data("ClaimMonthlyCoupons", token=token, now=now))["claimMonthlyCoupons"]


async def coupons(api, token, now, status=None):
    variables = {"first": 100}
    if status:
        variables["status"] = status
    data = await api.data("MyCoupons", variables, token=token, now=now)
    return [edge["node"] for edge in data["me"]["coupons"]["edges"]]


async def monthly(api, token, now):
    return [c for c in await coupons(api, token, now) if c["source"] == "MONTHLY_GIFT"]


async def test_silver_claims_two_on_day_one_valid_to_month_end(api):
    token = await member_with_spend(api, "silver-day1", 500, "silver")
    # 2026-02-28T16:00:30Z is 2026-03-01T00:00:30 local: day 1 of March (UTC still says 28 February)
    now = "2026-02-28T16:00:30Z"
    payload = await claim(api, token, now)
    assert payload["userErrors"] == []
    assert len(payload["coupons"]) == 2
    for coupon in payload["coupons"]:
        assert coupon["source"] == "MONTHLY_GIFT"
        assert "满50减5" in coupon["title"]
        assert instant(coupon["validUntil"]) == datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST)
    held = await monthly(api, token, now)
    assert sorted(c["id"] for c in held) == sorted(c["id"] for c in payload["coupons"])
    for coupon in held:
        assert coupon["kind"] == "AMOUNT_OFF"
        assert coupon["minSpend"] == 5000
        assert coupon["discountAmount"] == 500
        assert coupon["discountPercent"] is None
        assert coupon["status"] == "AVAILABLE"
        assert instant(coupon["validFrom"]) == instant(now)
    # the month is the local month: a claim on local March 4 is a second claim for March
    assert codes(await claim(api, token, "2026-03-04T09:00:00+08:00")) == ["ALREADY_CLAIMED"]


async def test_claim_on_local_last_day_of_previous_month_counts_for_that_month(api):
    token = await member_with_spend(api, "silver-feb-march", 500, "silver")
    # February 3 local: February's claim
    assert (await claim(api, token, "2026-02-03T09:00:00+08:00"))["userErrors"] == []
    # 2026-02-28T16:00:30Z is already March 1 local: March's claim, not a second February one
    payload = await claim(api, token, "2026-02-28T16:00:30Z")
    assert payload["userErrors"] == []
    assert {instant(c["validUntil"]) for c in payload["coupons"]} == {datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST)}


async def test_day_five_is_the_last_claimable_local_day(api):
    token = await member_with_spend(api, "silver-day5", 500, "silver")
    # 2026-03-05T15:59:00Z is 2026-03-05T23:59 local: still day 5
    payload = await claim(api, token, "2026-03-05T15:59:00Z")
    assert payload["userErrors"] == []
    assert len(payload["coupons"]) == 2


async def test_day_six_is_not_claimable_in_local_time(api):
    token = await member_with_spend(api, "silver-day6", 500, "silver")
    # 2026-03-05T16:00:30Z is 2026-03-06T00:00:30 local: day 6 (UTC still says the 5th)
    payload = await claim(api, token, "2026-03-05T16:00:30Z")
    assert codes(payload) == ["NOT_CLAIMABLE"]
    assert payload["coupons"] in ([], None)
    # the last day of the month, and the evening before day 1 in local time, are not claimable either
    assert codes(await claim(api, token, "2026-03-31T23:00:00+08:00")) == ["NOT_CLAIMABLE"]
    # 2026-03-31T15:59:59Z is 2026-03-31T23:59:59 local (UTC-wise still March 31, but a day ahead it's April)
    assert codes(await claim(api, token, "2026-03-31T15:59:59Z")) == ["NOT_CLAIMABLE"]
    assert await monthly(api, token, "2026-03-31T23:00:00+08:00") == []
    # a refused claim does not use up the month: April 1 local is claimable
    payload = await claim(api, token, "2026-03-31T16:00:00Z")
    assert payload["userErrors"] == []
    assert [instant(c["validUntil"]) for c in payload["coupons"]] == [datetime(2026, 4, 30, 23, 59, 59, tzinfo=CST)] * 2


async def test_second_claim_in_a_month_is_already_claimed(api):
    token = await member_with_spend(api, "silver-twice", 500, "silver")
    first = await claim(api, token, "2026-03-02T09:00:00+08:00")
    assert first["userErrors"] == [] and len(first["coupons"]) == 2
    all_before = await coupons(api, token, "2026-03-04T09:00:00+08:00")
    again = await claim(api, token, "2026-03-04T09:00:00+08:00")
    assert codes(again) == ["ALREADY_CLAIMED"]
    assert again["coupons"] in ([], None)
    assert await coupons(api, token, "2026-03-04T09:00:00+08:00") == all_before
    # the next month is claimable again, valid to the end of April
    april = await claim(api, token, "2026-04-03T09:00:00+08:00")
    assert april["userErrors"] == []
    assert len(april["coupons"]) == 2
    assert {instant(c["validUntil"]) for c in april["coupons"]} == {datetime(2026, 4, 30, 23, 59, 59, tzinfo=CST)}
    assert codes(await claim(api, token, "2026-04-05T09:00:00+08:00")) == ["ALREADY_CLAIMED"]
    assert len(await monthly(api, token, "2026-04-05T09:00:00+08:00")) == 4


async def test_claim_in_february_is_valid_to_the_last_day_of_february(api):
    token = await member_with_spend(api, "silver-feb", 500, "silver")
    # 2028 is a leap year: February ends on the 29th
    payload = await claim(api, token, "2028-02-01T09:00:00+08:00")
    assert payload["userErrors"] == []
    assert {instant(c["validUntil"]) for c in payload["coupons"]} == {datetime(2028, 2, 29, 23, 59, 59, tzinfo=CST)}


async def test_regular_member_is_tier_too_low_even_outside_the_days(api):
    token = await member_with_spend(api, "regular", 499, "regular")  # 499 growth: below silver's 500
    before = await coupons(api, token, "2026-03-03T09:00:00+08:00")
    assert codes(await claim(api, token, "2026-03-03T09:00:00+08:00")) == ["TIER_TOO_LOW"]
    # TIER_TOO_LOW is checked before the day window
    assert codes(await claim(api, token, "2026-03-20T09:00:00+08:00")) == ["TIER_TOO_LOW"]
    assert await coupons(api, token, "2026-03-03T09:00:00+08:00") == before


@pytest.mark.parametrize("yuan, tier, count", [(2000, "gold", 3), (5000, "diamond", 5)])
async def test_higher_tiers_get_more(api, yuan, tier, count):
    token = await member_with_spend(api, f"monthly-{tier}", yuan, tier)
    payload = await claim(api, token, "2026-03-01T09:00:00+08:00")
    assert payload["userErrors"] == []
    assert len(payload["coupons"]) == count
    held = await monthly(api, token, "2026-03-01T09:00:00+08:00")
    assert len(held) == count
    assert {(c["minSpend"], c["discountAmount"], instant(c["validUntil"])) for c in held} == {
        (5000, 500, datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST))}


async def test_member_refunded_below_silver_is_tier_too_low(api):
    token = await member_with_spend(api, "refunded", 500, "silver")
    # refunding ¥1 of the ¥500 order takes back floor(500 × 100 / 50000) = 1 growth: 499 → regular
    refund = (await api.integration("RefundOrder", {"input": {
        "externalId": "order-refunded", "externalRefundId": "r1", "amount": 100}},
        now="2026-02-20T10:00:00+08:00"))["refundOrder"]
    assert refund["userErrors"] == []
    assert (refund["member"]["growthValue"], refund["member"]["tier"]["code"]) == (499, "regular")
    assert codes(await claim(api, token, "2026-03-01T09:00:00+08:00")) == ["TIER_TOO_LOW"]
    assert await monthly(api, token, "2026-03-01T09:00:00+08:00") == []


async def test_claim_requires_a_member(api):
    result = await api.op("ClaimMonthlyCoupons")
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_red_gets_three_30_off_2(api):
    green = await member_with_spend(api, "fresh-green", 999, "green")
    assert codes(await claim(api, green, "2026-03-01T09:00:00+08:00")) == ["TIER_TOO_LOW"]
    red = await member_with_spend(api, "fresh-red", 1000, "red")
    payload = await claim(api, red, "2026-03-01T09:00:00+08:00")
    assert payload["userErrors"] == []
    assert len(payload["coupons"]) == 3
    held = await monthly(api, red, "2026-03-01T09:00:00+08:00")
    assert len(held) == 3
    for coupon in held:
        assert "满30减2" in coupon["title"]
        assert (coupon["kind"], coupon["minSpend"], coupon["discountAmount"]) == ("AMOUNT_OFF", 3000, 200)
        assert instant(coupon["validUntil"]) == datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST)
    assert codes(await claim(api, red, "2026-03-03T09:00:00+08:00")) == ["ALREADY_CLAIMED"]


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_gold_gets_five_50_off_5(api):
    token = await member_with_spend(api, "fresh-gold", 4000, "gold")
    payload = await claim(api, token, "2026-03-05T09:00:00+08:00")
    assert payload["userErrors"] == []
    held = await monthly(api, token, "2026-03-05T09:00:00+08:00")
    assert len(held) == 5
    assert {(c["minSpend"], c["discountAmount"]) for c in held} == {(5000, 500)}
    # day 6 of the next month is not claimable under this program either
    assert codes(await claim(api, token, "2026-04-06T09:00:00+08:00")) == ["NOT_CLAIMABLE"]
