"""Check-ins as the API reads them."""
from __future__ import annotations

from datetime import date
from typing import Sequence

from sqlalchemy import select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import check_ins


async def check_ins_on(reader: Reader, member_ids: Sequence[int], days: Sequence[date]) -> list:
    return list(await reader.execute(
        select(check_ins).where(check_ins.c.member_id.in_(member_ids), check_ins.c.local_date.in_(days))))


async def check_ins_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, check_ins, ids)
