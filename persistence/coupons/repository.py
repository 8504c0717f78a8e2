"""Coupons held by members, and the monthly claims."""
from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Coupon
from domain.vocabulary import CouponStatus
from persistence.rows import columns_of, insert_model, to_model, update_model
from persistence.tables import coupons, monthly_coupon_claims
from persistence.validity import still_valid


class SqlCouponRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add(self, coupon: Coupon) -> Coupon:
        return await insert_model(self.conn, coupons, coupon)

    async def add_many(self, items: list[Coupon]) -> None:
        if items:
            await self.conn.execute(insert(coupons), [{k: v for k, v in asdict(c).items() if k != "id"} for c in items])

    async def lock(self, coupon_id: int) -> Coupon | None:
        row = (await self.conn.execute(
            select(*columns_of(coupons, Coupon)).where(coupons.c.id == coupon_id).with_for_update())).first()
        return to_model(Coupon, row) if row else None

    async def save(self, coupon: Coupon) -> None:
        await update_model(self.conn, coupons, coupon,
                           ("status", "used_at", "used_order_id", "used_order_amount", "applied_discount"))

    async def monthly_claimed(self, member_id: int, period: str) -> bool:
        row = await self.conn.execute(select(monthly_coupon_claims.c.period).where(
            monthly_coupon_claims.c.member_id == member_id, monthly_coupon_claims.c.period == period))
        return row.first() is not None

    async def record_monthly_claim(self, member_id: int, period: str, now: datetime) -> None:
        await self.conn.execute(insert(monthly_coupon_claims).values(member_id=member_id, period=period, claimed_at=now))

    async def by_claim_period(self, member_id: int, period: str) -> list[Coupon]:
        rows = await self.conn.execute(select(*columns_of(coupons, Coupon)).where(
            coupons.c.member_id == member_id, coupons.c.claim_period == period).order_by(coupons.c.id))
        return [to_model(Coupon, row) for row in rows]

    async def end_available(self, member_id: int, now: datetime) -> None:
        await self.conn.execute(update(coupons).where(
            coupons.c.member_id == member_id, coupons.c.status == CouponStatus.AVAILABLE, still_valid(coupons.c.valid_until, now))
            .values(valid_until=now))
