"""The lifecycle segment job: every member's segment (`domain.segments`), once a local day."""
from __future__ import annotations

from datetime import datetime

from domain.jobs.ports import JobUnitOfWork
from domain.jobs.runner import JobResult, NewUnitOfWork, once_per_period
from domain.program import Program
from domain.segments import YEAR_DAYS, since_start

SEGMENTS = "segments"


async def assign_segments(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 50_000) -> JobResult:
    """Each open member's segment as of the local day of `now`, by id ranges of `batch_size` members, one
    UPDATE each; `segment_since` becomes today only for a member whose segment changed. Once a local day:
    a run dying half-way is resumed from the start, which rewrites nothing already right."""
    rule = program.segments
    today = program.calendar.local_date(now)
    after = 0

    async def batch(uow: JobUnitOfWork) -> int:
        nonlocal after
        count, after = await uow.jobs.assign_segments(
            after, batch_size, today, since_start(program.calendar, today, rule.new_days),
            since_start(program.calendar, today, rule.recent_days), since_start(program.calendar, today, YEAR_DAYS),
            program.order_points.eligible_channels, rule.frequent_orders, rule.valuable_spend)
        return count

    return await once_per_period(new_uow, SEGMENTS, today.isoformat(), now, batch_size, batch)
