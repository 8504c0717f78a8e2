"""Check-ins as the API reads them."""
from __future__ import annotations

from datetime import date
from typing import Sequence

from sqlalchemy import bindparam, select

from persistence.database import Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import check_ins

ON_DAYS = Query(select(check_ins).where(check_ins.c.member_id.in_(bindparam("member_ids", expanding=True)),
                                        check_ins.c.local_date.in_(bindparam("days", expanding=True))))


async def check_ins_on(reader: Reader, member_ids: Sequence[int], days: Sequence[date]) -> list:
    return await reader.fetch(ON_DAYS, member_ids=list(member_ids), days=list(days))


async def check_ins_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, check_ins, ids)
