"""Set-based SQL for the calendar jobs: each statement covers a whole batch of members."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, case, func, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.jobs import RetentionOutcome, TierExpiry
from persistence.tables import (
    UtcDateTime, growth_entries, job_runs, members, monthly_bonus_grants, orders, point_entries, points_lots, tiers,
)


class SqlJobRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def completed(self, job: str, period: str) -> bool:
        row = await self.conn.execute(select(job_runs.c.job).where(job_runs.c.job == job, job_runs.c.period == period))
        return row.first() is not None

    async def record(self, job: str, period: str, now: datetime, processed: int) -> None:
        done = await self.conn.execute(update(job_runs).where(job_runs.c.job == job, job_runs.c.period == period)
                                       .values(completed_at=now, processed=job_runs.c.processed + processed))
        if done.rowcount == 0:
            await self.conn.execute(insert(job_runs).values(job=job, period=period, completed_at=now,
                                                            processed=processed))

    async def expire_points_batch(self, now: datetime, batch_size: int, description: str) -> int:
        cutoff = now.replace(microsecond=0)
        expired_lots = (points_lots.c.remaining > 0, points_lots.c.expires_at < cutoff)
        member_ids = (await self.conn.execute(
            select(points_lots.c.member_id).where(*expired_lots).group_by(points_lots.c.member_id)
            .order_by(points_lots.c.member_id).limit(batch_size))).scalars().all()
        if not member_ids:
            return 0
        await self.conn.execute(select(members.c.id).where(members.c.id.in_(member_ids)).with_for_update())
        expired = (select(points_lots.c.member_id, func.sum(points_lots.c.remaining).label("points"))
                   .where(points_lots.c.member_id.in_(member_ids), *expired_lots)
                   .group_by(points_lots.c.member_id).subquery())
        # domain.jobs.expiry_settlement, per member: the debt is settled first, the rest is lost.
        settled = case((members.c.points_debt < expired.c.points, members.c.points_debt), else_=expired.c.points)
        lost = expired.c.points - settled
        await self.conn.execute(insert(point_entries).from_select(
            ["member_id", "kind", "delta", "balance_after", "description", "occurred_at", "expires_at", "order_id"],
            select(members.c.id, literal("EXPIRY"), -lost, members.c.points_balance - lost, literal(description),
                   literal(now, UtcDateTime()), null(), null())
            .join(expired, expired.c.member_id == members.c.id).where(lost > 0).order_by(members.c.id)))
        await self.conn.execute(
            update(members).where(members.c.id == expired.c.member_id)
            .values(points_balance=members.c.points_balance - lost, points_debt=members.c.points_debt - settled))
        await self.conn.execute(
            update(points_lots).where(points_lots.c.member_id.in_(member_ids), *expired_lots).values(remaining=0))
        return len(member_ids)

    async def due_tier_expiries(self, now: datetime, batch_size: int) -> list[TierExpiry]:
        rows = await self.conn.execute(
            select(members.c.id, members.c.tier_code, members.c.growth_value, members.c.tier_expires_at)
            .join(tiers, tiers.c.code == members.c.tier_code)
            .where(tiers.c.level > 1, members.c.tier_expires_at <= now)
            .order_by(members.c.tier_expires_at, members.c.id).limit(batch_size).with_for_update(of=members))
        return [TierExpiry(*row) for row in rows]

    async def apply_retention(self, outcomes: list[RetentionOutcome], now: datetime) -> None:
        if not outcomes:
            return
        await self.conn.execute(
            update(members).where(members.c.id == bindparam("target")).values(
                growth_value=bindparam("new_growth"), tier_code=bindparam("new_tier"),
                tier_expires_at=bindparam("new_expiry")),
            [{"target": o.member_id, "new_growth": o.growth_value, "new_tier": o.tier_code,
              "new_expiry": o.tier_expires_at} for o in outcomes])
        deducted = [o for o in outcomes if o.growth_delta]
        if deducted:
            await self.conn.execute(insert(growth_entries), [
                {"member_id": o.member_id, "delta": o.growth_delta, "growth_after": o.growth_value,
                 "reason": "RETENTION", "occurred_at": now, "order_id": None} for o in deducted])

    async def monthly_bonus_due(self, start: datetime, end: datetime, channels: frozenset[str], min_spend: int,
                                period: str, batch_size: int) -> list[int]:
        granted = select(monthly_bonus_grants.c.member_id).where(
            monthly_bonus_grants.c.member_id == orders.c.member_id, monthly_bonus_grants.c.period == period)
        spend = func.sum(orders.c.amount - orders.c.refunded_amount)
        rows = await self.conn.execute(
            select(orders.c.member_id)
            .where(orders.c.channel.in_(sorted(channels)), orders.c.paid_at >= start, orders.c.paid_at < end,
                   ~granted.exists())
            .group_by(orders.c.member_id).having(spend >= min_spend)
            .order_by(orders.c.member_id).limit(batch_size))
        return list(rows.scalars())

    async def record_bonus(self, member_id: int, period: str, now: datetime) -> None:
        await self.conn.execute(insert(monthly_bonus_grants).values(member_id=member_id, period=period, granted_at=now))
