"""Who is due the monthly spend bonus, the visit-frequency bonus and the birthday gift."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import case, extract, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.jobs.ports import MonthOfOrders
from persistence.jobs.runs import lock_members, not_done_for, plan_for_values
from persistence.tables import members, orders, tiers


class GrantJobs:
    conn: AsyncConnection

    async def monthly_bonus_due(self, job: str, period: str, start: datetime, end: datetime,
                                channels: frozenset[str], min_spend: int, batch_size: int) -> list[int]:
        spend = func.sum(orders.c.amount - orders.c.refunded_amount)
        await plan_for_values(self.conn)
        rows = await self.conn.execute(
            select(orders.c.member_id).join(members, members.c.id == orders.c.member_id)
            .where(orders.c.channel.in_(sorted(channels)), orders.c.paid_at >= start, orders.c.paid_at < end,
                   members.c.deregistered_at.is_(None), not_done_for(job, period, orders.c.member_id))
            .group_by(orders.c.member_id).having(spend >= min_spend)
            .order_by(orders.c.member_id).limit(batch_size))
        return list(rows.scalars())

    async def frequency_bonus_due(self, job: str, period: str, start: datetime, end: datetime,
                                  channels: frozenset[str], min_spend: int, min_visits: int, after: int,
                                  batch_size: int) -> list[MonthOfOrders]:
        net = orders.c.amount - orders.c.refunded_amount
        of_month = (orders.c.channel.in_(sorted(channels)), orders.c.paid_at >= start, orders.c.paid_at < end)
        await plan_for_values(self.conn)
        member_ids = (await self.conn.execute(
            select(orders.c.member_id).join(members, members.c.id == orders.c.member_id)
            .where(orders.c.member_id > after, *of_month, members.c.deregistered_at.is_(None),
                   not_done_for(job, period, orders.c.member_id, after))
            .group_by(orders.c.member_id)
            .having(func.sum(net) >= min_spend, func.sum(case((net > 0, 1), else_=0)) >= min_visits)
            .order_by(orders.c.member_id).limit(batch_size))).scalars().all()
        if not member_ids:
            return []
        await lock_members(self.conn, member_ids)   # read the orders as no refund can change them any more
        month = defaultdict(list)
        for member_id, paid_at, net_amount in await self.conn.execute(
                select(orders.c.member_id, orders.c.paid_at, net).where(orders.c.member_id.in_(member_ids), *of_month)
                .order_by(orders.c.member_id, orders.c.paid_at, orders.c.id)):
            month[member_id].append((paid_at, int(net_amount)))
        return [MonthOfOrders(member_id, month[member_id]) for member_id in member_ids]

    async def birthday_due(self, job: str, period: str, month: int, min_tier_level: int, batch_size: int) -> list[int]:
        rows = await self.conn.execute(
            select(members.c.id).join(tiers, tiers.c.code == members.c.tier_code)
            .where(tiers.c.level >= min_tier_level, extract("month", members.c.birthday) == month,
                   not_done_for(job, period, members.c.id))
            .order_by(members.c.id).limit(batch_size).with_for_update(of=members))
        return list(rows.scalars())
