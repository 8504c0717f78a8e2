"""One runner per job at a time, across processes and machines.

PostgreSQL: a transaction-level advisory lock per job, taken with pg_try_advisory_xact_lock on a
connection of its own whose transaction stays open while the job's batches run on others; it is
released when that transaction ends, however the runner ends (a crash closes the connection).
SQLite serves one host, and BEGIN IMMEDIATE already makes every batch wait for the one before it.
"""
from __future__ import annotations

import zlib
from contextlib import asynccontextmanager
from typing import AsyncIterator

from sqlalchemy import func, select

from persistence.database import Database

LOCK_NAMESPACE = 0x4C6F79  # "Loy": keeps these keys apart from any other user of advisory locks


def lock_key(job: str) -> int:
    """A stable signed 32-bit key for the job's name."""
    return int.from_bytes(zlib.crc32(job.encode()).to_bytes(4, "big"), "big", signed=True)


def job_lock(database: Database):
    @asynccontextmanager
    async def hold(job: str) -> AsyncIterator[bool]:
        if database.is_sqlite:
            yield True
            return
        async with database.write_engine.connect() as conn:
            async with conn.begin():
                held = (await conn.execute(select(func.pg_try_advisory_xact_lock(LOCK_NAMESPACE, lock_key(job))))).scalar()
                yield bool(held)

    return hold
