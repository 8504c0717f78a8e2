from __future__ import annotations

from api.core.loaders import ById, Loader, Pages
from persistence.coupons import queries


class CouponById(ById):
    fetch = queries.coupons_by_ids


class CouponPage(Pages):
    async def page(self, member_id, status, after, limit):
        return await queries.coupon_page(self.reader, member_id, status, self.context.now, after, limit)


class CouponCount(Loader):
    """How many of a member's coupons have a status (None: all), per (member, status)."""

    async def batch_load_fn(self, keys):
        counts = await queries.coupon_counts(self.reader, list(keys), self.context.now)
        return [counts[key] for key in keys]
