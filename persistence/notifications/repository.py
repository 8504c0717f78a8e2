"""Notifications to members (an outbox)."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Notification
from persistence.tables import notifications


class SqlNotificationRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add(self, items: list[Notification]) -> None:
        if items:
            await self.conn.execute(insert(notifications), [
                {k: v for k, v in asdict(n).items() if k != "id"} for n in items])

    async def owned(self, member_id: int, ids: set[int]) -> set[int]:
        rows = await self.conn.execute(select(notifications.c.id).where(
            notifications.c.member_id == member_id, notifications.c.id.in_(ids)))
        return set(rows.scalars())

    async def mark_read(self, member_id: int, ids: set[int], now: datetime) -> None:
        await self.conn.execute(update(notifications).where(
            notifications.c.member_id == member_id, notifications.c.id.in_(ids), notifications.c.read_at.is_(None))
            .values(read_at=now))

    async def unread_count(self, member_id: int) -> int:
        return (await self.conn.execute(select(func.count()).where(
            notifications.c.member_id == member_id, notifications.c.read_at.is_(None)))).scalar_one()

    async def erase_all(self, member_id: int) -> None:
        await self.conn.execute(delete(notifications).where(notifications.c.member_id == member_id))
