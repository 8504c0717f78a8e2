"""Daily check-ins."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import CheckIn
from persistence.rows import columns_of, insert_model, to_model
from persistence.tables import check_ins


class SqlCheckInRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def _one(self, condition) -> CheckIn | None:
        row = (await self.conn.execute(select(*columns_of(check_ins, CheckIn)).where(condition))).first()
        return to_model(CheckIn, row) if row else None

    async def on_date(self, member_id: int, day: date) -> CheckIn | None:
        return await self._one((check_ins.c.member_id == member_id) & (check_ins.c.local_date == day))

    async def get(self, check_in_id: int) -> CheckIn | None:
        return await self._one(check_ins.c.id == check_in_id)

    async def add(self, check_in: CheckIn) -> CheckIn:
        return await insert_model(self.conn, check_ins, check_in)
