"""The points ledger and lots as the API reads them."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import BigInteger, bindparam, func, select

from domain.clock import validity_cutoff
from persistence.database import LAST_ID, Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import UtcDateTime, point_entries, points_lots
from persistence.validity import still_valid

EXPIRING_SOON = Query(
    select(points_lots.c.member_id, func.sum(points_lots.c.remaining).label("points"),
           func.min(points_lots.c.expires_at).label("expires_at"))
    .where(points_lots.c.member_id.in_(bindparam("member_ids", expanding=True)), points_lots.c.remaining > 0,
           still_valid(points_lots.c.expires_at, bindparam("cutoff", type_=UtcDateTime)),
           points_lots.c.expires_at <= bindparam("until", type_=UtcDateTime))
    .group_by(points_lots.c.member_id))


async def points_expiring_soon(reader: Reader, member_ids: Sequence[int], now: datetime,
                               until: datetime) -> dict[int, tuple[int, datetime]]:
    rows = await reader.fetch(EXPIRING_SOON, member_ids=list(member_ids), cutoff=validity_cutoff(now), until=until)
    return {row.member_id: (int(row.points), row.expires_at) for row in rows}


ENTRY_PAGE = Query(
    select(point_entries).where(point_entries.c.member_id == bindparam("member_id"),
                                point_entries.c.id < func.coalesce(bindparam("after_id", type_=BigInteger), LAST_ID))
    .order_by(point_entries.c.id.desc()).limit(bindparam("limit")))


async def point_entry_page(reader: Reader, member_id: int, after_id: int | None, limit: int) -> list:
    return await reader.fetch(ENTRY_PAGE, member_id=member_id, after_id=after_id, limit=limit)


async def point_entries_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, point_entries, ids)
