"""Staff accounts and integration API keys."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import StaffMember
from persistence.rows import columns_of, insert_model, to_model
from persistence.tables import api_keys, staff


class SqlStaffRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def by_username(self, username: str) -> StaffMember | None:
        row = (await self.conn.execute(select(*columns_of(staff, StaffMember))
                                       .where(staff.c.username == username))).first()
        return to_model(StaffMember, row) if row else None

    async def add(self, member: StaffMember) -> StaffMember:
        return await insert_model(self.conn, staff, member)

    async def save_password_hash(self, staff_id: int, password_hash: str) -> None:
        await self.conn.execute(update(staff).where(staff.c.id == staff_id).values(password_hash=password_hash))


class SqlApiKeyRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add(self, name: str, key_hash: str, prefix: str, scopes: str, now: datetime) -> int:
        result = await self.conn.execute(insert(api_keys).values(
            name=name, key_hash=key_hash, prefix=prefix, scopes=scopes, created_at=now).returning(api_keys.c.id))
        return result.scalar_one()

    async def revoke_named(self, name: str, now: datetime) -> int:
        result = await self.conn.execute(update(api_keys).where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
                                         .values(revoked_at=now))
        return result.rowcount

    async def revoke(self, key_id: int, now: datetime) -> bool:
        result = await self.conn.execute(update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
                                         .values(revoked_at=now))
        return result.rowcount == 1
