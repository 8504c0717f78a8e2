"""Orders, refunds and points offsets at checkout."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Order, PointsOffset, Refund
from persistence.rows import columns_of, insert_model, to_model, update_model
from persistence.tables import offset_lots, orders, points_lots, points_offsets, refunds


class SqlOrderRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def _one(self, cls, table, condition):
        row = (await self.conn.execute(select(*columns_of(table, cls)).where(condition))).first()
        return to_model(cls, row) if row else None

    async def by_external_id(self, external_id: str) -> Order | None:
        return await self._one(Order, orders, orders.c.external_id == external_id)

    async def add(self, order: Order) -> Order:
        return await insert_model(self.conn, orders, order)

    async def save(self, order: Order) -> None:
        await update_model(self.conn, orders, order, ("refunded_amount", "points_taken_back", "growth_taken_back"))

    async def refund_by_external_id(self, external_refund_id: str) -> Refund | None:
        return await self._one(Refund, refunds, refunds.c.external_refund_id == external_refund_id)

    async def add_refund(self, refund: Refund) -> Refund:
        return await insert_model(self.conn, refunds, refund)

    async def offset_for(self, external_order_id: str) -> PointsOffset | None:
        return await self._one(PointsOffset, points_offsets, points_offsets.c.external_order_id == external_order_id)

    async def add_offset(self, offset: PointsOffset) -> PointsOffset:
        return await insert_model(self.conn, points_offsets, offset)

    async def save_offset(self, offset: PointsOffset) -> None:
        await update_model(self.conn, points_offsets, offset, ("points_returned",))

    async def add_offset_lots(self, offset_id: int, taken: list[tuple[int, int]]) -> None:
        if taken:
            await self.conn.execute(insert(offset_lots), [
                {"offset_id": offset_id, "lot_id": lot_id, "amount": amount} for lot_id, amount in taken])

    async def offset_lots(self, offset_id: int) -> list[tuple[datetime, int]]:
        rows = await self.conn.execute(
            select(points_lots.c.earned_at, offset_lots.c.amount).select_from(offset_lots)
            .join(points_lots, points_lots.c.id == offset_lots.c.lot_id)
            .where(offset_lots.c.offset_id == offset_id).order_by(points_lots.c.earned_at, points_lots.c.id))
        return [(earned_at, amount) for earned_at, amount in rows]
