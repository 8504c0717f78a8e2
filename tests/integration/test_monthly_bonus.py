"""Monthly spend bonus: once a local month has closed, eligible spend of ¥500 in it (net of refunds
recorded by then) earns 100 points once."""
from datetime import datetime

import pytest

from domain.jobs import grant_monthly_bonus
from persistence.unit_of_work import SqlUnitOfWork
from tests.conftest import BOTH_PROGRAMS
from tests.integration.jobs_harness import Killed, assert_ledgers_agree, killed_after

APRIL_FIRST = "2026-04-01T00:30:00+08:00"


async def run_bonus(database, program, now: str = APRIL_FIRST):
    return await grant_monthly_bonus(lambda: SqlUnitOfWork(database), program, datetime.fromisoformat(now))


async def order(api, member, external_id, amount, paid_at, channel="APP"):
    await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id, "amount": amount,
                                                    "channel": channel, "paidAt": paid_at}}, now=paid_at)


async def bonus_entries(api, token):
    data = await api.data("PointHistory", {"first": 50}, token=token)
    return [e["node"] for e in data["me"]["pointHistory"]["edges"] if e["node"]["kind"] == "BONUS"]


async def test_local_month_boundaries_and_channels(api, database, program):
    token, member = await api.login("bonus-edge", now="2026-03-01T08:00:00+08:00")
    await order(api, member, "e-1", 30000, "2026-03-01T00:10:00+08:00")   # 29 Feb 16:10Z, but 1 March locally
    await order(api, member, "e-2", 19999, "2026-03-31T23:50:00+08:00")   # 31 March locally
    await order(api, member, "e-3", 90000, "2026-04-01T00:00:00+08:00", "APP")        # April: not March
    await order(api, member, "e-4", 90000, "2026-03-15T12:00:00+08:00", "THIRD_PARTY")  # not eligible
    result = await run_bonus(database, program)
    assert (result.period, result.processed) == ("2026-03", 0)  # 300.00 + 199.99 = 499.99 < 500


async def test_bonus_once_for_500_net_of_refunds(api, database, program):
    token, member = await api.login("bonus-yes", now="2026-03-01T08:00:00+08:00")
    await order(api, member, "y-1", 30000, "2026-03-02T12:00:00+08:00")
    await order(api, member, "y-2", 20000, "2026-03-20T12:00:00+08:00")   # 500.00 exactly
    token_no, member_no = await api.login("bonus-refunded", now="2026-03-01T08:00:00+08:00")
    await order(api, member_no, "n-1", 60000, "2026-03-03T12:00:00+08:00")
    await api.integration("RefundOrder", {"input": {"externalId": "n-1", "externalRefundId": "n-1-r",
                                                    "amount": 10001}}, now="2026-03-30T12:00:00+08:00")  # 499.99 net
    balance = (await api.data("MemberHome", token=token))["me"]["pointsBalance"]
    result = await run_bonus(database, program)
    assert result.processed == 1
    assert [(e["delta"], e["description"]) for e in await bonus_entries(api, token)] == [(100, "2026-03 月度消费奖励")]
    assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == balance + 100
    assert await bonus_entries(api, token_no) == []
    again = await run_bonus(database, program, "2026-04-15T10:00:00+08:00")
    assert again.already_done
    assert len(await bonus_entries(api, token)) == 1


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_bonus_is_100_coins(api, database, program):
    token, member = await api.login("fresh-bonus", now="2026-03-01T08:00:00+08:00")
    await order(api, member, "f-1", 50000, "2026-03-09T12:00:00+08:00")  # a Monday: 50 coins
    assert (await run_bonus(database, program)).processed == 1
    assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == 50 + 100


@BOTH_PROGRAMS
async def test_a_bonus_run_killed_mid_batch_pays_each_member_once(api, database, program):
    tokens = []
    for n in range(3):
        token, member = await api.login(f"crash-{n}", now="2026-03-01T08:00:00+08:00")
        await order(api, member, f"crash-{n}", program.monthly_bonus.min_spend, "2026-03-16T12:00:00+08:00")
        tokens.append(token)
    with pytest.raises(Killed):
        await grant_monthly_bonus(killed_after(database, commits=1), program, datetime.fromisoformat(APRIL_FIRST), 1)
    await assert_ledgers_agree(database)
    assert (await grant_monthly_bonus(lambda: SqlUnitOfWork(database), program, datetime.fromisoformat(APRIL_FIRST),
                                      1)).processed == 2
    for token in tokens:
        assert [e["delta"] for e in await bonus_entries(api, token)] == [program.monthly_bonus.points]
