"""When the calendar jobs last ran, for the metrics."""
from __future__ import annotations

from sqlalchemy import func, select

from persistence.database import Reader
from persistence.tables import job_runs


async def last_job_runs(reader: Reader) -> list[tuple[str, float, int]]:
    """(job, when it last completed a period as a Unix time, members it changed then), one row a job."""
    latest = select(job_runs.c.job, func.max(job_runs.c.completed_at).label("at")).group_by(job_runs.c.job).subquery()
    rows = await reader.execute(select(job_runs.c.job, job_runs.c.completed_at, job_runs.c.processed)
                                .join(latest, (latest.c.job == job_runs.c.job) & (latest.c.at == job_runs.c.completed_at))
                                .order_by(job_runs.c.job))
    return [(row.job, row.completed_at.timestamp(), row.processed) for row in rows]
