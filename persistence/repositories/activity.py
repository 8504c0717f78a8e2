"""Check-ins, rewards and redemptions, idempotency records."""
from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import CheckIn, IdempotencyRecord, Redemption, Reward
from persistence.repositories.rows import columns_of, insert_model, to_model
from persistence.tables import check_ins, idempotency_keys, redemptions, rewards


class SqlCheckInRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def _one(self, condition) -> CheckIn | None:
        row = (await self.conn.execute(select(*columns_of(check_ins, CheckIn)).where(condition))).first()
        return to_model(CheckIn, row) if row else None

    async def on_date(self, member_id: int, day: date) -> CheckIn | None:
        return await self._one((check_ins.c.member_id == member_id) & (check_ins.c.local_date == day))

    async def get(self, check_in_id: int) -> CheckIn | None:
        return await self._one(check_ins.c.id == check_in_id)

    async def add(self, check_in: CheckIn) -> CheckIn:
        return await insert_model(self.conn, check_ins, check_in)


class SqlRewardRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def get(self, reward_id: int) -> Reward | None:
        row = (await self.conn.execute(select(*columns_of(rewards, Reward)).where(rewards.c.id == reward_id))).first()
        return to_model(Reward, row) if row else None

    async def take_one(self, reward_id: int) -> bool:
        result = await self.conn.execute(
            update(rewards).where(rewards.c.id == reward_id, rewards.c.stock.is_not(None), rewards.c.stock > 0)
            .values(stock=rewards.c.stock - 1))
        if result.rowcount == 1:
            return True
        unlimited = await self.conn.execute(select(rewards.c.id).where(rewards.c.id == reward_id, rewards.c.stock.is_(None)))
        return unlimited.first() is not None

    async def add_redemption(self, redemption: Redemption) -> Redemption:
        return await insert_model(self.conn, redemptions, redemption)

    async def get_redemption(self, redemption_id: int) -> Redemption | None:
        row = (await self.conn.execute(
            select(*columns_of(redemptions, Redemption)).where(redemptions.c.id == redemption_id))).first()
        return to_model(Redemption, row) if row else None


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
