"""Points, coupons and tiers lapsing soon that nobody has been told about yet."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.jobs.ports import ExpiringSoon, TierHolder
from domain.vocabulary import CouponStatus
from persistence.jobs.runs import lock_members
from persistence.jobs.tiers import above_base_tier
from persistence.tables import coupons, members, points_lots
from persistence.validity import still_valid


class ReminderJobs:
    conn: AsyncConnection

    async def _take_expiring(self, table: Table, lapses_at, count, due: tuple, batch_size: int) -> list[ExpiringSoon]:
        """Members with rows of `table` meeting `due`: per member `count` and the first `lapses_at`;
        those rows are then marked reminded."""
        member_ids = (await self.conn.execute(
            select(table.c.member_id).where(*due).group_by(table.c.member_id).order_by(table.c.member_id)
            .limit(batch_size))).scalars().all()
        if not member_ids:
            return []
        await lock_members(self.conn, member_ids)
        mine = (table.c.member_id.in_(member_ids), *due)
        rows = await self.conn.execute(select(table.c.member_id, count, func.min(lapses_at)).where(*mine)
                                       .group_by(table.c.member_id).order_by(table.c.member_id))
        found = [ExpiringSoon(member_id, int(n), first) for member_id, n, first in rows]
        await self.conn.execute(update(table).where(*mine).values(expiry_reminded=True))
        return found

    async def take_points_reminders(self, now: datetime, until: datetime, batch_size: int) -> list[ExpiringSoon]:
        lots = points_lots.c
        return await self._take_expiring(points_lots, lots.expires_at, func.sum(lots.remaining), (
            lots.remaining > 0, lots.expiry_reminded.is_(False), still_valid(lots.expires_at, now),
            lots.expires_at <= until), batch_size)

    async def take_coupon_reminders(self, now: datetime, until: datetime, batch_size: int) -> list[ExpiringSoon]:
        c = coupons.c
        return await self._take_expiring(coupons, c.valid_until, func.count(), (
            c.status == CouponStatus.AVAILABLE, c.expiry_reminded.is_(False), still_valid(c.valid_until, now),
            c.valid_until <= until), batch_size)

    async def take_tier_reminders(self, now: datetime, until: datetime, batch_size: int) -> list[TierHolder]:
        m = members.c
        due = [TierHolder(*row) for row in await self.conn.execute(
            above_base_tier().where(m.tier_expires_at > now, m.tier_expires_at <= until,
                                    m.tier_expiry_reminded_for.is_(None) | (m.tier_expiry_reminded_for != m.tier_expires_at))
            .order_by(m.id).limit(batch_size).with_for_update(of=members))]
        if due:
            await self.conn.execute(update(members).where(m.id.in_([d.member_id for d in due]))
                                    .values(tier_expiry_reminded_for=m.tier_expires_at))
        return due
