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


def _expiring_soon():
    """Lots with points left, still valid at `cutoff` (validity_cutoff(now)) and ending by `until`."""
    return (points_lots.c.remaining > 0, still_valid(points_lots.c.expires_at, bindparam("cutoff", type_=UtcDateTime)),
            points_lots.c.expires_at <= bindparam("until", type_=UtcDateTime))


EXPIRING_SOON = Query(
    select(points_lots.c.member_id, func.sum(points_lots.c.remaining).label("points"),
           func.min(points_lots.c.expires_at).label("expires_at"))
    .where(points_lots.c.member_id.in_(bindparam("member_ids", expanding=True)), *_expiring_soon())
    .group_by(points_lots.c.member_id))


def expiring_soon_of(member_id) -> list:
    """EXPIRING_SOON for one member as columns of another statement (`expiring_points`, `expiring_at`):
    the session's, when the request is known to show them (`persistence.sessions.queries`)."""
    lots = select(func.sum(points_lots.c.remaining), func.min(points_lots.c.expires_at)) \
        .where(points_lots.c.member_id == member_id, *_expiring_soon())
    return [lots.with_only_columns(func.sum(points_lots.c.remaining)).scalar_subquery().label("expiring_points"),
            lots.with_only_columns(func.min(points_lots.c.expires_at)).scalar_subquery().label("expiring_at")]


def expiring_soon_params(now: datetime, until: datetime) -> dict:
    return {"cutoff": validity_cutoff(now), "until": until}


async def points_expiring_soon(reader: Reader, member_ids: Sequence[int], now: datetime,
                               until: datetime) -> dict[int, tuple[int, datetime]]:
    rows = await reader.fetch(EXPIRING_SOON, member_ids=list(member_ids), **expiring_soon_params(now, until))
    return {row.member_id: (int(row.points), row.expires_at) for row in rows}


ENTRY_PAGE = Query(
    select(point_entries).where(point_entries.c.member_id == bindparam("member_id"),
                                point_entries.c.id < func.coalesce(bindparam("after_id", type_=BigInteger), LAST_ID))
    .order_by(point_entries.c.id.desc()).limit(bindparam("limit")))


async def point_entry_page(reader: Reader, member_id: int, after_id: int | None, limit: int) -> list:
    return await reader.fetch(ENTRY_PAGE, member_id=member_id, after_id=after_id, limit=limit)


async def point_entries_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, point_entries, ids)
