"""The reward catalog as the API reads it."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import select, tuple_

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import redemptions, rewards


def _after(columns: tuple, values: tuple | None, descending: bool):
    """Keyset condition: rows strictly after the cursor's sort key."""
    if values is None:
        return True
    key = tuple_(*columns)
    return key < tuple_(*values) if descending else key > tuple_(*values)


async def reward_page(reader: Reader, after: tuple[int, int] | None, limit: int) -> list:
    order = (rewards.c.sort_order, rewards.c.id)
    return list(await reader.execute(
        select(rewards).where(rewards.c.active.is_(True), _after(order, after, descending=False))
        .order_by(*order).limit(limit)))


async def rewards_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, rewards, ids)


async def redemptions_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, redemptions, ids)
