"""Tier retention: an expiring tier above the base costs its retention deduction of growth, the tier
is recomputed and, above the base, valid 12 more months. Examples from the program documents."""
from datetime import datetime

import pytest

from domain.jobs import retain_tiers
from persistence.unit_of_work import SqlUnitOfWork
from tests.conftest import BOTH_PROGRAMS
from tests.integration.jobs_harness import Killed, assert_ledgers_agree, killed_after


async def retain(database, program, now: str, batch_size: int = 1000, new_uow=None):
    return await retain_tiers(new_uow or (lambda: SqlUnitOfWork(database)), program, datetime.fromisoformat(now),
                              batch_size)


async def order(api, member: str, external_id: str, amount: int, at: str):
    await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id, "amount": amount,
                                                    "channel": "STORE", "paidAt": at}}, now=at)


async def home(api, token, now: str):
    return (await api.data("MemberHome", token=token, now=now))["me"]


async def test_standard_example_gold_2500_becomes_silver_for_a_year(api, database, program):
    token, member = await api.login("gold-member", now="2026-03-01T09:00:00+08:00")
    await order(api, member, "g-1", 250000, "2026-03-01T10:00:00+08:00")  # ¥2500 → 2500 growth: gold
    me = await home(api, token, "2026-03-02T10:00:00+08:00")
    assert (me["tier"]["code"], me["growthValue"], me["tierExpiresAt"]) == ("gold", 2500, "2027-03-01T10:00:00.000+08:00")
    assert (await retain(database, program, "2027-03-01T09:59:59+08:00")).processed == 0
    assert (await retain(database, program, "2027-03-01T10:00:00+08:00")).processed == 1
    me = await home(api, token, "2027-03-01T10:00:00+08:00")
    # gold's deduction is 1000: 2500 → 1500, silver (500 ≤ 1500 < 2000), until 2028-03-01
    assert (me["tier"]["code"], me["growthValue"], me["tierExpiresAt"]) == ("silver", 1500, "2028-03-01T10:00:00.000+08:00")


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_example_red_1500_becomes_green(api, database, program):
    token, member = await api.login("red-member", now="2026-10-01T09:00:00+08:00")
    await order(api, member, "r-1", 150000, "2026-10-01T12:00:00+08:00")  # 1500 growth: red (1000 ≤ 1500 < 4000)
    assert (await home(api, token, "2026-10-02T00:00:00+08:00"))["tier"]["code"] == "red"
    assert (await retain(database, program, "2027-10-01T12:00:00+08:00")).processed == 1
    me = await home(api, token, "2027-10-02T00:00:00+08:00")
    # red's deduction is 800: 1500 → 700 < 1000 → green, the base tier, which does not expire
    assert (me["tier"]["code"], me["growthValue"], me["tierExpiresAt"]) == ("green", 700, None)


async def test_deduction_never_takes_growth_below_zero_and_runs_once(api, database, program):
    token, member = await api.login("refunded-silver", now="2026-01-05T09:00:00+08:00")
    await order(api, member, "s-1", 60000, "2026-01-05T10:00:00+08:00")  # 600 growth: silver
    await api.integration("RefundOrder", {"input": {"externalId": "s-1", "externalRefundId": "s-1-r",
                                                    "amount": 15000}}, now="2026-02-01T10:00:00+08:00")
    # refund took 150 growth back: 450 < 500 → regular at once; nothing left to retain
    assert (await home(api, token, "2026-02-02T10:00:00+08:00"))["tier"]["code"] == "regular"
    await order(api, member, "s-2", 10000, "2026-03-01T10:00:00+08:00")  # 550: silver again, valid to 2027-03-01
    first = await retain(database, program, "2027-03-02T00:00:00+08:00")
    again = await retain(database, program, "2027-03-02T08:00:00+08:00")
    assert (first.processed, again.processed) == (1, 0)
    me = await home(api, token, "2027-03-02T10:00:00+08:00")
    # silver's deduction is 300: 550 → 250 → regular
    assert (me["tier"]["code"], me["growthValue"], me["tierExpiresAt"]) == ("regular", 250, None)


async def test_batches_resume_after_a_crash(api, database, program):
    tokens = []
    for n in range(3):
        token, member = await api.login(f"batch-{n}", now="2026-05-01T09:00:00+08:00")
        await order(api, member, f"b-{n}", 60000, "2026-05-01T10:00:00+08:00")
        tokens.append(token)
    async with SqlUnitOfWork(database) as uow:  # one batch commits, then the process dies
        from domain.jobs import retention_outcome
        due = await uow.jobs.due_tier_expiries(datetime.fromisoformat("2027-05-02T00:00:00+08:00"), 1)
        await uow.jobs.apply_tier_outcomes([retention_outcome(program, d) for d in due], "RETENTION",
                                           due[0].tier_expires_at)
        await uow.commit()
    assert (await retain(database, program, "2027-05-02T01:00:00+08:00", batch_size=1)).processed == 2
    for token in tokens:
        assert (await home(api, token, "2027-05-02T10:00:00+08:00"))["growthValue"] == 300  # 600 − 300 once


@BOTH_PROGRAMS
async def test_retention_under_either_program_and_a_run_killed_mid_batch(api, database, program):
    second, third = program.tiers[1], program.tiers[2]
    tokens = []
    for n in range(3):
        token, member = await api.login(f"either-{n}", now="2026-04-01T09:00:00+08:00")
        await order(api, member, f"either-{n}", third.growth_threshold * 100, "2026-04-01T10:00:00+08:00")
        tokens.append(token)
    with pytest.raises(Killed):
        await retain(database, program, "2027-04-01T10:00:00+08:00", batch_size=1,
                     new_uow=killed_after(database, commits=1))
    await assert_ledgers_agree(database)
    assert (await retain(database, program, "2027-04-01T10:00:01+08:00", batch_size=1)).processed == 2
    growth = third.growth_threshold - third.retention_deduction
    expected = program.tier_for_growth(growth)
    assert expected.level <= second.level
    for token in tokens:
        me = await home(api, token, "2027-04-02T10:00:00+08:00")
        assert (me["tier"]["code"], me["growthValue"]) == (expected.code, growth)
