"""The reward catalog as the API reads it."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import BigInteger, Integer, bindparam, select, tuple_

from persistence.database import Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import coupon_templates, redemptions, rewards

ORDER = (rewards.c.sort_order, rewards.c.id)
FIRST_PAGE = Query(select(rewards).where(rewards.c.active.is_(True)).order_by(*ORDER).limit(bindparam("limit")))
PAGE_AFTER = Query(select(rewards).where(
    rewards.c.active.is_(True), tuple_(*ORDER) > tuple_(bindparam("after_sort", type_=Integer),
                                                        bindparam("after_id", type_=BigInteger)),
).order_by(*ORDER).limit(bindparam("limit")))


async def reward_page(reader: Reader, after: tuple[int, int] | None, limit: int) -> list:
    """Active rewards by (sort order, id), after the cursor's key (keyset paging)."""
    if after is None:
        return await reader.fetch(FIRST_PAGE, limit=limit)
    return await reader.fetch(PAGE_AFTER, after_sort=after[0], after_id=after[1], limit=limit)


async def rewards_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, rewards, ids)


async def coupon_templates_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, coupon_templates, ids)


async def redemptions_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, redemptions, ids)
