"""Reminders: points expiring within 30 days, coupons within 3 days and tiers within 30 days are told
once each (per lot, coupon, or tier expiry), to the local day; tier changes, bonuses and the rest
arrive through the same outbox, and all of them are read through me.notifications."""
from datetime import datetime, time, timedelta

import pytest

from domain.jobs import (
    grant_monthly_bonus, remind_coupons_expiring, remind_points_expiring, remind_tiers_expiring, retain_tiers,
)
from tests.conftest import BOTH_PROGRAMS
from tests.integration.jobs_harness import Killed, assert_ledgers_agree, killed_after, notices, run_job


async def order(api, member, external_id, amount, paid_at, channel="APP"):
    result = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id,
                                                             "amount": amount, "channel": channel, "paidAt": paid_at}},
                                   now=paid_at)
    assert result["recordOrder"]["userErrors"] == []


async def test_points_expiring_within_30_days_are_told_once_per_lot(api, database, program):
    token, member = await api.login("lots", now="2025-03-10T09:00:00+08:00")  # 100, until 2026-03-10 23:59:59
    await order(api, member, "lots-1", 5000, "2025-03-17T10:00:00+08:00")      # a Monday: 50, until 2026-03-17
    spent_token, spent = await api.login("spent", now="2025-03-10T09:00:00+08:00")
    await api.integration("RedeemPointsForOrder", {"input": {"memberId": spent, "externalOrderId": "spend-all",
                                                             "points": 100, "orderAmount": 10000}},
                          now="2025-04-01T10:00:00+08:00")
    assert (await run_job(remind_points_expiring, database, program, "2026-02-07T23:59:59+08:00")).processed == 0
    assert (await run_job(remind_points_expiring, database, program, "2026-02-08T00:10:00+08:00")).processed == 1
    assert (await run_job(remind_points_expiring, database, program, "2026-02-09T00:10:00+08:00")).processed == 0
    told = await notices(api, token, "POINTS_EXPIRING")
    assert [n["body"] for n in told] == ["您有 100 积分将于 2026-03-10 起陆续过期，请尽快使用。"]
    assert (await run_job(remind_points_expiring, database, program, "2026-02-15T00:10:00+08:00")).processed == 1
    told = await notices(api, token, "POINTS_EXPIRING")
    assert [n["body"] for n in told] == ["您有 50 积分将于 2026-03-17 起陆续过期，请尽快使用。",
                                         "您有 100 积分将于 2026-03-10 起陆续过期，请尽快使用。"]
    assert await notices(api, spent_token) == []


async def test_coupons_lapsing_within_3_days_are_told_once_and_used_ones_never(api, database, program):
    keeper, _ = await api.login("keeper", now="2026-03-02T10:00:00+08:00")  # 新人礼券 until 2026-04-01 23:59:59
    user_token, user = await api.login("user", now="2026-03-02T10:00:00+08:00")
    coupon = (await api.data("MyCoupons", {"first": 5}, token=user_token, now="2026-03-03T10:00:00+08:00"))
    await api.integration("UseCoupon", {"input": {"memberId": user, "couponId": coupon["me"]["coupons"]["edges"][0]["node"]["id"],
                                                  "externalOrderId": "use-1", "orderAmount": 5000}},
                          now="2026-03-03T10:00:00+08:00")
    assert (await run_job(remind_coupons_expiring, database, program, "2026-03-28T12:00:00+08:00")).processed == 0
    assert (await run_job(remind_coupons_expiring, database, program, "2026-03-28T16:00:00+00:00")).processed == 1
    assert (await run_job(remind_coupons_expiring, database, program, "2026-03-30T00:10:00+08:00")).processed == 0
    assert [n["body"] for n in await notices(api, keeper, "COUPON_EXPIRING")] == [
        "您有 1 张优惠券将于 2026-04-01 起陆续到期，请尽快使用。"]
    assert await notices(api, user_token, "COUPON_EXPIRING") == []


async def test_tier_expiry_is_told_with_the_growth_that_keeps_it_and_again_for_the_next_expiry(api, database, program):
    token, member = await api.login("gold", now="2026-03-01T09:00:00+08:00")
    await order(api, member, "gold-1", 250000, "2026-03-01T10:00:00+08:00", "STORE")  # 2500 growth: gold to 2027-03-01
    upgraded = await notices(api, token, "TIER_CHANGED")
    assert [(n["title"], n["body"]) for n in upgraded] == [("会员等级升级", "恭喜升级为金牌会员，有效期至 2027-03-01。")]
    assert (await run_job(remind_tiers_expiring, database, program, "2027-01-29T23:00:00+08:00")).processed == 0
    assert (await run_job(remind_tiers_expiring, database, program, "2027-01-30T00:10:00+08:00")).processed == 1
    assert (await run_job(remind_tiers_expiring, database, program, "2027-01-31T00:10:00+08:00")).processed == 0
    # gold keeps at 2000 after its 1000 deduction: 2500 needs 500 more
    assert [n["body"] for n in await notices(api, token, "TIER_EXPIRING")] == [
        "您的金牌会员将于 2027-03-01 到期，届时扣除 1000 成长值并重新评定等级。再获得 500 成长值即可保级。"]
    assert (await run_job(retain_tiers, database, program, "2027-03-01T10:00:00+08:00")).processed == 1
    assert (await notices(api, token, "TIER_CHANGED"))[0]["body"] == "您的会员等级已由金牌会员调整为银牌会员，有效期至 2028-03-01。"
    assert (await run_job(remind_tiers_expiring, database, program, "2028-01-31T00:10:00+08:00")).processed == 1
    assert (await notices(api, token, "TIER_EXPIRING"))[0]["body"] == (
        "您的银牌会员将于 2028-03-01 到期，届时扣除 300 成长值并重新评定等级。按目前的成长值，到期后可保持银牌会员。")


async def test_a_refund_that_drops_the_tier_is_told(api, database, program):
    token, member = await api.login("refunded", now="2026-03-02T09:00:00+08:00")
    await order(api, member, "r-1", 60000, "2026-03-02T10:00:00+08:00")  # 600: silver
    await api.integration("RefundOrder", {"input": {"externalId": "r-1", "externalRefundId": "r-1-a",
                                                    "amount": 20000}}, now="2026-03-03T10:00:00+08:00")
    assert [n["body"] for n in await notices(api, token, "TIER_CHANGED")] == [
        "您的会员等级已由银牌会员调整为普通会员。", "恭喜升级为银牌会员，有效期至 2027-03-02。"]


async def test_the_monthly_bonus_is_told(api, database, program):
    token, member = await api.login("bonus", now="2026-03-01T08:00:00+08:00")
    await order(api, member, "b-1", 50000, "2026-03-02T12:00:00+08:00")
    assert (await run_job(grant_monthly_bonus, database, program, "2026-04-01T00:30:00+08:00")).processed == 1
    assert [n["body"] for n in await notices(api, token, "BONUS")] == ["您 2026-03 的消费已达标，奖励 100 积分。"]


async def test_a_reminder_run_killed_mid_batch_tells_each_member_once(api, database, program):
    tokens = [(await api.login(f"crash-{n}", now="2025-03-10T09:00:00+08:00"))[0] for n in range(3)]
    with pytest.raises(Killed):
        await run_job(remind_points_expiring, database, program, "2026-02-20T00:10:00+08:00", batch_size=1,
                      new_uow=killed_after(database, commits=2))
    assert sorted([len(await notices(api, t, "POINTS_EXPIRING")) for t in tokens]) == [0, 1, 1]
    assert (await run_job(remind_points_expiring, database, program, "2026-02-20T00:20:00+08:00",
                          batch_size=1)).processed == 1
    assert [len(await notices(api, t, "POINTS_EXPIRING")) for t in tokens] == [1, 1, 1]
    await assert_ledgers_agree(database)


@BOTH_PROGRAMS
async def test_every_reminder_under_either_program_across_local_midnight(api, database, program):
    """A check-in lot and the 新人礼券 of a sign-up on 2025-12-31, and the second tier reached then."""
    signed_up = "2025-12-31T10:00:00+08:00"
    token, member = await api.login("either", now=signed_up)
    await api.data("CheckIn", {"idempotencyKey": "k"}, token=token, now=signed_up)
    await order(api, member, "either-1", program.tiers[1].growth_threshold * 100, signed_up, "STORE")
    coupon_lapses = program.calendar.local_date(datetime.fromisoformat(signed_up)) + timedelta(
        days=program.coupon_templates["newcomer"].valid_days)                       # 2026-01-30
    last_quiet = datetime.combine(coupon_lapses - timedelta(days=4), time(23, 59, 59), program.calendar.zone)
    assert (await run_job(remind_coupons_expiring, database, program, last_quiet.isoformat())).processed == 0
    assert (await run_job(remind_coupons_expiring, database, program,
                          (last_quiet + timedelta(seconds=1)).isoformat())).processed == 1
    # lots and the tier both lapse on 2026-12-31: told from 2026-12-01 on, once
    assert (await run_job(remind_points_expiring, database, program, "2026-11-30T23:59:59+08:00")).processed == 0
    assert (await run_job(remind_tiers_expiring, database, program, "2026-11-30T23:59:59+08:00")).processed == 0
    assert (await run_job(remind_points_expiring, database, program, "2026-12-01T00:00:00+08:00")).processed == 1
    assert (await run_job(remind_tiers_expiring, database, program, "2026-12-01T00:00:00+08:00")).processed == 1
    assert (await run_job(remind_points_expiring, database, program, "2026-12-02T00:00:00+08:00")).processed == 0
    kinds = [n["kind"] for n in await notices(api, token)]
    assert sorted(kinds) == ["COUPON_EXPIRING", "POINTS_EXPIRING", "TIER_CHANGED", "TIER_EXPIRING"]
