"""Points expiry and the annual clearing."""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import bindparam, case, func, insert, literal, null, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.jobs.ports import LotsOfYear, PointsLoss
from domain.model import PointsLot
from domain.vocabulary import PointKind
from persistence.jobs.runs import lock_members, not_done_for, plan_for_values
from persistence.rows import columns_of, to_model
from persistence.tables import UtcDateTime, members, point_entries, points_lots
from persistence.validity import lapsed, still_valid


class PointsJobs:
    conn: AsyncConnection

    async def expire_points_batch(self, now: datetime, batch_size: int, description: str) -> int:
        expired_lots = (points_lots.c.remaining > 0, lapsed(points_lots.c.expires_at, now))
        member_ids = (await self.conn.execute(
            select(points_lots.c.member_id).where(*expired_lots).group_by(points_lots.c.member_id)
            .order_by(points_lots.c.member_id).limit(batch_size))).scalars().all()
        if not member_ids:
            return 0
        await lock_members(self.conn, member_ids)
        expired = (select(points_lots.c.member_id, func.sum(points_lots.c.remaining).label("points"))
                   .where(points_lots.c.member_id.in_(member_ids), *expired_lots)
                   .group_by(points_lots.c.member_id).subquery())
        # domain.jobs.expiry_settlement, per member: the debt is settled first, the rest is lost.
        settled = case((members.c.points_debt < expired.c.points, members.c.points_debt), else_=expired.c.points)
        lost = expired.c.points - settled
        await self.conn.execute(insert(point_entries).from_select(
            ["member_id", "kind", "delta", "balance_after", "description", "occurred_at", "expires_at", "order_id"],
            select(members.c.id, literal(PointKind.EXPIRY.value), -lost, members.c.points_balance - lost, literal(description),
                   literal(now, UtcDateTime()), null(), null())
            .join(expired, expired.c.member_id == members.c.id).where(lost > 0).order_by(members.c.id)))
        await self.conn.execute(
            update(members).where(members.c.id == expired.c.member_id)
            .values(points_balance=members.c.points_balance - lost, points_debt=members.c.points_debt - settled))
        await self.conn.execute(
            update(points_lots).where(points_lots.c.member_id.in_(member_ids), *expired_lots).values(remaining=0))
        return len(member_ids)

    async def lots_of_year_due(self, job: str, period: str, start: datetime, end: datetime, now: datetime,
                               after: int, batch_size: int) -> list[LotsOfYear]:
        live_of_year = (points_lots.c.remaining > 0, still_valid(points_lots.c.expires_at, now),
                        points_lots.c.earned_at >= start, points_lots.c.earned_at < end)
        await plan_for_values(self.conn)
        member_ids = (await self.conn.execute(
            select(points_lots.c.member_id)
            .where(points_lots.c.member_id > after, *live_of_year,
                   not_done_for(job, period, points_lots.c.member_id, after))
            .group_by(points_lots.c.member_id).order_by(points_lots.c.member_id).limit(batch_size))).scalars().all()
        if not member_ids:
            return []
        held = (await self.conn.execute(
            select(members.c.id, members.c.points_balance, members.c.points_debt)
            .where(members.c.id.in_(member_ids)).order_by(members.c.id).with_for_update())).all()
        lots = defaultdict(list)
        for row in await self.conn.execute(
                select(*columns_of(points_lots, PointsLot)).where(points_lots.c.member_id.in_(member_ids), *live_of_year)
                .order_by(points_lots.c.expires_at, points_lots.c.id)):
            lots[row.member_id].append(to_model(PointsLot, row))
        return [LotsOfYear(m.id, m.points_balance, m.points_debt, lots[m.id]) for m in held]

    async def apply_losses(self, losses: list[PointsLoss], description: str, now: datetime) -> None:
        if not losses:
            return
        await self.conn.execute(
            update(members).where(members.c.id == bindparam("target"))
            .values(points_balance=bindparam("balance_after"),
                    points_debt=members.c.points_debt - bindparam("settled")),
            [{"target": x.member_id, "balance_after": x.balance_after, "settled": x.settled} for x in losses])
        entries = [{"member_id": x.member_id, "kind": PointKind.EXPIRY.value, "delta": -x.lost, "balance_after": x.balance_after,
                    "description": description, "occurred_at": now, "expires_at": None, "order_id": None}
                   for x in losses if x.lost > 0]
        if entries:
            await self.conn.execute(insert(point_entries), entries)
