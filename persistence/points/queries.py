"""The points ledger and lots as the API reads them."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import func, select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import point_entries, points_lots
from persistence.validity import still_valid


async def points_expiring_soon(reader: Reader, member_ids: Sequence[int], now: datetime, until: datetime) -> dict[int, tuple[int, datetime]]:
    rows = await reader.execute(
        select(points_lots.c.member_id, func.sum(points_lots.c.remaining), func.min(points_lots.c.expires_at))
        .where(points_lots.c.member_id.in_(member_ids), points_lots.c.remaining > 0,
               still_valid(points_lots.c.expires_at, now), points_lots.c.expires_at <= until)
        .group_by(points_lots.c.member_id))
    return {member_id: (int(points), expires_at) for member_id, points, expires_at in rows}


async def point_entry_page(reader: Reader, member_id: int, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(point_entries).where(point_entries.c.member_id == member_id,
                                    point_entries.c.id < after_id if after_id is not None else True)
        .order_by(point_entries.c.id.desc()).limit(limit)))


async def point_entries_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, point_entries, ids)
