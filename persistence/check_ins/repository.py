"""Daily check-ins."""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import CheckIn
from persistence.database import Query, run_many, run_query
from persistence.rows import columns_of, insert_model, to_model
from persistence.tables import check_ins

ON_DATES = Query(select(*columns_of(check_ins, CheckIn)).where(
    check_ins.c.member_id == bindparam("member_id"), check_ins.c.local_date.in_(bindparam("days", expanding=True))))
SET_STREAK = Query(update(check_ins).where(check_ins.c.id == bindparam("check_in_id"))
                   .values(streak_days=bindparam("streak_days")))
MADE_UP_BETWEEN = Query(select(func.count().label("count")).where(
    check_ins.c.member_id == bindparam("member_id"), check_ins.c.made_up,
    check_ins.c.created_at >= bindparam("start"), check_ins.c.created_at < bindparam("end")))


class SqlCheckInRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def _one(self, condition) -> CheckIn | None:
        row = (await self.conn.execute(select(*columns_of(check_ins, CheckIn)).where(condition))).first()
        return to_model(CheckIn, row) if row else None

    async def on_dates(self, member_id: int, days: Sequence[date]) -> dict[date, CheckIn]:
        rows = await run_query(self.conn, ON_DATES, {"member_id": member_id, "days": list(days)})
        return {row.local_date: to_model(CheckIn, row) for row in rows}

    async def get(self, check_in_id: int) -> CheckIn | None:
        return await self._one(check_ins.c.id == check_in_id)

    async def add(self, check_in: CheckIn) -> CheckIn:
        return await insert_model(self.conn, check_ins, check_in)

    async def set_streaks(self, repaired: Sequence[CheckIn]) -> None:
        await run_many(self.conn, SET_STREAK, [{"check_in_id": c.id, "streak_days": c.streak_days} for c in repaired])

    async def made_up_between(self, member_id: int, start: datetime, end: datetime) -> int:
        rows = await run_query(self.conn, MADE_UP_BETWEEN, {"member_id": member_id, "start": start, "end": end})
        return rows[0].count
