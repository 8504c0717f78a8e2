"""The optional demotion policy (the seed plan's six months): a member above the base tier with no
eligible order paid in the last N months goes back to the base tier, growth cut to just below the
second tier, and is told. Third-party and fully refunded orders do not keep a tier."""
from dataclasses import replace

import pytest

from domain.jobs import demote_inactive
from tests.conftest import BOTH_PROGRAMS
from tests.integration.jobs_harness import Killed, assert_ledgers_agree, killed_after, notices, run_job

pytestmark = BOTH_PROGRAMS
REACHED = "2026-03-01T10:00:00+08:00"
SUMMER = "2026-08-03T10:00:00+08:00"  # a Monday


@pytest.fixture
def program(request, programs):
    """The program under test with `tier_policy.demote_after_months_without_order = 6`."""
    base = programs[request.param]
    return replace(base, tier_policy=replace(base.tier_policy, demote_after_months_without_order=6))


async def order(api, member, external_id, amount, paid_at, channel="STORE"):
    result = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id,
                                                             "amount": amount, "channel": channel, "paidAt": paid_at}},
                                   now=paid_at)
    assert result["recordOrder"]["userErrors"] == []
    return result["recordOrder"]["member"]


async def third_tier_member(api, program, code):
    token, member = await api.login(code, now="2026-03-01T09:00:00+08:00")
    reached = await order(api, member, f"{code}-reach", program.tiers[2].growth_threshold * 100, REACHED)
    assert reached["tier"]["code"] == program.tiers[2].code
    return token, member


async def home(api, token):
    return (await api.data("MemberHome", token=token, now="2026-09-03T10:00:00+08:00"))["me"]


async def test_six_months_without_an_eligible_order_demotes_to_the_base_tier(api, database, program):
    idle_token, _ = await third_tier_member(api, program, "idle")
    active_token, active = await third_tier_member(api, program, "active")
    await order(api, active, "active-summer", 1000, SUMMER)
    online_token, online = await third_tier_member(api, program, "third-party")
    await order(api, online, "tp-summer", 100000, SUMMER, channel="THIRD_PARTY")
    refunded_token, refunded = await third_tier_member(api, program, "refunded")
    await order(api, refunded, "rf-summer", 1000, SUMMER)
    await api.integration("RefundOrder", {"input": {"externalId": "rf-summer", "externalRefundId": "rf-summer-r",
                                                    "amount": 1000}}, now=SUMMER)

    # six months after 10:00 on 1 March is 10:00 on 1 September: the orders then are still recent
    assert (await run_job(demote_inactive, database, program, "2026-09-01T09:59:59+08:00")).processed == 0
    result = await run_job(demote_inactive, database, program, "2026-09-02T00:10:00+08:00")
    assert (result.period, result.processed) == ("2026-09-02", 3)
    ceiling = program.tiers[1].growth_threshold - 1
    for token in (idle_token, online_token, refunded_token):
        me = await home(api, token)
        assert (me["tier"]["code"], me["growthValue"], me["tierExpiresAt"]) == (program.base_tier.code, ceiling, None)
        told = await notices(api, token, "TIER_CHANGED")
        assert told[0]["body"] == f"您的会员等级已由{program.tiers[2].name}调整为{program.base_tier.name}。"
    assert (await home(api, active_token))["tier"]["code"] == program.tiers[2].code
    assert (await run_job(demote_inactive, database, program, "2026-09-02T20:00:00+08:00")).already_done
    await assert_ledgers_agree(database)


async def test_the_next_order_counts_from_the_cut_and_gifts_are_not_given_again(api, database, program):
    token, member = await third_tier_member(api, program, "comeback")
    await run_job(demote_inactive, database, program, "2026-09-02T00:10:00+08:00")
    coupons_before = (await api.data("MyCoupons", {"first": 100}, token=token))["me"]["coupons"]["totalCount"]
    back = await order(api, member, "comeback-2", 100, "2026-09-07T10:00:00+08:00")  # ¥1: one growth
    assert back["tier"]["code"] == program.tiers[1].code and back["growthValue"] == program.tiers[1].growth_threshold
    assert (await api.data("MyCoupons", {"first": 100}, token=token))["me"]["coupons"]["totalCount"] == coupons_before


async def test_a_run_killed_mid_batch_resumes(api, database, program):
    tokens = [(await third_tier_member(api, program, f"crash-{n}"))[0] for n in range(3)]
    with pytest.raises(Killed):
        await run_job(demote_inactive, database, program, "2026-09-02T00:10:00+08:00", batch_size=1,
                      new_uow=killed_after(database, commits=1))
    await assert_ledgers_agree(database)
    assert (await run_job(demote_inactive, database, program, "2026-09-02T00:20:00+08:00",
                          batch_size=1)).processed == 2
    for token in tokens:
        assert (await home(api, token))["tier"]["code"] == program.base_tier.code
        assert len(await notices(api, token, "TIER_CHANGED")) == 2  # up (two levels at once), then down once


async def test_without_the_policy_nobody_is_demoted(api, database, programs, program):
    token, _ = await third_tier_member(api, program, "unbound")
    plain = programs[program.name]
    assert (await run_job(demote_inactive, database, plain, "2027-09-02T00:10:00+08:00")).status == "not due"
    assert (await home(api, token))["tier"]["code"] == program.tiers[2].code
