"""Tier retention and demotion for inactivity."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.jobs.ports import TierHolder, TierOutcome
from persistence.tables import growth_entries, members, orders, tiers

HOLDER = (members.c.id, members.c.tier_code, members.c.growth_value, members.c.tier_expires_at)


def above_base_tier():
    return select(*HOLDER).join(tiers, tiers.c.code == members.c.tier_code).where(tiers.c.level > 1)


class TierJobs:
    conn: AsyncConnection

    async def _holders(self, query) -> list[TierHolder]:
        return [TierHolder(*row) for row in await self.conn.execute(query.with_for_update(of=members))]

    async def due_tier_expiries(self, now: datetime, batch_size: int) -> list[TierHolder]:
        return await self._holders(above_base_tier().where(members.c.tier_expires_at <= now)
                                   .order_by(members.c.tier_expires_at, members.c.id).limit(batch_size))

    async def inactive_tier_holders(self, since: datetime, channels: frozenset[str], batch_size: int) -> list[TierHolder]:
        recent_order = select(orders.c.id).where(
            orders.c.member_id == members.c.id, orders.c.paid_at >= since, orders.c.channel.in_(sorted(channels)),
            orders.c.refunded_amount < orders.c.amount)
        return await self._holders(above_base_tier().where(~recent_order.exists())
                                   .order_by(members.c.id).limit(batch_size))

    async def apply_tier_outcomes(self, outcomes: list[TierOutcome], reason: str, now: datetime) -> None:
        if not outcomes:
            return
        await self.conn.execute(
            update(members).where(members.c.id == bindparam("target")).values(
                growth_value=bindparam("new_growth"), tier_code=bindparam("new_tier"),
                tier_expires_at=bindparam("new_expiry")),
            [{"target": o.member_id, "new_growth": o.growth_value, "new_tier": o.tier_code,
              "new_expiry": o.tier_expires_at} for o in outcomes])
        changed = [o for o in outcomes if o.growth_delta]
        if changed:
            await self.conn.execute(insert(growth_entries), [
                {"member_id": o.member_id, "delta": o.growth_delta, "growth_after": o.growth_value,
                 "reason": reason, "occurred_at": now, "order_id": None} for o in changed])
