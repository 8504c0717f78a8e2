"""The unit of work: one write transaction and the repositories that share it."""
from __future__ import annotations

import asyncpg
from sqlalchemy.exc import DBAPIError, IntegrityError

from domain.errors import WriteConflict
from persistence.check_ins.repository import SqlCheckInRepository
from persistence.checkout.repository import SqlHoldRepository
from persistence.coupons.repository import SqlCouponRepository
from persistence.database import Database
from persistence.idempotency import SqlIdempotencyRepository
from persistence.jobs import SqlJobRepository
from persistence.legacy.repository import SqlLegacyPointsRepository
from persistence.members.repository import SqlMemberRepository
from persistence.members.sms_codes import SqlSmsCodeRepository
from persistence.notifications.repository import SqlNotificationRepository
from persistence.orders.repository import SqlOrderRepository
from persistence.personal_data import PersonalDataCipher
from persistence.points.repository import SqlPointsRepository
from persistence.referrals.repository import SqlReferralRepository
from persistence.rewards.catalog import SqlCatalogRepository
from persistence.rewards.repository import SqlRewardRepository
from persistence.sessions.repository import SqlSessionRepository
from persistence.staff.audit import SqlAuditRepository
from persistence.staff.repository import SqlApiKeyRepository, SqlStaffRepository

CONFLICTS = ("23505", "40P01", "40001")  # unique violation, deadlock, serialization failure


def _is_conflict(exc: BaseException) -> bool:
    """A write that lost a race: run it again (`domain.service`). Statements straight on asyncpg raise its
    own errors (`persistence.database.Query`), the others SQLAlchemy's."""
    if isinstance(exc, asyncpg.PostgresError):
        return exc.sqlstate in CONFLICTS
    if isinstance(exc, IntegrityError):
        return "UNIQUE" in str(exc.orig).upper() or "unique" in type(exc.orig).__name__.lower() or "duplicate" in str(exc.orig).lower()
    if isinstance(exc, DBAPIError):
        text = str(exc.orig).lower()
        return any(s in text for s in ("deadlock", "could not serialize", "database is locked"))
    return False


class SqlUnitOfWork:
    """`personal_data` is needed only by what reads or writes sealed personal data (phone numbers)."""

    def __init__(self, database: Database, personal_data: PersonalDataCipher | None = None):
        self.database = database
        self.personal_data = personal_data
        self.conn = None

    async def __aenter__(self) -> "SqlUnitOfWork":
        self.conn = await self.database.write_engine.connect()
        await self.conn.begin()
        self.members = SqlMemberRepository(self.conn, self.personal_data)
        self.sms_codes = SqlSmsCodeRepository(self.conn, self.personal_data)
        self.holds = SqlHoldRepository(self.conn)
        self.points = SqlPointsRepository(self.conn)
        self.coupons = SqlCouponRepository(self.conn)
        self.check_ins = SqlCheckInRepository(self.conn)
        self.rewards = SqlRewardRepository(self.conn)
        self.catalog = SqlCatalogRepository(self.conn)
        self.orders = SqlOrderRepository(self.conn)
        self.referrals = SqlReferralRepository(self.conn)
        self.idempotency = SqlIdempotencyRepository(self.conn)
        self.notifications = SqlNotificationRepository(self.conn)
        self.jobs = SqlJobRepository(self.conn)
        self.sessions = SqlSessionRepository(self.conn)
        self.staff = SqlStaffRepository(self.conn)
        self.audit = SqlAuditRepository(self.conn)
        self.api_keys = SqlApiKeyRepository(self.conn)
        self.legacy_points = SqlLegacyPointsRepository(self.conn, self.personal_data)
        return self

    async def flush(self) -> None:
        """Write what the members handed out have changed; commit does it first."""
        await self.members.flush()

    async def commit(self) -> None:
        await self.flush()
        await self.conn.commit()

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.conn.in_transaction():
                await self.conn.rollback()
        finally:
            await self.conn.close()
        if exc is not None and _is_conflict(exc):
            raise WriteConflict(str(exc)) from exc
