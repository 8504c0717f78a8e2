"""Jobs that fire on the calendar rather than on a request (`loyalty jobs run`, `loyalty worker`).

Each job works in batches, one transaction each, over set-based SQL, and is safe to run twice or
after a crash (see `runner`). `run_due_jobs` runs all of them in an order where each sees what the
one before it did: expired checkout holds give their points back before lots expire, points expire
before the clearing and the reminders count what is left, tiers are retained before birthday gifts
look at them and before tier reminders are sent; segments come last, from the orders as they stand.
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Callable

from domain.jobs.grants import (
    BIRTHDAY_GIFT, FREQUENCY_BONUS, MONTHLY_BONUS, grant_birthday_gifts, grant_frequency_bonus, grant_monthly_bonus,
)
from domain.jobs.holds import HOLD_EXPIRY, expire_holds
from domain.jobs.points import ANNUAL_CLEARING, POINTS_EXPIRY, clear_annually, expire_points, expiry_settlement
from domain.jobs.referrals import REFERRAL_REWARD, reward_referrals
from domain.jobs.reminders import (
    CLEARING_REMINDER, COUPON_REMINDER, POINTS_REMINDER, TIER_REMINDER, remind_annual_clearing, remind_coupons_expiring,
    remind_points_expiring, remind_tiers_expiring,
)
from domain.jobs.runner import LOCKED, JobLock, JobResult, NewUnitOfWork, unlocked
from domain.jobs.segments import SEGMENTS, assign_segments
from domain.jobs.tiers import TIER_DEMOTION, TIER_RETENTION, demote_inactive, retain_tiers, retention_outcome
from domain.program import Program

JOBS = (
    (HOLD_EXPIRY, expire_holds),
    (POINTS_EXPIRY, expire_points),
    (ANNUAL_CLEARING, clear_annually),
    (TIER_RETENTION, retain_tiers),
    (TIER_DEMOTION, demote_inactive),
    (MONTHLY_BONUS, grant_monthly_bonus),
    (FREQUENCY_BONUS, grant_frequency_bonus),
    (BIRTHDAY_GIFT, grant_birthday_gifts),
    (REFERRAL_REWARD, reward_referrals),
    (POINTS_REMINDER, remind_points_expiring),
    (CLEARING_REMINDER, remind_annual_clearing),
    (COUPON_REMINDER, remind_coupons_expiring),
    (TIER_REMINDER, remind_tiers_expiring),
    (SEGMENTS, assign_segments),
)


async def run_due_jobs(new_uow: NewUnitOfWork, program: Program, now: datetime, lock: JobLock = unlocked,
                       done: Callable[[JobResult, float], None] | None = None) -> list[JobResult]:
    """Every job due at `now`, in order. A job whose lock another runner holds is skipped this time.
    `done(result, seconds)` hears of each job as it ends (the worker's metrics)."""
    results = []
    for name, job in JOBS:
        started = time.perf_counter()
        async with lock(name) as held:
            results.append(await job(new_uow, program, now) if held else JobResult(name, None, status=LOCKED))
        if done is not None:
            done(results[-1], time.perf_counter() - started)
    return results


__all__ = ["JOBS", "JobResult", "assign_segments", "clear_annually", "demote_inactive", "expire_points",
           "expiry_settlement",
           "grant_birthday_gifts", "grant_frequency_bonus", "grant_monthly_bonus", "remind_annual_clearing",
           "remind_coupons_expiring", "remind_points_expiring", "remind_tiers_expiring", "retain_tiers",
           "retention_outcome", "reward_referrals", "run_due_jobs"]
