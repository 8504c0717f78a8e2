"""The audit log: appended in the transaction of the change it records, never updated or deleted."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import AuditRecord
from persistence.tables import api_keys, audit_log, coupon_templates, coupons, members, rewards


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


SNAPSHOTS = {
    "Member": (members, lambda r: {"pointsBalance": r.points_balance, "pointsDebt": r.points_debt,
                                   "growthValue": r.growth_value, "tier": r.tier_code,
                                   "tierExpiresAt": _iso(r.tier_expires_at),
                                   "deregistered": r.deregistered_at is not None}),
    "Coupon": (coupons, lambda r: {"member": r.member_id, "status": r.status, "usedOrderId": r.used_order_id,
                                   "appliedDiscount": r.applied_discount, "validUntil": _iso(r.valid_until)}),
    "ApiKey": (api_keys, lambda r: {"name": r.name, "scopes": r.scopes, "revoked": r.revoked_at is not None}),
    "Reward": (rewards, lambda r: {"code": r.code, "name": r.name, "description": r.description, "kind": r.kind,
                                   "pointsCost": r.points_cost, "minTierLevel": r.min_tier_level, "stock": r.stock,
                                   "active": r.active, "couponTemplate": r.coupon_template}),
    "CouponTemplate": (coupon_templates, lambda r: {
        "code": r.code, "title": r.title, "kind": r.kind, "minSpend": r.min_spend, "discountAmount": r.discount_amount,
        "discountPercent": r.discount_percent, "validDays": r.valid_days, "validUntilMonthEnd": r.valid_until_month_end}),
}
LOCKED = {"Member", "Reward", "CouponTemplate"}  # read for update: the change starts from what is recorded


class SqlAuditRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def snapshot(self, subject: str | None) -> dict | None:
        """The state of `subject` ("Member:12") as this transaction sees it; None when there is none.
        A member (a coupon's member first), reward or coupon template is locked, in the order the use cases
        lock, so that what is read before the change is what the change starts from."""
        kind, _, pk = (subject or "").partition(":")
        if kind not in SNAPSHOTS or not pk.isdigit():
            return None
        if kind == "Coupon":
            owner = select(coupons.c.member_id).where(coupons.c.id == int(pk)).scalar_subquery()
            await self.conn.execute(select(members.c.id).where(members.c.id == owner).with_for_update())
        table, shape = SNAPSHOTS[kind]
        query = select(table).where(table.c.id == int(pk))
        row = (await self.conn.execute(query.with_for_update() if kind in LOCKED else query)).first()
        return shape(row) if row else None

    async def add(self, record: AuditRecord) -> None:
        await self.conn.execute(insert(audit_log).values(**asdict(record)))
