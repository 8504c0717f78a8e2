"""Check-ins as the API reads them."""
from __future__ import annotations

from datetime import date
from typing import Sequence

from sqlalchemy import Date, bindparam, select

from persistence.database import Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import check_ins

ON_DAYS = Query(select(check_ins).where(check_ins.c.member_id.in_(bindparam("member_ids", expanding=True)),
                                        check_ins.c.local_date.in_(bindparam("days", expanding=True))))


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


async def check_ins_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, check_ins, ids)
