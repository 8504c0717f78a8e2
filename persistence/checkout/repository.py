"""Checkout holds and the lots their points were taken from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import CheckoutHold
from domain.vocabulary import HoldStatus
from persistence.rows import columns_of, insert_model, to_model, update_model
from persistence.tables import checkout_holds, hold_lots


class SqlHoldRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def _one(self, condition, lock: bool = False) -> CheckoutHold | None:
        query = select(*columns_of(checkout_holds, CheckoutHold)).where(condition)
        row = (await self.conn.execute(query.with_for_update() if lock else query)).first()
        return to_model(CheckoutHold, row) if row else None

    async def by_external_order_id(self, external_order_id: str) -> CheckoutHold | None:
        return await self._one(checkout_holds.c.external_order_id == external_order_id)

    async def lock(self, hold_id: int) -> CheckoutHold:
        return await self._one(checkout_holds.c.id == hold_id, lock=True)

    async def add(self, hold: CheckoutHold) -> CheckoutHold:
        return await insert_model(self.conn, checkout_holds, hold)

    async def save(self, hold: CheckoutHold) -> None:
        await update_model(self.conn, checkout_holds, hold, ("status", "settled_at", "unapplied"))

    async def add_lots(self, hold_id: int, taken: list[tuple[int, int]]) -> None:
        if taken:
            await self.conn.execute(insert(hold_lots), [{"hold_id": hold_id, "lot_id": lot_id, "amount": amount}
                                                        for lot_id, amount in taken])

    async def lots_of(self, hold_id: int) -> list[tuple[int, int]]:
        rows = await self.conn.execute(select(hold_lots.c.lot_id, hold_lots.c.amount)
                                       .where(hold_lots.c.hold_id == hold_id).order_by(hold_lots.c.lot_id))
        return [(row.lot_id, row.amount) for row in rows]

    async def holding_coupon(self, coupon_id: int) -> CheckoutHold | None:
        return await self._one((checkout_holds.c.coupon_id == coupon_id) & (checkout_holds.c.status == HoldStatus.HELD))

    async def held_of_member(self, member_id: int) -> list[CheckoutHold]:
        rows = await self.conn.execute(select(*columns_of(checkout_holds, CheckoutHold))
                                       .where(checkout_holds.c.member_id == member_id,
                                              checkout_holds.c.status == HoldStatus.HELD)
                                       .order_by(checkout_holds.c.id).with_for_update())
        return [to_model(CheckoutHold, row) for row in rows]

    async def expired(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        rows = await self.conn.execute(select(checkout_holds.c.id, checkout_holds.c.member_id)
                                       .where(checkout_holds.c.status == HoldStatus.HELD,
                                              checkout_holds.c.expires_at <= now)
                                       .order_by(checkout_holds.c.expires_at, checkout_holds.c.id).limit(limit))
        return [(row.id, row.member_id) for row in rows]
