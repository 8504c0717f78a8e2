"""Lifecycle segments: one UPDATE per batch of member ids, from a per-member aggregate of their orders."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import and_, case, func, not_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.segments import BY_RFM
from domain.vocabulary import Segment
from persistence.jobs.runs import plan_for_values
from persistence.tables import members, orders


def segment_case(new, recent, frequent, valuable):
    """The SQL twin of `domain.segments.segment_for`, generated from `BY_RFM`: NEW first, then each combination."""
    def high(condition, is_high: bool):
        return condition if is_high else not_(condition)

    return case((new, Segment.NEW.value),
                *[(and_(high(recent, r), high(frequent, f), high(valuable, m)), segment.value)
                  for (r, f, m), segment in BY_RFM.items()])


class SegmentJobs:
    conn: AsyncConnection

    async def assign_segments(self, after: int, batch_size: int, today: date, new_since: datetime,
                              recent_since: datetime, year_since: datetime, channels: frozenset[str],
                              frequent_orders: int, valuable_spend: int) -> tuple[int, int]:
        await plan_for_values(self.conn)
        last = (await self.conn.execute(
            select(members.c.id).where(members.c.id > after).order_by(members.c.id)
            .offset(batch_size - 1).limit(1))).scalar()
        in_batch = [members.c.id > after] + ([members.c.id <= last] if last is not None else [])
        if last is None:
            count = (await self.conn.execute(select(func.count()).where(*in_batch))).scalar_one()
            last = after
        else:
            count = batch_size
        if count == 0:
            return 0, after
        of_batch = [orders.c.member_id > after] + ([orders.c.member_id <= last] if count == batch_size else [])
        per_member = (
            select(orders.c.member_id, func.max(orders.c.paid_at).label("last_paid"),
                   func.count().label("orders"), func.sum(orders.c.amount - orders.c.refunded_amount).label("spend"))
            .where(*of_batch, orders.c.paid_at >= year_since, orders.c.channel.in_(sorted(channels)),
                   orders.c.refunded_amount < orders.c.amount)
            .group_by(orders.c.member_id).subquery("per_member"))
        segment = segment_case(
            members.c.created_at >= new_since,
            and_(per_member.c.last_paid.is_not(None), per_member.c.last_paid >= recent_since),
            func.coalesce(per_member.c.orders, 0) >= frequent_orders,
            func.coalesce(per_member.c.spend, 0) >= valuable_spend)
        decided = (select(members.c.id, segment.label("segment"))
                   .select_from(members.outerjoin(per_member, per_member.c.member_id == members.c.id))
                   .where(*in_batch, members.c.deregistered_at.is_(None)).subquery("decided"))
        await self.conn.execute(
            update(members).where(members.c.id == decided.c.id, members.c.segment.is_distinct_from(decided.c.segment))
            .values(segment=decided.c.segment, segment_since=today))
        return count, last
