"""Jobs that fire on the calendar rather than on a request (`loyalty jobs run`).

Each job works in batches, one transaction each, over set-based SQL; it records the local period
it completed, so running it again for that period changes nothing, and a run that died half-way
resumes where it stopped (what a batch did is gone from the due rows).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import AsyncContextManager, Callable, Protocol

from domain.program import Program

POINTS_EXPIRY = "points_expiry"
TIER_RETENTION = "tier_retention"


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


class JobUnitOfWork(Protocol):
    jobs: JobRepository

    async def commit(self) -> None: ...


@dataclass(frozen=True)
class JobResult:
    job: str
    period: str
    processed: int
    already_done: bool = False


async def expire_points(new_uow: Callable[[], AsyncContextManager[JobUnitOfWork]], program: Program, now: datetime,
                        batch_size: int = 1000) -> JobResult:
    """Each lot whose expiry (`points.expiry`) has passed gives up its remainder."""
    period = program.calendar.local_date(now).isoformat()
    async with new_uow() as uow:
        if await uow.jobs.completed(POINTS_EXPIRY, period):
            return JobResult(POINTS_EXPIRY, period, 0, already_done=True)
    processed = 0
    while True:
        async with new_uow() as uow:
            done = await uow.jobs.expire_points_batch(now, batch_size, f"{program.points_name}过期")
            await uow.commit()
        processed += done
        if done < batch_size:
            break
    async with new_uow() as uow:
        await uow.jobs.record(POINTS_EXPIRY, period, now, processed)
        await uow.commit()
    return JobResult(POINTS_EXPIRY, period, processed)


async def retain_tiers(new_uow: Callable[[], AsyncContextManager[JobUnitOfWork]], program: Program, now: datetime,
                       batch_size: int = 1000) -> JobResult:
    """Tier retention for every tier that expired by `now` (see `retention_outcome`). Tiers expire at
    the moment they were reached, so a later run the same day has new work: what makes a second run
    harmless is that a processed member's expiry has moved a year on, not a skip by period."""
    period = program.calendar.local_date(now).isoformat()
    processed = 0
    while True:
        async with new_uow() as uow:
            due = await uow.jobs.due_tier_expiries(now, batch_size)
            await uow.jobs.apply_retention([retention_outcome(program, d) for d in due], now)
            await uow.commit()
        processed += len(due)
        if len(due) < batch_size:
            break
    async with new_uow() as uow:
        await uow.jobs.record(TIER_RETENTION, period, now, processed)
        await uow.commit()
    return JobResult(TIER_RETENTION, period, processed)


async def run_due_jobs(new_uow: Callable[[], AsyncContextManager[JobUnitOfWork]], program: Program,
                       now: datetime) -> list[JobResult]:
    """Every job due at `now`, in order."""
    return [await expire_points(new_uow, program, now), await retain_tiers(new_uow, program, now)]
