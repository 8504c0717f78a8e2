"""Staff changes to the catalog (rewards, coupon templates): the write side of `domain.catalog`.

Every write sets `edited_at`, which `persistence.catalog.sync_program` reads as "staff's row, leave it".
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Reward
from domain.program import CouponTemplate
from persistence.rows import columns_of, to_model
from persistence.tables import coupon_templates, rewards

TEMPLATE_COLUMNS = ("code", "title", "kind", "min_spend", "discount_amount", "discount_percent", "valid_days",
                    "valid_until_month_end")


def _new_code() -> str:
    """A code for a row staff made (the program file's rows have the file's codes)."""
    return f"staff-{secrets.token_hex(6)}"


class SqlCatalogRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def reward_for_update(self, reward_id: int) -> Reward | None:
        row = (await self.conn.execute(select(*columns_of(rewards, Reward)).where(rewards.c.id == reward_id)
                                       .with_for_update())).first()
        return to_model(Reward, row) if row else None

    async def add_reward(self, values: dict, now: datetime) -> int:
        last = select(func.coalesce(func.max(rewards.c.sort_order), 0) + 1).scalar_subquery()
        return (await self.conn.execute(insert(rewards).values(
            code=_new_code(), sort_order=last, active=True, edited_at=now, **values).returning(rewards.c.id))).scalar_one()

    async def change_reward(self, reward_id: int, values: dict, now: datetime) -> None:
        await self.conn.execute(update(rewards).where(rewards.c.id == reward_id).values(edited_at=now, **values))

    async def adjust_stock(self, reward_id: int, delta: int, now: datetime) -> bool:
        changed = await self.conn.execute(update(rewards).where(
            rewards.c.id == reward_id, rewards.c.stock.is_not(None), rewards.c.stock + delta >= 0,
        ).values(stock=rewards.c.stock + delta, edited_at=now).returning(rewards.c.id))
        return changed.first() is not None

    async def coupon_template(self, code: str) -> CouponTemplate | None:
        row = (await self.conn.execute(select(*(coupon_templates.c[name] for name in TEMPLATE_COLUMNS))
                                       .where(coupon_templates.c.code == code))).first()
        return CouponTemplate(**row._mapping) if row else None

    async def template_code(self, template_id: int) -> str | None:
        return (await self.conn.execute(select(coupon_templates.c.code)
                                        .where(coupon_templates.c.id == template_id))).scalar_one_or_none()

    async def add_coupon_template(self, template: CouponTemplate, now: datetime) -> int:
        values = {name: getattr(template, name) for name in TEMPLATE_COLUMNS if name != "code"}
        return (await self.conn.execute(insert(coupon_templates).values(
            code=_new_code(), edited_at=now, **values).returning(coupon_templates.c.id))).scalar_one()

    async def change_coupon_template(self, template: CouponTemplate, now: datetime) -> None:
        values = {name: getattr(template, name) for name in TEMPLATE_COLUMNS if name != "code"}
        await self.conn.execute(update(coupon_templates).where(coupon_templates.c.code == template.code)
                                .values(edited_at=now, **values))
