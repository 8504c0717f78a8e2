"""Which periods a job has completed, and what it has done for which member in a period."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.tables import job_runs, member_job_periods, members


def not_done_for(job: str, period: str, member_id_column, after: int | None = None):
    """The member of `member_id_column` has no mark of `job` for `period`. A job that goes through members in
    id order gives `after` (the last member it examined): only the marks above it are looked at, few or none
    (left by a run that died), so the check stays cheap even when the planner takes the marks for one row
    and scans them once per order or lot (measured: 52 s for one batch with 140,000 marks)."""
    mine = [member_job_periods.c.member_id > after] if after is not None else []
    return ~select(member_job_periods.c.member_id).where(
        member_job_periods.c.member_id == member_id_column, member_job_periods.c.job == job,
        member_job_periods.c.period == period, *mine).exists()


async def plan_for_values(conn: AsyncConnection) -> None:
    """On PostgreSQL, plan the rest of the transaction's statements for their parameters' values. After five
    runs of a prepared statement PostgreSQL may switch to a generic plan, which guesses a month's orders at a
    few hundred rows and anti-joins `not_done_for` in a nested loop: quadratic in the members done (measured
    with 20,000 members: batches went from 15 ms to seconds each)."""
    if conn.dialect.name == "postgresql":
        await conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


async def lock_members(conn: AsyncConnection, member_ids) -> None:
    await conn.execute(select(members.c.id).where(members.c.id.in_(member_ids)).order_by(members.c.id)
                       .with_for_update())


class JobRuns:
    conn: AsyncConnection

    async def completed(self, job: str, period: str) -> bool:
        row = await self.conn.execute(select(job_runs.c.job).where(job_runs.c.job == job, job_runs.c.period == period))
        return row.first() is not None

    async def record(self, job: str, period: str, now: datetime, processed: int) -> None:
        done = await self.conn.execute(update(job_runs).where(job_runs.c.job == job, job_runs.c.period == period)
                                       .values(completed_at=now, processed=job_runs.c.processed + processed))
        if done.rowcount == 0:
            await self.conn.execute(insert(job_runs).values(job=job, period=period, completed_at=now,
                                                            processed=processed))

    async def mark_members(self, job: str, period: str, member_ids: list[int], now: datetime) -> None:
        if member_ids:
            await self.conn.execute(insert(member_job_periods), [
                {"member_id": m, "job": job, "period": period, "done_at": now} for m in member_ids])
