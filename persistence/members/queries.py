"""Members as the API reads them."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import members


async def member_by_number(reader: Reader, member_no: str):
    return (await reader.execute(select(members).where(members.c.member_no == member_no,
                                                       members.c.deregistered_at.is_(None)))).first()


async def member_by_phone_index(reader: Reader, indexes: Sequence[str]):
    return (await reader.execute(select(members).where(members.c.phone_index.in_(indexes),
                                                       members.c.deregistered_at.is_(None)))).first()


async def members_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, members, ids)
