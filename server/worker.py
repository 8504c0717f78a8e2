"""Running the calendar jobs: once (`loyalty jobs run`, for cron) or every minute (`loyalty worker`)."""
from __future__ import annotations

import asyncio
import logging
import signal
from datetime import datetime
from typing import Callable

from api.core import observability
from domain.clock import Clock, SystemClock
from domain.jobs import JobResult, run_due_jobs
from domain.program import Program
from persistence.database import Database
from persistence.job_lock import job_lock
from persistence.unit_of_work import SqlUnitOfWork

log = logging.getLogger("loyalty.worker")


async def run_jobs_once(database: Database, program: Program, now: datetime) -> list[JobResult]:
    """Every job due at `now`, each under its lock so that two runners never run one job at once; each
    counted and timed in the metrics."""
    return await run_due_jobs(lambda: SqlUnitOfWork(database), program, now, job_lock(database), job_done)


def job_done(result: JobResult, seconds: float) -> None:
    observability.job_done(result.job, result.status.replace(" ", "_"), result.processed, seconds)


async def run_worker(database: Database, program: Program, interval: float = 60, clock: Clock = SystemClock(),
                     report: Callable[[str], None] = print, stop: asyncio.Event | None = None) -> None:
    """Run the due jobs every `interval` seconds until SIGTERM or SIGINT (or `stop`), finishing the run
    in progress first. A failed run is logged and tried again at the next tick: a database that is
    away for a minute must not stop the worker."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    report(f"worker: running due jobs every {interval:g} s")
    try:
        while not stop.is_set():
            try:
                for result in await run_jobs_once(database, program, clock.now()):
                    if result.processed:
                        report(result.describe())
            except Exception:  # noqa: BLE001 - logged, and the next tick tries again
                log.exception("worker: a job run failed; trying again at the next tick")
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except asyncio.TimeoutError:
                pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    report("worker: stopped")
