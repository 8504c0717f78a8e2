"""One runner per job at a time: on PostgreSQL a transaction-level advisory lock per job; two runners
started together (cron and a worker, two workers on two machines) never expire a lot twice."""
import asyncio

from sqlalchemy import func, select

from persistence.job_lock import job_lock
from persistence.tables import point_entries
from server.worker import run_jobs_once
from tests.integration.jobs_harness import assert_ledgers_agree, at

AFTER_EXPIRY = "2026-03-12T00:10:00+08:00"


async def expiry_entries(database) -> int:
    async with database.transaction() as conn:
        return (await conn.execute(select(func.count()).where(point_entries.c.kind == "EXPIRY"))).scalar_one()


async def test_a_held_job_lock_is_not_granted_twice(database):
    hold = job_lock(database)
    async with hold("points_expiry") as first:
        async with hold("points_expiry") as second, hold("tier_retention") as other:
            held = (first, second, other)
    async with hold("points_expiry") as again:
        pass
    if database.is_sqlite:  # one host: BEGIN IMMEDIATE serialises the batches instead
        assert held == (True, True, True) and again
    else:
        assert held == (True, False, True) and again  # released with its transaction


async def test_a_job_running_elsewhere_is_skipped_and_runs_once_free(api, database, program):
    for n in range(3):
        await api.login(f"lapsing-{n}", now="2025-03-10T09:00:00+08:00")
    async with job_lock(database)("points_expiry") as held:
        assert held
        during = {r.job: r for r in await run_jobs_once(database, program, at(AFTER_EXPIRY))}
    if not database.is_sqlite:
        assert during["points_expiry"].status == "running elsewhere"
        assert await expiry_entries(database) == 0
        after = {r.job: r for r in await run_jobs_once(database, program, at(AFTER_EXPIRY))}
        assert (after["points_expiry"].status, after["points_expiry"].processed) == ("done", 3)
    assert await expiry_entries(database) == 3


async def test_two_runners_at_once_expire_each_lot_once(api, database, program):
    for n in range(20):
        await api.login(f"race-{n}", now="2025-03-10T09:00:00+08:00")
    first, second = await asyncio.gather(run_jobs_once(database, program, at(AFTER_EXPIRY)),
                                         run_jobs_once(database, program, at(AFTER_EXPIRY)))
    expiry = [r for r in first + second if r.job == "points_expiry"]
    assert sum(r.processed for r in expiry) == 20
    assert {r.status for r in expiry} <= {"done", "already done", "running elsewhere"}
    assert await expiry_entries(database) == 20
    await assert_ledgers_agree(database)
