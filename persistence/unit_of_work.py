"""The unit of work: one write transaction and the repositories that share it."""
from __future__ import annotations

from sqlalchemy.exc import DBAPIError, IntegrityError

from persistence.database import Database
from persistence.repositories.activity import SqlCheckInRepository, SqlIdempotencyRepository, SqlRewardRepository
from persistence.repositories.coupons import SqlCouponRepository
from persistence.repositories.jobs import SqlJobRepository
from persistence.repositories.members import SqlGrowthRepository, SqlMemberRepository
from persistence.repositories.notifications import SqlNotificationRepository
from persistence.repositories.orders import SqlOrderRepository
from persistence.repositories.points import SqlPointsRepository


class WriteConflict(Exception):
    """Another transaction got there first (a unique key, a deadlock, a busy database): retry."""


def _is_conflict(exc: BaseException) -> bool:
    if isinstance(exc, IntegrityError):
        return "UNIQUE" in str(exc.orig).upper() or "unique" in type(exc.orig).__name__.lower() or "duplicate" in str(exc.orig).lower()
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).lower()
        return any(s in text for s in ("deadlock", "could not serialize", "database is locked"))
    return False


class SqlUnitOfWork:
    def __init__(self, database: Database):
        self.database = database
        self.conn = None

    async def __aenter__(self) -> "SqlUnitOfWork":
        self.conn = await self.database.write_engine.connect()
        await self.conn.begin()
        self.members = SqlMemberRepository(self.conn)
        self.growth = SqlGrowthRepository(self.conn)
        self.points = SqlPointsRepository(self.conn)
        self.coupons = SqlCouponRepository(self.conn)
        self.check_ins = SqlCheckInRepository(self.conn)
        self.rewards = SqlRewardRepository(self.conn)
        self.orders = SqlOrderRepository(self.conn)
        self.idempotency = SqlIdempotencyRepository(self.conn)
        self.notifications = SqlNotificationRepository(self.conn)
        self.jobs = SqlJobRepository(self.conn)
        return self

    async def commit(self) -> None:
        await self.conn.commit()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.conn.in_transaction():
                await self.conn.rollback()
        finally:
            await self.conn.close()
        if exc is not None and _is_conflict(exc):
            raise WriteConflict(str(exc)) from exc
