from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.tables import api_keys


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
