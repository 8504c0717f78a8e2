"""The tier ladder and benefits as the API reads them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from sqlalchemy import func, select

from persistence.database import Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import benefits, catalog_version, tiers


@dataclass(frozen=True)
class TierCatalog:
    """The program's tiers, lowest level first, and their benefits (each with its tier's level), as of
    `version` (`catalog_version`, which every change to them bumps)."""

    version: int
    ladder: tuple
    benefits: tuple

    def benefits_up_to(self, level: int) -> list:
        """The benefits of the tier of `level` and of every tier below it."""
        return [row for row in self.benefits if row.tier_level <= level]


CATALOG_VERSION = Query(select(func.coalesce(select(catalog_version.c.version).scalar_subquery(), 0).label("version")))


async def current_catalog_version(reader: Reader) -> int:
    return (await reader.fetch(CATALOG_VERSION))[0].version


async def tier_catalog(reader: Reader) -> TierCatalog:
    """Retired tiers of another program have levels below 1. The version comes with the tiers, in one
    snapshot; a change made before the benefits are read leaves them tagged older than they are, and read
    again at the next use."""
    ladder = await reader.execute(
        select(tiers, select(catalog_version.c.version).scalar_subquery().label("catalog_version"))
        .where(tiers.c.level >= 1).order_by(tiers.c.level))
    ladder = tuple(ladder)
    found = await reader.execute(
        select(benefits, tiers.c.level.label("tier_level"))
        .join(tiers, tiers.c.code == benefits.c.tier_code).where(tiers.c.level >= 1)
        .order_by(tiers.c.level, benefits.c.sort_order, benefits.c.id))
    version = ladder[0].catalog_version if ladder else await current_catalog_version(reader)
    return TierCatalog(version, ladder, tuple(found))


async def tier_codes(reader: Reader) -> list[str]:
    return list((await reader.execute(select(tiers.c.code).where(tiers.c.level >= 1).order_by(tiers.c.level))).scalars())


async def tiers_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, tiers, ids)


async def benefits_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, benefits, ids)
