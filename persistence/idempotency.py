"""Idempotency records: the first answer to a keyed request, kept to replay it."""
from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import IdempotencyRecord
from persistence.rows import columns_of, to_model
from persistence.tables import idempotency_keys


class SqlIdempotencyRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def get(self, member_id: int, operation: str, key: str) -> IdempotencyRecord | None:
        row = (await self.conn.execute(select(*columns_of(idempotency_keys, IdempotencyRecord)).where(
            idempotency_keys.c.member_id == member_id, idempotency_keys.c.operation == operation,
            idempotency_keys.c.key == key))).first()
        return to_model(IdempotencyRecord, row) if row else None

    async def add(self, record: IdempotencyRecord) -> None:
        await self.conn.execute(insert(idempotency_keys).values(
            member_id=record.member_id, operation=record.operation, key=record.key,
            request_hash=record.request_hash, result_id=record.result_id, created_at=record.created_at))
