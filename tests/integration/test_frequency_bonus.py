"""Visit-frequency bonus (fresh-grocery, 消费次数累积): per local month, orders are visits (one within 24
hours of the last counted visit counts with it; fully refunded ones are none); with net spend of at
least ¥300, 5 visits pay 20 coins and 20 visits pay 50 (the highest threshold reached, not the sum),
credited once from the 1st of the next month."""
import pytest

from domain.jobs import grant_frequency_bonus, run_due_jobs
from persistence.unit_of_work import SqlUnitOfWork
from tests.integration.jobs_harness import (
    Killed, assert_ledgers_agree, at, killed_after, loyalty_jobs_run, notices, run_job,
)

pytestmark = pytest.mark.program("fresh-grocery")

APRIL_FIRST = "2026-04-01T00:00:00+08:00"   # the first instant March 2026 has closed, locally
MARCH = "2026-03 消费频次奖励"


def local(day: int, clock: str = "10:00") -> str:
    """A moment of March 2026, local time."""
    return f"2026-03-{day:02d}T{clock}:00+08:00"


async def order(api, member, external_id, amount, paid_at, channel="APP"):
    result = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": external_id,
                                                             "amount": amount, "channel": channel,
                                                             "paidAt": paid_at}}, now=paid_at)
    assert result["recordOrder"]["userErrors"] == []


async def refund(api, external_id, amount, now):
    result = await api.integration("RefundOrder", {"input": {"externalId": external_id, "amount": amount,
                                                             "externalRefundId": f"{external_id}-r{amount}"}}, now=now)
    assert result["refundOrder"]["userErrors"] == []


async def shopper(api, code: str, paid: list[str], amount: int | list[int]) -> tuple[str, str]:
    """A member with one APP order at each of `paid` (of `amount` fen each, or the amounts given)."""
    token, member = await api.login(code, now="2026-02-20T10:00:00+08:00")
    amounts = amount if isinstance(amount, list) else [amount] * len(paid)
    for n, (paid_at, fen) in enumerate(zip(paid, amounts, strict=True)):
        await order(api, member, f"{code}-{n}", fen, paid_at)
    return token, member


def days(*numbers: int) -> list[str]:
    return [local(n) for n in numbers]


async def frequency_entries(api, token) -> list[tuple[int, str]]:
    data = await api.data("PointHistory", {"first": 100}, token=token)
    return [(e["node"]["delta"], e["node"]["description"]) for e in data["me"]["pointHistory"]["edges"]
            if e["node"]["kind"] == "BONUS" and "消费频次奖励" in e["node"]["description"]]


async def run_bonus(database, program, now: str = APRIL_FIRST, **kw):
    return await run_job(grant_frequency_bonus, database, program, now, **kw)


async def test_four_visits_earn_nothing_five_earn_20(api, database, program):
    four, _ = await shopper(api, "four", days(2, 5, 9, 13), 7500)          # ¥300 in 4 visits
    five, _ = await shopper(api, "five", days(2, 5, 9, 13, 17), 6000)      # ¥300 in 5 visits
    result = await run_bonus(database, program)
    assert (result.period, result.status) == ("2026-03", "done")
    assert await frequency_entries(api, four) == []
    assert await frequency_entries(api, five) == [(20, f"{MARCH}（5 次）")]
    told = await notices(api, five, "BONUS")
    assert [(n["title"], n["body"]) for n in told] == [("消费频次奖励", "您 2026-03 共消费 5 次，奖励 20 番茄币。")]
    assert await notices(api, four, "BONUS") == []


async def test_19_visits_earn_20_and_20_visits_earn_50_not_the_sum(api, database, program):
    nineteen, _ = await shopper(api, "nineteen", days(*range(1, 20)), 1600)   # ¥304
    twenty, _ = await shopper(api, "twenty", days(*range(1, 21)), 1500)       # ¥300
    await run_bonus(database, program)
    assert await frequency_entries(api, nineteen) == [(20, f"{MARCH}（19 次）")]
    assert await frequency_entries(api, twenty) == [(50, f"{MARCH}（20 次）")]


async def test_orders_23h59m_apart_count_once_and_24h_apart_twice(api, database, program):
    once, _ = await shopper(api, "within", [local(2), local(3, "09:59"), *days(9, 13, 17)], 6000)
    twice, _ = await shopper(api, "apart", [local(2), local(3, "10:00"), *days(9, 13, 17)], 6000)
    await run_bonus(database, program)
    assert await frequency_entries(api, once) == []                  # 4 visits
    assert await frequency_entries(api, twice) == [(20, f"{MARCH}（5 次）")]


async def test_the_window_runs_from_the_last_counted_visit(api, database, program):
    # 2 March 10:00 counts; 3 March 06:00 (20 h later) does not; 3 March 16:00 is 30 h after the counted
    # visit (10 h after the one that did not count) and counts: with 9, 13 and 17 March, 5 visits.
    token, _ = await shopper(api, "greedy", [local(2), local(3, "06:00"), local(3, "16:00"), *days(9, 13, 17)], 5000)
    await run_bonus(database, program)
    assert await frequency_entries(api, token) == [(20, f"{MARCH}（5 次）")]


async def test_net_spend_299_99_after_a_partial_refund_earns_nothing_300_earns(api, database, program):
    short, _ = await shopper(api, "short", days(2, 5, 9, 13, 17), [6000, 6000, 6000, 6000, 6001])
    enough, _ = await shopper(api, "enough", days(2, 5, 9, 13, 17), [6000, 6000, 6000, 6000, 6001])
    await refund(api, "short-4", 2, local(20))     # ¥300.01 − ¥0.02 = ¥299.99
    await refund(api, "enough-4", 1, local(20))    # ¥300.00
    await run_bonus(database, program)
    assert await frequency_entries(api, short) == []
    assert await frequency_entries(api, enough) == [(20, f"{MARCH}（5 次）")]


async def test_a_fully_refunded_order_is_not_a_visit_and_starts_no_window(api, database, program):
    # d7 fully refunded: 4 visits, though ¥300 net remains.
    four, _ = await shopper(api, "refunded", days(2, 5, 7, 9, 13), [7500, 7500, 6000, 7500, 7500])
    await refund(api, "refunded-2", 6000, local(8))
    # 2 March 10:00 fully refunded, so the order at 20:00 that day is a visit: 5 in all.
    five, _ = await shopper(api, "late", [local(2), local(2, "20:00"), *days(5, 9, 13, 17)], 6000)
    await refund(api, "late-0", 6000, local(3))
    await run_bonus(database, program)
    assert await frequency_entries(api, four) == []
    assert await frequency_entries(api, five) == [(20, f"{MARCH}（5 次）")]


async def test_the_local_month_and_the_eligible_channels(api, database, program):
    # 1 March 00:10 local is still 28 February in UTC: March's; 1 April 00:00 local is April's.
    token, member = await shopper(api, "edges", [local(1, "00:10"), *days(5, 9, 13), local(31, "23:00")], 6000)
    await order(api, member, "edges-april", 6000, "2026-04-01T00:00:00+08:00")
    late, late_member = await shopper(api, "late-march", days(5, 9, 13, 17), 6000)
    await order(api, late_member, "late-march-april", 6000, "2026-04-01T00:00:00+08:00")
    # Third-party orders are neither visits nor spend.
    few, few_member = await shopper(api, "few", days(2, 5, 9, 13), 7500)
    await order(api, few_member, "few-other", 7500, local(20), channel="THIRD_PARTY")
    thin, thin_member = await shopper(api, "thin", days(2, 5, 9, 13, 17), 5000)
    await order(api, thin_member, "thin-other", 7500, local(20), channel="THIRD_PARTY")
    await run_bonus(database, program)
    assert await frequency_entries(api, token) == [(20, f"{MARCH}（5 次）")]
    assert [await frequency_entries(api, t) for t in (late, few, thin)] == [[], [], []]


async def test_credited_from_the_1st_of_the_next_month_once(api, database, program):
    token, _ = await shopper(api, "once", days(2, 5, 9, 13, 17), 6000)
    uow = lambda: SqlUnitOfWork(database)  # noqa: E731
    march_end = await run_due_jobs(uow, program, at("2026-03-31T23:59:59+08:00"))
    assert {r.job: r.period for r in march_end}["frequency_bonus"] == "2026-02"
    assert await frequency_entries(api, token) == []
    balance = (await api.data("MemberHome", token=token))["me"]["pointsBalance"]
    first = await run_due_jobs(uow, program, at(APRIL_FIRST))
    assert {r.job: (r.period, r.status) for r in first}["frequency_bonus"] == ("2026-03", "done")
    assert await frequency_entries(api, token) == [(20, f"{MARCH}（5 次）")]
    assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == balance + 20
    for later in ("2026-04-01T08:00:00+08:00", "2026-04-30T23:00:00+08:00"):
        again = await run_due_jobs(uow, program, at(later))
        assert {r.job: r.status for r in again}["frequency_bonus"] == "already done"
    assert await frequency_entries(api, token) == [(20, f"{MARCH}（5 次）")]
    assert len(await notices(api, token, "BONUS")) == 1


async def test_loyalty_jobs_run_on_the_1st_pays_it_once(api, database, program):
    token, _ = await shopper(api, "operator", days(2, 5, 9, 13, 17), 6000)
    assert "frequency_bonus 2026-02: 0 members" in await loyalty_jobs_run(database, "fresh-grocery",
                                                                          "2026-03-31T23:59:59+08:00")
    assert "frequency_bonus 2026-03: 1 members" in await loyalty_jobs_run(database, "fresh-grocery", APRIL_FIRST)
    assert "frequency_bonus 2026-03: already done" in await loyalty_jobs_run(database, "fresh-grocery",
                                                                             "2026-04-02T00:00:00+08:00")
    assert await frequency_entries(api, token) == [(20, f"{MARCH}（5 次）")]


async def test_a_run_killed_mid_batch_pays_each_member_once(api, database, program):
    tokens = [(await shopper(api, f"crash-{n}", days(2, 5, 9, 13, 17), 6000))[0] for n in range(3)]
    with pytest.raises(Killed):
        await run_bonus(database, program, batch_size=1, new_uow=killed_after(database, commits=1))
    await assert_ledgers_agree(database)
    assert sorted([len(await frequency_entries(api, t)) for t in tokens]) == [0, 0, 1]
    assert (await run_bonus(database, program, "2026-04-01T00:05:00+08:00", batch_size=1)).processed == 2
    for token in tokens:
        assert await frequency_entries(api, token) == [(20, f"{MARCH}（5 次）")]


async def test_members_without_enough_visits_are_passed_in_batches(api, database, program):
    # Members examined and not paid are done for the month too, so batches move on past them.
    losers = [(await shopper(api, f"near-{n}", [local(2), local(2, "12:00"), *days(5, 9, 13)], 6000))[0]
              for n in range(3)]
    winner, _ = await shopper(api, "winner", days(2, 5, 9, 13, 17), 6000)
    result = await run_bonus(database, program, batch_size=2)
    assert result.processed == 4
    assert [await frequency_entries(api, t) for t in losers] == [[], [], []]
    assert await frequency_entries(api, winner) == [(20, f"{MARCH}（5 次）")]


@pytest.mark.program("standard")
async def test_the_standard_program_has_no_frequency_bonus(api, database, program):
    token, member = await api.login("standard-shopper", now="2026-02-20T10:00:00+08:00")
    for n in range(1, 21):
        await order(api, member, f"std-{n}", 3000, local(n))
    results = await run_due_jobs(lambda: SqlUnitOfWork(database), program, at(APRIL_FIRST))
    assert {r.job: r.status for r in results}["frequency_bonus"] == "not due"
    assert await frequency_entries(api, token) == []
