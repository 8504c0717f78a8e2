"""Notifications as the API reads them."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import case, func, select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import notifications


async def notification_page(reader: Reader, member_id: int, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(notifications).where(notifications.c.member_id == member_id,
                                    notifications.c.id < after_id if after_id is not None else True)
        .order_by(notifications.c.id.desc()).limit(limit)))


async def notification_counts(reader: Reader, member_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(all, unread) per member."""
    unread = func.sum(case((notifications.c.read_at.is_(None), 1), else_=0))
    rows = await reader.execute(select(notifications.c.member_id, func.count(), unread)
                                .where(notifications.c.member_id.in_(member_ids)).group_by(notifications.c.member_id))
    return {member_id: (int(total), int(unread or 0)) for member_id, total, unread in rows}


async def notifications_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, notifications, ids)
