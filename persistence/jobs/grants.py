"""Who is due the monthly spend bonus and the birthday gift."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import extract, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.jobs.runs import not_done_for
from persistence.tables import members, orders, tiers


class GrantJobs:
    conn: AsyncConnection

    async def monthly_bonus_due(self, job: str, period: str, start: datetime, end: datetime,
                                channels: frozenset[str], min_spend: int, batch_size: int) -> list[int]:
        spend = func.sum(orders.c.amount - orders.c.refunded_amount)
        rows = await self.conn.execute(
            select(orders.c.member_id).join(members, members.c.id == orders.c.member_id)
            .where(orders.c.channel.in_(sorted(channels)), orders.c.paid_at >= start, orders.c.paid_at < end,
                   members.c.deregistered_at.is_(None), not_done_for(job, period, orders.c.member_id))
            .group_by(orders.c.member_id).having(spend >= min_spend)
            .order_by(orders.c.member_id).limit(batch_size))
        return list(rows.scalars())

    async def birthday_due(self, job: str, period: str, month: int, min_tier_level: int, batch_size: int) -> list[int]:
        rows = await self.conn.execute(
            select(members.c.id).join(tiers, tiers.c.code == members.c.tier_code)
            .where(tiers.c.level >= min_tier_level, extract("month", members.c.birthday) == month,
                   not_done_for(job, period, members.c.id))
            .order_by(members.c.id).limit(batch_size).with_for_update(of=members))
        return list(rows.scalars())
