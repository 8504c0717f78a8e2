"""Set-based SQL for the calendar jobs: each statement covers a whole batch of members."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.repositories.jobs.grants import GrantJobs
from persistence.repositories.jobs.points import PointsJobs
from persistence.repositories.jobs.reminders import ReminderJobs
from persistence.repositories.jobs.runs import JobRuns
from persistence.repositories.jobs.tiers import TierJobs


class SqlJobRepository(JobRuns, PointsJobs, TierJobs, GrantJobs, ReminderJobs):
    def __init__(self, conn: AsyncConnection):
        self.conn = conn
