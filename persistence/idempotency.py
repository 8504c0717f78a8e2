"""Idempotency records: the first answer to a keyed request, kept to replay it."""
from __future__ import annotations

from sqlalchemy import bindparam, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import IdempotencyRecord
from persistence.database import Query, run_query
from persistence.rows import columns_of, to_model
from persistence.tables import idempotency_keys

GET = Query(select(*columns_of(idempotency_keys, IdempotencyRecord)).where(
    idempotency_keys.c.member_id == bindparam("member_id"), idempotency_keys.c.operation == bindparam("operation"),
    idempotency_keys.c.key == bindparam("key")))
ADDED = ("member_id", "operation", "key", "request_hash", "result_id", "created_at")
ADD = Query(insert(idempotency_keys).values({name: bindparam(name) for name in ADDED}))


class SqlIdempotencyRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def get(self, member_id: int, operation: str, key: str) -> IdempotencyRecord | None:
        rows = await run_query(self.conn, GET, {"member_id": member_id, "operation": operation, "key": key})
        return to_model(IdempotencyRecord, rows[0]) if rows else None

    async def add(self, record: IdempotencyRecord) -> None:
        await run_query(self.conn, ADD, {name: getattr(record, name) for name in ADDED})
