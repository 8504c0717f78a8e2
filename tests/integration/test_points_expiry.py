"""Points expiry: each lot past its end-of-day expiry gives up its remainder, one EXPIRY entry per
member per run; running again, or after a run that died half-way, changes nothing more."""
from datetime import datetime

import pytest

from domain.jobs import expire_points
from persistence.unit_of_work import SqlUnitOfWork
from tests.conftest import BOTH_PROGRAMS
from tests.integration.jobs_harness import Killed, assert_ledgers_agree, killed_after

SIGNUP = "2025-03-10T09:00:00+08:00"          # sign-up lot: 100 points, expires 2026-03-10 23:59:59 local
ORDER_DAY = "2025-06-02T12:00:00+08:00"       # a Monday: ¥50.00 → 50 points, expires 2026-06-02 23:59:59


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def run_expiry(database, program, now: str, batch_size: int = 1000, new_uow=None):
    return await expire_points(new_uow or (lambda: SqlUnitOfWork(database)), program, at(now), batch_size)


async def member_with_two_lots(api, code: str) -> tuple[str, str]:
    token, member = await api.login(code, now=SIGNUP)
    await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": f"{code}-1", "amount": 5000,
                                                    "channel": "APP", "paidAt": ORDER_DAY}}, now=ORDER_DAY)
    return token, member


async def history(api, token):
    data = await api.data("PointHistory", {"first": 20}, token=token)
    return [e["node"] for e in data["me"]["pointHistory"]["edges"]]


async def test_lot_expires_after_its_last_local_second(api, database, program):
    token, _ = await member_with_two_lots(api, "expiring")
    # 2026-03-10 23:59:59 +08:00 is 15:59:59Z: the lot is still good then.
    assert (await run_expiry(database, program, "2026-03-10T15:59:59+00:00")).processed == 0
    result = await run_expiry(database, program, "2026-03-10T16:00:00+00:00")  # 00:00 on the 11th, local
    assert (result.processed, result.period) == (1, "2026-03-11")
    entries = await history(api, token)
    assert (entries[0]["kind"], entries[0]["delta"], entries[0]["balanceAfter"]) == ("EXPIRY", -100, 50)
    assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == 50


async def test_spent_points_do_not_expire_and_the_rest_does(api, database, program):
    token, member = await member_with_two_lots(api, "spender")
    await api.integration("RedeemPointsForOrder", {"input": {"memberId": member, "externalOrderId": "spend-1",
                                                             "points": 100, "orderAmount": 100000}},
                          now="2025-07-01T10:00:00+08:00")
    # the 100 came out of the sign-up lot (expires first), so only the order lot is left: 50, in June.
    assert (await run_expiry(database, program, "2026-03-11T00:00:00+08:00")).processed == 0
    assert (await run_expiry(database, program, "2026-06-03T00:00:00+08:00")).processed == 1
    assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == 0


async def test_running_twice_for_a_day_changes_nothing(api, database, program):
    token, _ = await member_with_two_lots(api, "twice")
    first = await run_expiry(database, program, "2026-03-11T08:00:00+08:00")
    again = await run_expiry(database, program, "2026-03-11T20:00:00+08:00")
    assert (first.processed, again.already_done) == (1, True)
    assert [e["kind"] for e in await history(api, token)].count("EXPIRY") == 1


async def test_a_run_killed_after_one_batch_resumes(api, database, program):
    tokens = [(await member_with_two_lots(api, f"batch-{n}"))[0] for n in range(3)]
    # one batch of one member commits, then the process "dies" before the next
    async with SqlUnitOfWork(database) as uow:
        assert await uow.jobs.expire_points_batch(at("2026-03-11T01:00:00+08:00"), 1, "积分过期") == 1
        await uow.commit()
    result = await run_expiry(database, program, "2026-03-11T02:00:00+08:00", batch_size=1)
    assert result.processed == 2
    for token in tokens:
        assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == 50
        assert [e["kind"] for e in await history(api, token)].count("EXPIRY") == 1


async def test_negative_balance_loses_nothing_to_expiry(api, database, program):
    token, member = await api.login("in-debt", now=SIGNUP)  # sign-up lot 100, expires 2026-03-10
    await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": "debt-1", "amount": 30000,
                                                    "channel": "APP", "paidAt": ORDER_DAY}}, now=ORDER_DAY)
    after_expiry = "2026-03-12T10:00:00+08:00"  # the sign-up lot has expired, the job has not run yet
    # balance 400, of which 300 are live: spend the 300, then refund the order: 300 taken back from no live
    # lots is a debt of 300 → balance 100 − 300 = −200, while the expired lot still holds 100.
    await api.integration("RedeemPointsForOrder", {"input": {"memberId": member, "externalOrderId": "other",
                                                             "points": 300, "orderAmount": 100000}}, now=after_expiry)
    await api.integration("RefundOrder", {"input": {"externalId": "debt-1", "externalRefundId": "r1",
                                                    "amount": 30000}}, now=after_expiry)
    assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == -200
    assert (await run_expiry(database, program, "2026-03-13T00:00:00+08:00")).processed == 1
    # the expiring 100 settle 100 of the debt: the balance is unchanged and no EXPIRY entry is written
    assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == -200
    assert "EXPIRY" not in [e["kind"] for e in await history(api, token)]


async def test_leap_day_lot_expires_on_28_february(api, database, program):
    token, _ = await api.login("leap", now="2028-02-29T10:00:00+08:00")
    entries = await history(api, token)
    assert entries[0]["expiresAt"] == "2029-02-28T23:59:59.000+08:00"
    assert (await run_expiry(database, program, "2029-02-28T23:59:59+08:00")).processed == 0
    assert (await run_expiry(database, program, "2029-03-01T00:00:00+08:00")).processed == 1


@BOTH_PROGRAMS
async def test_expiry_under_either_program_and_a_run_killed_mid_batch(api, database, program):
    """A check-in pays 1 point under both programs; the lot lapses after its last local second a year on."""
    tokens = []
    for n in range(3):
        token, _ = await api.login(f"either-{n}", now="2025-07-01T08:00:00+08:00")
        await api.data("CheckIn", {"idempotencyKey": "k"}, token=token, now="2025-07-01T08:00:00+08:00")
        tokens.append(token)
    signup = program.signup.points
    with pytest.raises(Killed):  # the second batch dies after its statements ran, before it committed
        await run_expiry(database, program, "2026-07-02T00:00:00+08:00", batch_size=1,
                         new_uow=killed_after(database, commits=1))
    await assert_ledgers_agree(database)
    assert (await run_expiry(database, program, "2026-07-01T23:59:59+08:00")).processed == 0  # still good then
    result = await run_expiry(database, program, "2026-07-02T00:00:00+08:00", batch_size=1)
    assert result.processed == 2
    for token in tokens:
        assert (await api.data("MemberHome", token=token))["me"]["pointsBalance"] == 0
        assert [e["delta"] for e in await history(api, token) if e["kind"] == "EXPIRY"] == [-(1 + signup)]
