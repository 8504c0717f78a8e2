"""Referrals whose referee's order has stood its time, and settling them."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, literal_column, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.jobs.ports import DueReferral
from domain.vocabulary import ReferralStatus
from persistence.jobs.runs import lock_members
from persistence.tables import members, orders, referrals

referrer = members.alias("referrer")
referee = members.alias("referee")
# As written in the partial index (status = 'QUALIFYING'), so that the planner can use it.
QUALIFYING = referrals.c.status == literal_column(f"'{ReferralStatus.QUALIFYING.value}'")
JOINED = (referrals.join(orders, orders.c.id == referrals.c.order_id)
          .join(referrer, referrer.c.id == referrals.c.referrer_id)
          .join(referee, referee.c.id == referrals.c.referee_id))


def _due(now: datetime) -> tuple:
    return QUALIFYING, referrals.c.qualifies_at <= now, orders.c.refunded_amount < orders.c.amount


def _rewarded_in(start: datetime, end: datetime):
    """How many of the row's referrer's referrals were rewarded in [start, end)."""
    rewarded = referrals.alias("rewarded")
    return (select(func.count()).where(rewarded.c.referrer_id == referrals.c.referrer_id,
                                       rewarded.c.status == ReferralStatus.REWARDED.value,
                                       rewarded.c.rewarded_at >= start, rewarded.c.rewarded_at < end)
            .scalar_subquery())


class ReferralJobs:
    conn: AsyncConnection

    async def referrals_due(self, now: datetime, month_start: datetime, month_end: datetime, cap: int,
                            batch_size: int) -> list[DueReferral]:
        rewarded = _rewarded_in(month_start, month_end)
        closed = (referrer.c.deregistered_at.is_not(None), referee.c.deregistered_at.is_not(None))
        referrer_ids = (await self.conn.execute(
            select(referrals.c.referrer_id).select_from(JOINED).where(*_due(now), or_(rewarded < cap, *closed))
            .group_by(referrals.c.referrer_id).order_by(referrals.c.referrer_id).limit(batch_size))).scalars().all()
        if not referrer_ids:
            return []
        await lock_members(self.conn, referrer_ids)
        rows = await self.conn.execute(
            select(referrals.c.id, referrals.c.referrer_id, referrals.c.referee_id, closed[0].label("referrer_closed"),
                   closed[1].label("referee_closed"), rewarded.label("rewarded_this_month"))
            .select_from(JOINED).where(referrals.c.referrer_id.in_(referrer_ids), *_due(now))
            .order_by(referrals.c.qualifies_at, referrals.c.id).with_for_update(of=referrals))
        return [DueReferral(row.id, row.referrer_id, row.referee_id, bool(row.referrer_closed),
                            bool(row.referee_closed), row.rewarded_this_month) for row in rows]

    async def settle_referrals(self, rewarded: list[int], points: int, voided: list[tuple[int, str]],
                               now: datetime) -> None:
        if rewarded:
            await self.conn.execute(update(referrals).where(referrals.c.id.in_(rewarded)).values(
                status=ReferralStatus.REWARDED.value, rewarded_at=now, points_awarded=points))
        if voided:
            await self.conn.execute(
                update(referrals).where(referrals.c.id == bindparam("target"))
                .values(status=ReferralStatus.VOID.value, void_reason=bindparam("reason")),
                [{"target": referral_id, "reason": reason} for referral_id, reason in voided])
