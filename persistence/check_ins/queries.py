"""Check-ins as the API reads them."""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from sqlalchemy import Date, bindparam, func, select

from persistence.database import Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import check_ins

ON_DAYS = Query(select(check_ins).where(check_ins.c.member_id.in_(bindparam("member_ids", expanding=True)),
                                        check_ins.c.local_date.in_(bindparam("days", expanding=True))))
MADE_UP_BETWEEN = Query(select(check_ins.c.member_id, func.count().label("count")).where(
    check_ins.c.member_id.in_(bindparam("member_ids", expanding=True)), check_ins.c.made_up,
    check_ins.c.created_at >= bindparam("start"), check_ins.c.created_at < bindparam("end"))
    .group_by(check_ins.c.member_id))


def check_ins_of(member_id) -> list:
    """A member's check-ins of `today` and `yesterday` as columns of another statement (`today_streak`,
    `today_points`, `yesterday_streak`): the session's, when the request is known to show them."""
    def on(day: str, column):
        return select(column).where(check_ins.c.member_id == member_id, check_ins.c.local_date == bindparam(day,
                                                                                                           type_=Date))
    return [on("today", check_ins.c.streak_days).scalar_subquery().label("today_streak"),
            on("today", check_ins.c.points_awarded).scalar_subquery().label("today_points"),
            on("yesterday", check_ins.c.streak_days).scalar_subquery().label("yesterday_streak")]


async def check_ins_on(reader: Reader, member_ids: Sequence[int], days: Sequence[date]) -> list:
    return await reader.fetch(ON_DAYS, member_ids=list(member_ids), days=list(days))


async def made_up_counts(reader: Reader, member_ids: Sequence[int], start: datetime, end: datetime) -> dict[int, int]:
    """How many make-up check-ins each member made from `start` up to (not including) `end`; members with
    none are left out."""
    rows = await reader.fetch(MADE_UP_BETWEEN, member_ids=list(member_ids), start=start, end=end)
    return {row.member_id: row.count for row in rows}


async def check_ins_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, check_ins, ids)
