"""The reward catalog and redemptions."""
from __future__ import annotations

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Redemption, Reward
from persistence.database import Query, run_query
from persistence.rows import columns_of, insert_model, to_model
from persistence.tables import redemptions, rewards

GET = Query(select(*columns_of(rewards, Reward)).where(rewards.c.id == bindparam("reward_id")))
UNLIMITED = Query(select(rewards.c.id).where(rewards.c.id == bindparam("reward_id"), rewards.c.stock.is_(None)))
TAKE_ONE = Query(update(rewards).where(rewards.c.id == bindparam("reward_id"), rewards.c.stock.is_not(None),
                                       rewards.c.stock > 0).values(stock=rewards.c.stock - 1).returning(rewards.c.id))


class SqlRewardRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn
        self._unlimited: dict[int, bool] = {}  # whether a reward read in this unit of work had no stock limit

    async def get(self, reward_id: int) -> Reward | None:
        rows = await run_query(self.conn, GET, {"reward_id": reward_id})
        if not rows:
            return None
        reward = to_model(Reward, rows[0])
        self._unlimited[reward.id] = reward.stock is None
        return reward

    async def take_one(self, reward_id: int) -> bool:
        """One of the reward's stock: none needed if the reward, as this unit of work read it, had no
        limit (the redemption counts as made when it was read: a limit set since applies to later ones);
        else taken from the stock as it is now, or none needed if the limit was lifted meanwhile."""
        if self._unlimited.get(reward_id):
            return True
        for query in (TAKE_ONE, UNLIMITED):
            if await run_query(self.conn, query, {"reward_id": reward_id}):
                return True
        return False

    async def add_redemption(self, redemption: Redemption) -> Redemption:
        return await insert_model(self.conn, redemptions, redemption)

    async def get_redemption(self, redemption_id: int) -> Redemption | None:
        row = (await self.conn.execute(
            select(*columns_of(redemptions, Redemption)).where(redemptions.c.id == redemption_id))).first()
        return to_model(Redemption, row) if row else None
