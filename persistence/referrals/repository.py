"""Referrals: linked at sign-up, qualifying on the referee's orders, settled by the referral job."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.model import Order, Referral
from persistence.database import Query, run_query
from persistence.rows import columns_of, insert_model, to_model, update_model
from persistence.tables import UtcDateTime, orders, referrals

# Every order that earns growth asks this (`domain.referrals.order_recorded`): built once.
OF_REFEREE = Query(select(*columns_of(referrals, Referral)).where(referrals.c.referee_id == bindparam("referee_id"))
                   .with_for_update())
FIRST_STANDING_ORDER = Query(
    select(*columns_of(orders, Order)).where(
        orders.c.member_id == bindparam("member_id"), orders.c.growth_earned > 0,
        orders.c.refunded_amount < orders.c.amount, orders.c.paid_at >= bindparam("since", type_=UtcDateTime))
    .order_by(orders.c.id).limit(1))


class SqlReferralRepository:
    def __init__(self, conn: AsyncConnection):
        self.conn = conn

    async def add(self, referral: Referral) -> Referral:
        return await insert_model(self.conn, referrals, referral)

    async def of_referee(self, referee_id: int) -> Referral | None:
        rows = await run_query(self.conn, OF_REFEREE, {"referee_id": referee_id})
        return to_model(Referral, rows[0]) if rows else None

    async def save(self, referral: Referral) -> None:
        await update_model(self.conn, referrals, referral,
                           ("status", "order_id", "qualifies_at", "rewarded_at", "points_awarded", "void_reason"))

    async def first_standing_order(self, referee_id: int, since: datetime) -> Order | None:
        rows = await run_query(self.conn, FIRST_STANDING_ORDER, {"member_id": referee_id, "since": since})
        return to_model(Order, rows[0]) if rows else None
