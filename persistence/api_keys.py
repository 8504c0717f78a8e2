"""Integration API keys, stored only as hashes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert

from persistence.database import Database
from persistence.tables import api_keys


async def create_api_key(database: Database, name: str, key_hash: str, prefix: str, now: datetime) -> None:
    async with database.transaction() as conn:
        await conn.execute(insert(api_keys).values(name=name, key_hash=key_hash, prefix=prefix, created_at=now))
