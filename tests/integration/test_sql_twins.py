"""Where set-based SQL restates a rule of the domain for speed, the two must agree: the coupon status a
member sees (`domain.model.coupon_status` and `persistence.coupons.queries.status_is`), and validity to
the last whole second (`domain.clock.is_still_valid` and `persistence.validity`)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from domain.clock import is_still_valid
from domain.model import coupon_status
from domain.vocabulary import CouponStatus
from persistence.coupons.queries import status_is
from persistence.tables import coupons, members
from persistence.validity import lapsed, still_valid

NOW = datetime(2026, 3, 2, 10, 0, 0, 500_000, tzinfo=timezone.utc)  # half-way through a second
OFFSETS = [timedelta(days=-1), timedelta(seconds=-1), timedelta(microseconds=-500_001), timedelta(microseconds=-500_000),
           timedelta(microseconds=-1), timedelta(0), timedelta(microseconds=1), timedelta(seconds=1), timedelta(days=1)]


async def coupons_around_now(database) -> list[dict]:
    """Coupons AVAILABLE and USED whose validity ends around NOW, to the microsecond."""
    async with database.transaction() as conn:
        member = (await conn.execute(insert(members).values(member_no="T0000000001", tier_code="regular", growth_value=0,
                                                            points_balance=0, points_debt=0, created_at=NOW)
                                     .returning(members.c.id))).scalar_one()
        made = []
        for stored in (CouponStatus.AVAILABLE, CouponStatus.USED):
            for offset in OFFSETS:
                values = dict(member_id=member, template_code="t", title="t", kind="AMOUNT_OFF", min_spend=0,
                              discount_amount=100, valid_from=NOW - timedelta(days=30), valid_until=NOW + offset,
                              source="ISSUED", status=stored)
                coupon_id = (await conn.execute(insert(coupons).values(**values).returning(coupons.c.id))).scalar_one()
                made.append({"id": coupon_id, **values})
    return made


async def test_the_coupon_status_in_sql_agrees_with_the_domain(database):
    made = await coupons_around_now(database)
    async with database.read_engine.connect() as conn:
        for status in CouponStatus:
            in_sql = set((await conn.execute(select(coupons.c.id).where(status_is(status, NOW)))).scalars())
            in_python = {c["id"] for c in made if coupon_status(c["status"], c["valid_until"], NOW) == status}
            assert in_sql == in_python, status
        every = set((await conn.execute(select(coupons.c.id).where(status_is(None, NOW)))).scalars())
    assert every == {c["id"] for c in made}
    assert {coupon_status(c["status"], c["valid_until"], NOW) for c in made} == set(CouponStatus)  # all three met


async def test_validity_to_the_whole_second_in_sql_agrees_with_the_domain(database):
    made = await coupons_around_now(database)
    async with database.read_engine.connect() as conn:
        valid = set((await conn.execute(select(coupons.c.id).where(still_valid(coupons.c.valid_until, NOW)))).scalars())
        gone = set((await conn.execute(select(coupons.c.id).where(lapsed(coupons.c.valid_until, NOW)))).scalars())
    assert valid == {c["id"] for c in made if is_still_valid(c["valid_until"], NOW)}
    assert gone == {c["id"] for c in made} - valid and valid and gone
