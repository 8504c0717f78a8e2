"""Referrals as the API reads them: a referrer's, newest first, and how many. Nothing of the referee's."""
from __future__ import annotations

from typing import Sequence

from sqlalchemy import BigInteger, bindparam, func, select

from persistence.database import LAST_ID, Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import referrals

PAGE = Query(
    select(referrals.c.id, referrals.c.referrer_id, referrals.c.joined_at, referrals.c.status,
           referrals.c.points_awarded)
    .where(referrals.c.referrer_id == bindparam("member_id"),
           referrals.c.id < func.coalesce(bindparam("after_id", type_=BigInteger), LAST_ID))
    .order_by(referrals.c.id.desc()).limit(bindparam("limit")))
COUNTS = Query(
    select(referrals.c.referrer_id, func.count().label("count"))
    .where(referrals.c.referrer_id.in_(bindparam("member_ids", expanding=True))).group_by(referrals.c.referrer_id))


async def referral_page(reader: Reader, member_id: int, after_id: int | None, limit: int) -> list:
    """Newest first; `limit` is one more than the page so the caller knows whether another follows."""
    return await reader.fetch(PAGE, member_id=member_id, after_id=after_id, limit=limit)


async def referral_counts(reader: Reader, member_ids: Sequence[int]) -> dict[int, int]:
    return {row.referrer_id: row.count for row in await reader.fetch(COUNTS, member_ids=list(member_ids))}


async def referrals_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, referrals, ids)
