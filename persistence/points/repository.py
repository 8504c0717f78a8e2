"""Points: the ledger and its lots."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.clock import validity_cutoff
from domain.model import LedgerEntry, PointsLot
from persistence.database import Query, run_many, run_query
from persistence.rows import columns_of, insert_model, to_model
from persistence.tables import UtcDateTime, point_entries, points_lots
from persistence.validity import still_valid

ADD_LOT = Query(insert(points_lots).values({name: bindparam(name) for name in (
    "member_id", "entry_id", "points", "remaining", "earned_at", "expires_at")}))
SPENDABLE = Query(select(*columns_of(points_lots, PointsLot))
                  .where(points_lots.c.member_id == bindparam("member_id"), points_lots.c.remaining > 0,
                         still_valid(points_lots.c.expires_at, bindparam("cutoff", type_=UtcDateTime)))
                  .order_by(points_lots.c.expires_at, points_lots.c.id).with_for_update())

TAKE_FROM_LOT = Query(update(points_lots).where(points_lots.c.id == bindparam("lot_id"))
                      .values(remaining=points_lots.c.remaining - bindparam("amount", type_=BigInteger)))
RETURN_TO_LOT = Query(update(points_lots).where(points_lots.c.id == bindparam("lot_id"))
                      .values(remaining=points_lots.c.remaining + bindparam("amount", type_=BigInteger)))


class SqlPointsRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add_entry(self, entry: LedgerEntry) -> LedgerEntry:
        return await insert_model(self.conn, point_entries, entry)

    async def get_entry(self, entry_id: int) -> LedgerEntry | None:
        row = (await self.conn.execute(select(*columns_of(point_entries, LedgerEntry))
                                       .where(point_entries.c.id == entry_id))).first()
        return to_model(LedgerEntry, row) if row else None

    async def lots_with_points(self, member_id: int) -> list[PointsLot]:
        rows = await self.conn.execute(
            select(*columns_of(points_lots, PointsLot))
            .where(points_lots.c.member_id == member_id, points_lots.c.remaining > 0)
            .order_by(points_lots.c.expires_at, points_lots.c.id).with_for_update())
        return [to_model(PointsLot, row) for row in rows]

    async def add_lot(self, entry: LedgerEntry, remaining: int, earned_at: datetime | None = None) -> None:
        await run_query(self.conn, ADD_LOT, {
            "member_id": entry.member_id, "entry_id": entry.id, "points": entry.delta, "remaining": remaining,
            "earned_at": earned_at or entry.occurred_at, "expires_at": entry.expires_at})

    async def spendable_lots(self, member_id: int, now: datetime) -> list[PointsLot]:
        rows = await run_query(self.conn, SPENDABLE, {"member_id": member_id, "cutoff": validity_cutoff(now)})
        return [to_model(PointsLot, row) for row in rows]

    async def return_to_lots(self, returned: list[tuple[int, int]]) -> None:
        await run_many(self.conn, RETURN_TO_LOT, [{"lot_id": lot_id, "amount": amount} for lot_id, amount in returned])

    async def take_from_lots(self, taken: list[tuple[PointsLot, int]]) -> None:
        """One UPDATE per lot, sent together (one round trip on PostgreSQL); the CHECK on `remaining`
        refuses any lot taken below zero."""
        await run_many(self.conn, TAKE_FROM_LOT, [{"lot_id": lot.id, "amount": amount} for lot, amount in taken])
