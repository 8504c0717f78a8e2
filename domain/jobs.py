"""Jobs that fire on the calendar rather than on a request (`loyalty jobs run`).

Each job works in batches, one transaction each, over set-based SQL; it records the local period
it completed, so running it again for that period changes nothing, and a run that died half-way
resumes where it stopped (what a batch did is gone from the due rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import AsyncContextManager, Awaitable, Callable, Protocol

from domain import wallet
from domain.ports import UnitOfWork
from domain.program import Program

POINTS_EXPIRY = "points_expiry"
TIER_RETENTION = "tier_retention"
MONTHLY_BONUS = "monthly_bonus"


def expiry_settlement(debt: int, expired: int) -> tuple[int, int]:
    """Points whose lots expire first settle any refund debt; only the rest leaves the balance.
    So a member whose balance is below zero (a debt larger than their lots) loses nothing."""
    settled = min(debt, expired)
    return settled, expired - settled


@dataclass(frozen=True)
class TierExpiry:
    member_id: int
    tier_code: str
    growth_value: int
    tier_expires_at: datetime


@dataclass(frozen=True)
class RetentionOutcome:
    member_id: int
    growth_delta: int
    growth_value: int
    tier_code: str
    tier_expires_at: datetime | None


def retention_outcome(program: Program, due: TierExpiry) -> RetentionOutcome:
    """When a tier above the base expires, its `retention_deduction` is taken from growth (not below 0),
    the tier is recomputed from what remains, and a tier above the base is valid
    `tier_policy.validity_months` more from the old expiry (gold, 2500 → 1500 → silver for 12 months)."""
    deduction = min(program.tier(due.tier_code).retention_deduction, due.growth_value)
    growth = due.growth_value - deduction
    tier = program.tier_for_growth(growth)
    if tier.level > program.tier(due.tier_code).level:  # never up through retention: growth only went down
        tier = program.tier(due.tier_code)
    expires = (None if tier.level == program.base_tier.level
               else program.calendar.months_later(due.tier_expires_at, program.tier_validity_months))
    return RetentionOutcome(due.member_id, -deduction, growth, tier.code, expires)


class JobRepository(Protocol):
    async def completed(self, job: str, period: str) -> bool: ...
    async def record(self, job: str, period: str, now: datetime, processed: int) -> None: ...
    async def expire_points_batch(self, now: datetime, batch_size: int, description: str) -> int:
        """Expire the lots past their time for up to `batch_size` members (applying
        `expiry_settlement` per member: one EXPIRY entry each); the number of members done."""
    async def due_tier_expiries(self, now: datetime, batch_size: int) -> list[TierExpiry]:
        """Members (locked) whose tier above the base expired by `now`, oldest expiry first."""
    async def apply_retention(self, outcomes: list[RetentionOutcome], now: datetime) -> None: ...
    async def monthly_bonus_due(self, start: datetime, end: datetime, channels: frozenset[str], min_spend: int,
                                period: str, batch_size: int) -> list[int]:
        """Members whose eligible spend paid in [start, end), net of refunds so far, reached `min_spend`
        and who have no bonus for `period` yet."""
    async def record_bonus(self, member_id: int, period: str, now: datetime) -> None: ...


class JobUnitOfWork(UnitOfWork, Protocol):
    jobs: JobRepository

    async def commit(self) -> None: ...


@dataclass(frozen=True)
class JobResult:
    job: str
    period: str
    processed: int
    already_done: bool = False


NewUnitOfWork = Callable[[], AsyncContextManager[JobUnitOfWork]]


async def _in_batches(new_uow: NewUnitOfWork, job: str, period: str, now: datetime, batch_size: int,
                      batch: Callable[[JobUnitOfWork], Awaitable[int]]) -> JobResult:
    """Run `batch` (which handles up to `batch_size` due members and says how many) in its own
    transaction until the due rows run out, then record the period's run."""
    processed = 0
    while True:
        async with new_uow() as uow:
            done = await batch(uow)
            await uow.commit()
        processed += done
        if done < batch_size:
            break
    async with new_uow() as uow:
        await uow.jobs.record(job, period, now, processed)
        await uow.commit()
    return JobResult(job, period, processed)


async def _already_done(new_uow: NewUnitOfWork, job: str, period: str) -> bool:
    async with new_uow() as uow:
        return await uow.jobs.completed(job, period)


async def expire_points(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 1000) -> JobResult:
    """Each lot whose expiry (`points.expiry`) has passed gives up its remainder."""
    period = program.calendar.local_date(now).isoformat()
    if await _already_done(new_uow, POINTS_EXPIRY, period):
        return JobResult(POINTS_EXPIRY, period, 0, already_done=True)
    description = f"{program.points_name}过期"
    return await _in_batches(new_uow, POINTS_EXPIRY, period, now, batch_size,
                             lambda uow: uow.jobs.expire_points_batch(now, batch_size, description))


async def retain_tiers(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 1000) -> JobResult:
    """Tier retention for every tier that expired by `now` (see `retention_outcome`). Tiers expire at
    the moment they were reached, so a later run the same day has new work: what makes a second run
    harmless is that a processed member's expiry has moved a year on, not a skip by period."""

    async def batch(uow: JobUnitOfWork) -> int:
        due = await uow.jobs.due_tier_expiries(now, batch_size)
        await uow.jobs.apply_retention([retention_outcome(program, d) for d in due], now)
        return len(due)

    return await _in_batches(new_uow, TIER_RETENTION, program.calendar.local_date(now).isoformat(), now,
                             batch_size, batch)


async def grant_monthly_bonus(new_uow: NewUnitOfWork, program: Program, now: datetime,
                              batch_size: int = 500) -> JobResult:
    """`points.monthly_bonus`: once the local month before `now` has closed, each member whose eligible
    spend in it (the `growth.eligible_channels`, net of refunds recorded by now) reached `min_spend`
    gets `points` once, as a BONUS entry."""
    calendar = program.calendar
    month_start = calendar.local_date(now).replace(day=1)
    previous = (month_start - timedelta(days=1)).replace(day=1)
    period = f"{previous.year:04d}-{previous.month:02d}"
    rule = program.monthly_bonus
    if rule is None or await _already_done(new_uow, MONTHLY_BONUS, period):
        return JobResult(MONTHLY_BONUS, period, 0, already_done=True)
    start, end = calendar.start_of_day(previous), calendar.start_of_day(month_start)

    async def batch(uow: JobUnitOfWork) -> int:
        due = await uow.jobs.monthly_bonus_due(start, end, program.growth.eligible_channels, rule.min_spend,
                                               period, batch_size)
        for member_id in due:
            member = await uow.members.lock(member_id)
            await uow.jobs.record_bonus(member_id, period, now)
            await wallet.credit(uow, program, member, rule.points, "BONUS", f"{period} 月度消费奖励", now)
        return len(due)

    return await _in_batches(new_uow, MONTHLY_BONUS, period, now, batch_size, batch)


async def run_due_jobs(new_uow: NewUnitOfWork, program: Program, now: datetime) -> list[JobResult]:
    """Every job due at `now`, in order."""
    return [await expire_points(new_uow, program, now), await retain_tiers(new_uow, program, now),
            await grant_monthly_bonus(new_uow, program, now)]
