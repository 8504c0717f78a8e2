"""Annual clearing (fresh-grocery program): once a local year has closed (the first job run from 00:00 on
1 January), 30% (rounded down) of the coins earned that calendar year and still unspent are cleared: once
per member, one EXPIRY entry, coins of other years untouched, offset coins a refund gives back counted in
the year they were first earned; a run missed on 1 January catches up in January; a run killed half-way
resumes; the December reminder says what the clearing would take as of its sending."""
import pytest
from sqlalchemy import select

from domain.jobs import clear_annually, remind_annual_clearing, run_due_jobs
from persistence.tables import point_entries, points_lots
from persistence.unit_of_work import SqlUnitOfWork
from tests.integration.jobs_harness import (
    Killed, assert_ledgers_agree, at, killed_after, loyalty_jobs_run, notices, run_job,
)

pytestmark = pytest.mark.program("fresh-grocery")

DESCRIPTION = "2026年度番茄币清除（当年未使用的30%）"
NEW_YEAR = "2027-01-01T00:00:00+08:00"   # the first instant 2026 has closed, locally


async def order(api, member, external_id, amount, paid_at):
    result = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id,
                                                             "amount": amount, "channel": "APP", "paidAt": paid_at}},
                                   now=paid_at)
    assert result["recordOrder"]["userErrors"] == []


async def offset(api, member, external_order_id, points, order_amount, now):
    result = await api.integration("RedeemPointsForOrder", {"input": {
        "memberId": member, "externalOrderId": external_order_id, "points": points, "orderAmount": order_amount}},
        now=now)
    assert result["redeemPointsForOrder"]["userErrors"] == []


async def refund(api, external_id, amount, now):
    result = await api.integration("RefundOrder", {"input": {"externalId": external_id, "amount": amount,
                                                             "externalRefundId": f"{external_id}-{now}"}}, now=now)
    assert result["refundOrder"]["userErrors"] == []


async def check_in(api, token, key, now) -> int:
    data = await api.data("CheckIn", {"idempotencyKey": key}, token=token, now=now)
    return data["checkIn"]["checkIn"]["pointsAwarded"]


async def balance(api, token) -> int:
    return (await api.data("MemberHome", token=token))["me"]["pointsBalance"]


async def entries(api, token, kind="EXPIRY") -> list[dict]:
    data = await api.data("PointHistory", {"first": 100}, token=token)
    return [e["node"] for e in data["me"]["pointHistory"]["edges"] if e["node"]["kind"] == kind]


async def saver(api, code="saver", last_coin=True) -> str:
    """30 coins earned in 2025 (at 23:30 on 31 December), 99 in 2026 and, with `last_coin`, one more at 23:59
    on 31 December 2026: 100 coins of 2026, of which the clearing takes 30 (29 without that last coin)."""
    token, member = await api.login(code, now="2025-12-01T10:00:00+08:00")
    await order(api, member, f"{code}-2025", 30000, "2025-12-31T23:30:00+08:00")   # a Wednesday: 30 coins
    await order(api, member, f"{code}-2026", 99000, "2026-03-02T10:00:00+08:00")   # a Monday: 99 coins
    if last_coin:
        assert await check_in(api, token, "ny-eve", "2026-12-31T23:59:00+08:00") == 1
    assert await balance(api, token) == 129 + last_coin
    return token


def statuses(results) -> dict[str, tuple[str | None, str]]:
    return {r.job: (r.period, r.status) for r in results}


async def test_the_first_run_from_midnight_on_1_january_clears_the_closed_year(api, database, program):
    token = await saver(api)
    small_token, small = await api.login("small", now="2026-06-01T10:00:00+08:00")
    await order(api, small, "small-1", 3000, "2026-06-01T10:00:00+08:00")  # 3 coins: 30% is 0.9 → nothing
    uow = lambda: SqlUnitOfWork(database)  # noqa: E731
    for on_31_december in ("2026-12-31T00:10:00+08:00", "2026-12-31T23:59:59+08:00"):
        assert statuses(await run_due_jobs(uow, program, at(on_31_december)))["annual_clearing"] == (None, "not due")
    assert await entries(api, token) == []
    assert await check_in(api, token, "new-year", "2027-01-01T00:00:30+08:00") == 2   # 2027's: not counted
    first = await run_due_jobs(uow, program, at("2026-12-31T16:10:00+00:00"))          # 00:10 on 1 January, local
    assert statuses(first)["annual_clearing"] == ("2026", "done")
    # The 30 coins of 2025 expired at the end of 31 December (the expiry job runs first) and are not 2026's
    # anyway; 2026: 99 + the coin of 23:59 on 31 December → floor(100 × 30%) = 30.
    assert [(e["delta"], e["balanceAfter"], e["description"]) for e in await entries(api, token)] == [
        (-30, 72, DESCRIPTION), (-30, 102, "番茄币过期")]
    assert await balance(api, token) == 72
    assert await entries(api, small_token) == [] and await balance(api, small_token) == 3
    await assert_ledgers_agree(database)


async def test_once_a_year_and_spent_coins_are_not_cleared(api, database, program):
    token, member = await api.login("spender", now="2026-01-05T10:00:00+08:00")
    await order(api, member, "spender-1", 100000, "2026-03-02T10:00:00+08:00")  # 100 coins
    await offset(api, member, "spend", 50, 10000, "2026-06-01T10:00:00+08:00")
    uow = lambda: SqlUnitOfWork(database)  # noqa: E731
    first = await run_due_jobs(uow, program, at(NEW_YEAR))
    assert statuses(first)["annual_clearing"] == ("2026", "done")
    for later in ("2027-01-01T09:00:00+08:00", "2027-01-20T09:00:00+08:00"):
        assert statuses(await run_due_jobs(uow, program, at(later)))["annual_clearing"] == ("2026", "already done")
    assert [e["delta"] for e in await entries(api, token)] == [-15]  # floor(50 × 30%)
    assert await balance(api, token) == 35


async def test_loyalty_jobs_run_clears_at_midnight_on_1_january_not_on_31_december(api, database, program):
    token = await saver(api, "operator")
    assert "annual_clearing: not due" in await loyalty_jobs_run(database, "fresh-grocery", "2026-12-31T23:59:59+08:00")
    assert await entries(api, token) == []
    assert "annual_clearing 2026: 1 members" in await loyalty_jobs_run(database, "fresh-grocery", NEW_YEAR)
    assert "annual_clearing 2026: already done" in await loyalty_jobs_run(database, "fresh-grocery",
                                                                          "2027-01-01T06:00:00+08:00")
    # the 2025 lot expired at the end of 31 December; then 30% of 2026's 100
    assert [e["delta"] for e in await entries(api, token)] == [-30, -30]
    assert await balance(api, token) == 70


async def test_a_clearing_missed_on_1_january_runs_later_in_january(api, database, program):
    token = await saver(api, "late")
    await check_in(api, token, "new-year", "2027-01-01T09:00:00+08:00")  # 2027's
    assert (await run_job(clear_annually, database, program, "2026-11-30T09:00:00+08:00")).status == "not due"
    result = await run_job(clear_annually, database, program, "2027-01-02T03:00:00+08:00")
    assert (result.period, result.processed) == ("2026", 1)
    assert [e["delta"] for e in await entries(api, token)] == [-30]
    assert (await run_job(clear_annually, database, program, "2027-02-01T03:00:00+08:00")).status == "not due"


async def test_a_run_killed_mid_batch_resumes_and_clears_each_member_once(api, database, program):
    tokens = [await saver(api, f"crash-{n}") for n in range(3)]
    with pytest.raises(Killed):
        await run_job(clear_annually, database, program, "2027-01-01T01:00:00+08:00", batch_size=1,
                      new_uow=killed_after(database, commits=1))
    await assert_ledgers_agree(database)
    cleared = [len(await entries(api, t)) for t in tokens]
    assert sorted(cleared) == [0, 0, 1]  # the first batch committed, the second died with nothing of it kept
    result = await run_job(clear_annually, database, program, "2027-01-01T02:00:00+08:00", batch_size=1)
    assert result.processed == 2
    for t in tokens:
        assert [e["delta"] for e in await entries(api, t)] == [-30]
        assert await balance(api, t) == 100


async def returned_lots(database, external_id: str, program) -> list[tuple[int, int]]:
    """(local year earned, points) of the lots that refunds of `external_id` gave back, oldest entry first."""
    async with database.read_engine.connect() as conn:
        rows = await conn.execute(
            select(points_lots.c.earned_at, points_lots.c.points)
            .join(point_entries, point_entries.c.id == points_lots.c.entry_id)
            .where(point_entries.c.kind == "REFUND",
                   point_entries.c.description == f"订单 {external_id} 退款：退还抵扣积分")
            .order_by(points_lots.c.id))
        return [(program.calendar.local_date(earned_at).year, points) for earned_at, points in rows]


async def test_offset_coins_a_refund_gives_back_keep_the_year_they_were_earned(api, database, program):
    token, member = await api.login("refunded", now="2025-11-01T10:00:00+08:00")
    await order(api, member, "old", 100000, "2025-12-01T10:00:00+08:00")   # a Monday: 100 coins of 2025
    await offset(api, member, "buy", 100, 10000, "2026-02-02T10:00:00+08:00")   # spends those 100
    await order(api, member, "buy", 9000, "2026-02-02T10:00:00+08:00")    # 9 coins of 2026
    await order(api, member, "new", 50000, "2026-03-02T10:00:00+08:00")   # 50 coins of 2026
    await refund(api, "buy", 9000, "2026-06-01T10:00:00+08:00")           # takes the 9 back, gives the 100 back
    assert await returned_lots(database, "buy", program) == [(2025, 100)]
    assert await balance(api, token) == 150
    assert (await run_job(clear_annually, database, program, "2027-01-01T00:10:00+08:00")).processed == 1
    assert [e["delta"] for e in await entries(api, token)] == [-15]     # 30% of 2026's 50, not of 150
    assert await balance(api, token) == 135


async def test_partial_refunds_give_an_offset_back_first_taken_first_returned_by_year(api, database, program):
    token, member = await api.login("mixed", now="2025-11-01T10:00:00+08:00")
    await order(api, member, "old2", 30000, "2025-12-01T10:00:00+08:00")   # 30 coins of 2025 (expire first)
    await order(api, member, "new2", 100000, "2026-03-02T10:00:00+08:00")  # 100 coins of 2026
    await offset(api, member, "mixed", 100, 10000, "2026-06-01T10:00:00+08:00")   # 30 of 2025, then 70 of 2026
    await order(api, member, "mixed", 10000, "2026-06-01T10:00:00+08:00")  # a Monday: 10 coins
    await refund(api, "mixed", 5000, "2026-06-10T10:00:00+08:00")         # half: 50 back, 5 taken
    assert await returned_lots(database, "mixed", program) == [(2025, 30), (2026, 20)]
    await refund(api, "mixed", 5000, "2026-06-20T10:00:00+08:00")         # the rest: 50 back, 5 taken
    assert await returned_lots(database, "mixed", program) == [(2025, 30), (2026, 20), (2026, 50)]
    assert await balance(api, token) == 130
    await run_job(clear_annually, database, program, "2027-01-01T00:10:00+08:00")
    # 2026's coins left: 100 − 70 spent − 10 taken back + 10 of the order + 20 + 50 given back = 100 → 30
    assert [e["delta"] for e in await entries(api, token)] == [-30]
    assert await balance(api, token) == 100


async def test_the_december_reminder_says_what_would_be_cleared_as_of_its_sending(api, database, program):
    token = await saver(api, "warned", last_coin=False)
    assert (await run_job(remind_annual_clearing, database, program, "2026-12-01T12:00:00+08:00")).status == "not due"
    assert (await run_job(remind_annual_clearing, database, program, "2026-12-02T00:30:00+08:00")).processed == 1
    assert (await run_job(remind_annual_clearing, database, program, "2026-12-03T00:30:00+08:00")).processed == 0
    told = await notices(api, token, "POINTS_EXPIRING")
    assert [(n["title"], n["body"]) for n in told] == [(
        "番茄币年度清除提醒",
        "2027年1月1日起将清除2026年获得且未使用的番茄币的30%：按 2026-12-02 的余额为 29 番茄币"
        "（之后使用或获得番茄币会改变这一数字）。")]   # floor(99 × 30%) then
    assert await check_in(api, token, "ny-eve", "2026-12-31T23:59:00+08:00") == 1
    on_31_december = await run_job(remind_annual_clearing, database, program, "2026-12-31T00:30:00+08:00")
    assert (on_31_december.status, on_31_december.processed) == ("done", 0)    # due, and told once a year
    assert (await run_job(remind_annual_clearing, database, program, NEW_YEAR)).status == "not due"
    await run_job(clear_annually, database, program, "2027-01-01T00:10:00+08:00")
    assert [e["delta"] for e in await entries(api, token)] == [-30]           # floor(100 × 30%) by then
    assert len(await notices(api, token, "POINTS_EXPIRING")) == 1


@pytest.mark.program("standard")
async def test_the_standard_program_has_no_annual_clearing(api, database, program):
    token, _ = await api.login("standard-saver", now="2026-03-01T10:00:00+08:00")
    for now in ("2026-12-10T10:00:00+08:00", "2026-12-31T10:00:00+08:00", NEW_YEAR):
        results = statuses(await run_due_jobs(lambda: SqlUnitOfWork(database), program, at(now)))
        assert results["annual_clearing"] == results["clearing_reminder"] == (None, "not due")
    assert await entries(api, token) == [] and await balance(api, token) == 100
