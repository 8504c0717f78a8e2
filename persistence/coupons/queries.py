"""Members' coupons as the API reads them."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import BigInteger, and_, bindparam, func, select

from domain.clock import validity_cutoff
from domain.vocabulary import CouponStatus
from persistence.database import LAST_ID, Query, Reader
from persistence.rows import rows_by_ids
from persistence.tables import UtcDateTime, coupons
from persistence.validity import lapsed, still_valid


def status_is(status: str | None, now: datetime):
    """`domain.model.coupon_status(…) == status` in SQL (None: any status). tests/integration/test_sql_twins.py
    checks that the two agree."""
    if status == CouponStatus.USED:
        return coupons.c.status == CouponStatus.USED
    if status == CouponStatus.EXPIRED:
        return and_(coupons.c.status == CouponStatus.AVAILABLE, lapsed(coupons.c.valid_until, now))
    if status == CouponStatus.AVAILABLE:
        return and_(coupons.c.status == CouponStatus.AVAILABLE, still_valid(coupons.c.valid_until, now))
    return True


def _page(status: str | None) -> Query:
    return Query(select(coupons).where(
        coupons.c.member_id == bindparam("member_id"), status_is(status, CUTOFF),
        coupons.c.id < func.coalesce(bindparam("after_id", type_=BigInteger), LAST_ID),
    ).order_by(coupons.c.id.desc()).limit(bindparam("limit")))


def _count(status: str | None) -> Query:
    return Query(select(coupons.c.member_id, func.count().label("count"))
                 .where(coupons.c.member_id.in_(bindparam("member_ids", expanding=True)), status_is(status, CUTOFF))
                 .group_by(coupons.c.member_id))


CUTOFF = bindparam("cutoff", type_=UtcDateTime)  # validity_cutoff(now), when the statement runs
STATUSES = (None, *CouponStatus)
PAGES = {status: _page(status) for status in STATUSES}
COUNTS = {status: _count(status) for status in STATUSES}


async def coupon_page(reader: Reader, member_id: int, status: str | None, now: datetime, after_id: int | None,
                      limit: int) -> list:
    """Newest first; `limit` is one more than the page so the caller knows whether another follows."""
    return await reader.fetch(PAGES[status], member_id=member_id, cutoff=validity_cutoff(now), after_id=after_id,
                              limit=limit)


async def coupon_counts(reader: Reader, keys: Sequence[tuple[int, str | None]], now: datetime) -> dict:
    counts = {}
    for status in {status for _, status in keys}:
        member_ids = [m for m, s in keys if s == status]
        rows = await reader.fetch(COUNTS[status], member_ids=member_ids, cutoff=validity_cutoff(now))
        found = {row.member_id: row.count for row in rows}
        counts.update({(m, status): found.get(m, 0) for m in member_ids})
    return counts


async def coupons_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, coupons, ids)
