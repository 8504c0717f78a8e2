"""The reward catalog and redemptions."""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Redemption, Reward
from persistence.rows import columns_of, insert_model, to_model
from persistence.tables import redemptions, rewards


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
