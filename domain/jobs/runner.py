"""How a calendar job runs: in batches, one transaction each, until its due rows run out.

A batch changes its members and makes them no longer due in the same transaction, so a run that
dies half-way (a crash, a kill, a deploy) loses only its open batch, and the next run resumes
where it stopped. A job that works per period records the period when it has finished it, so
running it again for that period changes nothing.
"""
from __future__ import annotations

from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import AsyncContextManager, AsyncIterator, Awaitable, Callable

from domain.jobs.ports import JobUnitOfWork

DONE = "done"
ALREADY_DONE = "already done"
NOT_DUE = "not due"
LOCKED = "running elsewhere"


@dataclass(frozen=True)
class JobResult:
    job: str
    period: str | None
    processed: int = 0
    status: str = DONE

    @property
    def already_done(self) -> bool:
        return self.status == ALREADY_DONE

    def describe(self) -> str:
        what = f"{self.processed} members" if self.status == DONE else self.status
        return f"{self.job}{' ' + self.period if self.period else ''}: {what}"


NewUnitOfWork = Callable[[], AsyncContextManager[JobUnitOfWork]]
Batch = Callable[[JobUnitOfWork], Awaitable[int]]
JobLock = Callable[[str], AsyncContextManager[bool]]


@asynccontextmanager
async def unlocked(_job: str) -> AsyncIterator[bool]:
    """No lock between runners: one process, or a database that serialises every write (SQLite)."""
    yield True


async def in_batches(new_uow: NewUnitOfWork, job: str, period: str, now: datetime, batch_size: int,
                     batch: Batch) -> JobResult:
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


async def once_per_period(new_uow: NewUnitOfWork, job: str, period: str, now: datetime, batch_size: int,
                          batch: Batch) -> JobResult:
    """`in_batches`, unless the period has been completed already."""
    async with new_uow() as uow:
        if await uow.jobs.completed(job, period):
            return JobResult(job, period, status=ALREADY_DONE)
    return await in_batches(new_uow, job, period, now, batch_size, batch)
