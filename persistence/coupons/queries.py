"""Members' coupons as the API reads them."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import and_, func, select

from domain.vocabulary import CouponStatus
from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import coupons
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


async def coupon_page(reader: Reader, member_id: int, status: str | None, now: datetime, after_id: int | None,
                      limit: int) -> list:
    """Newest first; `limit` is one more than the page so the caller knows whether another follows."""
    return list(await reader.execute(
        select(coupons).where(coupons.c.member_id == member_id, status_is(status, now),
                              coupons.c.id < after_id if after_id is not None else True)
        .order_by(coupons.c.id.desc()).limit(limit)))


async def coupon_counts(reader: Reader, keys: Sequence[tuple[int, str | None]], now: datetime) -> dict:
    counts = {}
    for status in {status for _, status in keys}:
        member_ids = [m for m, s in keys if s == status]
        rows = await reader.execute(
            select(coupons.c.member_id, func.count()).where(coupons.c.member_id.in_(member_ids),
                                                            status_is(status, now))
            .group_by(coupons.c.member_id))
        found = dict(rows.all())
        counts.update({(m, status): found.get(m, 0) for m in member_ids})
    return counts


async def coupons_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, coupons, ids)
