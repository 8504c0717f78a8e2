"""The tier ladder and benefits as the API reads them."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import benefits, tiers


async def tier_ladder(reader: Reader) -> list:
    """The program's tiers, lowest level first (retired tiers of another program have levels below 1)."""
    return list(await reader.execute(select(tiers).where(tiers.c.level >= 1).order_by(tiers.c.level)))


async def benefits_up_to_levels(reader: Reader, levels: Sequence[int]) -> dict[int, list]:
    """For each tier level, the benefits of that tier and every tier below it."""
    rows = list(await reader.execute(
        select(benefits, tiers.c.level.label("tier_level"))
        .join(tiers, tiers.c.code == benefits.c.tier_code)
        .where(tiers.c.level >= 1, tiers.c.level <= max(levels))
        .order_by(tiers.c.level, benefits.c.sort_order, benefits.c.id)))
    return {level: [row for row in rows if row.tier_level <= level] for level in levels}


async def tier_codes(reader: Reader) -> list[str]:
    return list((await reader.execute(select(tiers.c.code).where(tiers.c.level >= 1).order_by(tiers.c.level))).scalars())


async def tiers_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, tiers, ids)


async def benefits_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, benefits, ids)
