"""Set-based SQL for the calendar jobs: each statement covers a whole batch of members."""
from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.jobs.grants import GrantJobs
from persistence.jobs.points import PointsJobs
from persistence.jobs.referrals import ReferralJobs
from persistence.jobs.reminders import ReminderJobs
from persistence.jobs.runs import JobRuns
from persistence.jobs.segments import SegmentJobs
from persistence.jobs.tiers import TierJobs


class SqlJobRepository(JobRuns, PointsJobs, TierJobs, GrantJobs, ReminderJobs, ReferralJobs, SegmentJobs):
    def __init__(self, conn: AsyncConnection):
        self.conn = conn
