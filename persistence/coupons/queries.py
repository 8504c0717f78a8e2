"""Members' coupons as the API reads them."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

from sqlalchemy import and_, func, select

from persistence.database import Reader
from persistence.rows import rows_by_ids
from persistence.tables import coupons


def _coupon_status(status: str | None, now: datetime):
    cutoff = now.replace(microsecond=0)
    if status == "USED":
        return coupons.c.status == "USED"
    if status == "EXPIRED":
        return and_(coupons.c.status == "AVAILABLE", coupons.c.valid_until < cutoff)
    if status == "AVAILABLE":
        return and_(coupons.c.status == "AVAILABLE", coupons.c.valid_until >= cutoff)
    return True


async def coupon_page(reader: Reader, member_id: int, status: str | None, now: datetime, after_id: int | None,
                      limit: int) -> list:
    """Newest first; `limit` is one more than the page so the caller knows whether another follows."""
    return list(await reader.execute(
        select(coupons).where(coupons.c.member_id == member_id, _coupon_status(status, now),
                              coupons.c.id < after_id if after_id is not None else True)
        .order_by(coupons.c.id.desc()).limit(limit)))


async def coupon_counts(reader: Reader, keys: Sequence[tuple[int, str | None]], now: datetime) -> dict:
    counts = {}
    for status in {status for _, status in keys}:
        member_ids = [m for m, s in keys if s == status]
        rows = await reader.execute(
            select(coupons.c.member_id, func.count()).where(coupons.c.member_id.in_(member_ids),
                                                            _coupon_status(status, now))
            .group_by(coupons.c.member_id))
        found = dict(rows.all())
        counts.update({(m, status): found.get(m, 0) for m in member_ids})
    return counts


async def coupons_by_ids(reader: Reader, ids: Sequence[int]) -> dict[int, object]:
    return await rows_by_ids(reader, coupons, ids)
