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


def expiry_settlement(debt: int, expired: int) -> tuple[int, int]:
    """Points whose lots expire first settle any refund debt; only the rest leaves the balance.
    So a member whose balance is below zero (a debt larger than their lots) loses nothing."""
    settled = min(debt, expired)
    return settled, expired - settled


class JobRepository(Protocol):
    async def completed(self, job: str, period: str) -> bool: ...
    async def record(self, job: str, period: str, now: datetime, processed: int) -> None: ...
    async def expire_points_batch(self, now: datetime, batch_size: int, description: str) -> int:
        """Expire the lots past their time for up to `batch_size` members (applying
        `expiry_settlement` per member: one EXPIRY entry each); the number of members done."""


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


async def run_due_jobs(new_uow: Callable[[], AsyncContextManager[JobUnitOfWork]], program: Program,
                       now: datetime) -> list[JobResult]:
    """Every job due at `now`, in order."""
    return [await expire_points(new_uow, program, now)]
