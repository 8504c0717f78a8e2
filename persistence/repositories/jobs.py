"""Set-based SQL for the calendar jobs: each statement covers a whole batch of members."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from persistence.tables import UtcDateTime, job_runs, members, point_entries, points_lots


class SqlJobRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def completed(self, job: str, period: str) -> bool:
        row = await self.conn.execute(select(job_runs.c.job).where(job_runs.c.job == job, job_runs.c.period == period))
        return row.first() is not None

    async def record(self, job: str, period: str, now: datetime, processed: int) -> None:
        await self.conn.execute(insert(job_runs).values(job=job, period=period, completed_at=now, processed=processed))

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
