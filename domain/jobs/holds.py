"""Checkout holds past their time (`checkout.hold_minutes`) given back: at every run, not once a period,
since a hold lasts minutes. A batch at a time, each its own transaction, each hold under its member's lock
(`domain.checkout.release_expired`), so a capture or a release racing it finds the hold settled or still
held, never half of each."""
from __future__ import annotations

from datetime import datetime

from domain import checkout
from domain.jobs.runner import JobResult, NewUnitOfWork
from domain.program import Program

HOLD_EXPIRY = "hold_expiry"


async def expire_holds(new_uow: NewUnitOfWork, program: Program, now: datetime, batch_size: int = 200) -> JobResult:
    processed = 0
    while True:
        async with new_uow() as uow:
            done = await checkout.release_expired(uow, now, batch_size)
            await uow.commit()
        processed += done
        if done < batch_size:
            return JobResult(HOLD_EXPIRY, None, processed)
