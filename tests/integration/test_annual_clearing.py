"""Annual clearing (fresh-grocery program): on 31 December, 30% (rounded down) of the coins earned that
calendar year and still unspent are cleared: once per member, one EXPIRY entry, coins of other years
untouched; a run missed on 31 December catches up in January; a run killed half-way resumes."""
import pytest

from domain.jobs import clear_annually, remind_annual_clearing, run_due_jobs
from persistence.unit_of_work import SqlUnitOfWork
from tests.integration.jobs_harness import Killed, assert_ledgers_agree, at, killed_after, notices, run_job

pytestmark = pytest.mark.program("fresh-grocery")

DESCRIPTION = "2026年度番茄币清除（当年未使用的30%）"


async def order(api, member, external_id, amount, paid_at):
    result = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id,
                                                             "amount": amount, "channel": "APP", "paidAt": paid_at}},
                                   now=paid_at)
    assert result["recordOrder"]["userErrors"] == []


async def balance(api, token) -> int:
    return (await api.data("MemberHome", token=token))["me"]["pointsBalance"]


async def entries(api, token, kind="EXPIRY") -> list[dict]:
    data = await api.data("PointHistory", {"first": 100}, token=token)
    return [e["node"] for e in data["me"]["pointHistory"]["edges"] if e["node"]["kind"] == kind]


async def saver(api, code="saver") -> str:
    """30 coins earned in 2025 (late on 31 December), 100 + 1 in 2026 (the last on 31 December at 00:05)."""
    token, member = await api.login(code, now="2025-12-01T10:00:00+08:00")
    await order(api, member, f"{code}-2025", 30000, "2025-12-31T23:30:00+08:00")   # a Wednesday: 30 coins
    await order(api, member, f"{code}-2026", 100000, "2026-03-02T10:00:00+08:00")  # a Monday: 100 coins
    check_in = await api.data("CheckIn", {"idempotencyKey": "ny-eve"}, token=token, now="2026-12-31T00:05:00+08:00")
    assert check_in["checkIn"]["checkIn"]["pointsAwarded"] == 1
    assert await balance(api, token) == 131
    return token


async def test_thirty_percent_of_this_years_unspent_coins_rounded_down(api, database, program):
    token = await saver(api)
    small_token, small = await api.login("small", now="2026-06-01T10:00:00+08:00")
    await order(api, small, "small-1", 3000, "2026-06-01T10:00:00+08:00")  # 3 coins: 30% is 0.9 → nothing
    before_midnight = await run_job(clear_annually, database, program, "2026-12-30T23:59:59+08:00")
    assert before_midnight.status == "not due"
    result = await run_job(clear_annually, database, program, "2026-12-30T16:10:00+00:00")  # 00:10 on the 31st, local
    assert (result.period, result.processed) == ("2026", 2)
    # 2026: 100 + 1 unspent → floor(101 × 30%) = 30; the 30 coins of 2025 are not this year's
    assert [(e["delta"], e["balanceAfter"], e["description"]) for e in await entries(api, token)] == [
        (-30, 101, DESCRIPTION)]
    assert await balance(api, token) == 101
    assert await entries(api, small_token) == [] and await balance(api, small_token) == 3
    await assert_ledgers_agree(database)


async def test_once_a_year_and_spent_coins_are_not_cleared(api, database, program):
    token, member = await api.login("spender", now="2026-01-05T10:00:00+08:00")
    await order(api, member, "spender-1", 100000, "2026-03-02T10:00:00+08:00")  # 100 coins
    await api.integration("RedeemPointsForOrder", {"input": {"memberId": member, "externalOrderId": "spend",
                                                             "points": 50, "orderAmount": 10000}},
                          now="2026-06-01T10:00:00+08:00")
    first = await run_job(clear_annually, database, program, "2026-12-31T09:00:00+08:00")
    again = await run_job(clear_annually, database, program, "2026-12-31T21:00:00+08:00")
    january = await run_job(clear_annually, database, program, "2027-01-02T09:00:00+08:00")
    assert (first.processed, again.status, january.status) == (1, "already done", "already done")
    assert [e["delta"] for e in await entries(api, token)] == [-15]  # floor(50 × 30%)
    assert await balance(api, token) == 35


async def test_a_clearing_missed_on_31_december_runs_in_january_for_the_year_just_ended(api, database, program):
    token = await saver(api, "late")
    await api.data("CheckIn", {"idempotencyKey": "new-year"}, token=token, now="2027-01-01T09:00:00+08:00")  # 2027
    assert (await run_job(clear_annually, database, program, "2026-11-30T09:00:00+08:00")).status == "not due"
    result = await run_job(clear_annually, database, program, "2027-01-02T03:00:00+08:00")
    assert (result.period, result.processed) == ("2026", 1)
    assert [e["delta"] for e in await entries(api, token)] == [-30]
    assert (await run_job(clear_annually, database, program, "2027-02-01T03:00:00+08:00")).status == "not due"


async def test_a_run_killed_mid_batch_resumes_and_clears_each_member_once(api, database, program):
    tokens = [await saver(api, f"crash-{n}") for n in range(3)]
    with pytest.raises(Killed):
        await run_job(clear_annually, database, program, "2026-12-31T01:00:00+08:00", batch_size=1,
                      new_uow=killed_after(database, commits=1))
    await assert_ledgers_agree(database)
    cleared = [len(await entries(api, t)) for t in tokens]
    assert sorted(cleared) == [0, 0, 1]  # the first batch committed, the second died with nothing of it kept
    result = await run_job(clear_annually, database, program, "2026-12-31T02:00:00+08:00", batch_size=1)
    assert result.processed == 2
    for t in tokens:
        assert [e["delta"] for e in await entries(api, t)] == [-30]
        assert await balance(api, t) == 101


async def test_members_are_told_in_december_once(api, database, program):
    token = await saver(api, "warned")
    assert (await run_job(remind_annual_clearing, database, program, "2026-11-30T12:00:00+08:00")).status == "not due"
    assert (await run_job(remind_annual_clearing, database, program, "2026-12-01T00:30:00+08:00")).processed == 1
    assert (await run_job(remind_annual_clearing, database, program, "2026-12-02T00:30:00+08:00")).processed == 0
    told = await notices(api, token, "POINTS_EXPIRING")
    assert len(told) == 1
    assert "2026年12月31日" in told[0]["body"] and "约 30 番茄币" in told[0]["body"]  # floor(101 × 30%) then
    assert (await run_job(remind_annual_clearing, database, program, "2026-12-31T00:30:00+08:00")).status == "not due"


@pytest.mark.program("standard")
async def test_the_standard_program_has_no_annual_clearing(api, database, program):
    token, _ = await api.login("standard-saver", now="2026-03-01T10:00:00+08:00")
    results = await run_due_jobs(lambda: SqlUnitOfWork(database), program, at("2026-12-31T10:00:00+08:00"))
    assert {r.job: r.status for r in results}["annual_clearing"] == "not due"
    assert await entries(api, token) == [] and await balance(api, token) == 100
