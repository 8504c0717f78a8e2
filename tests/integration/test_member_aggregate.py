"""The member is an aggregate saved once per transaction: however many rules change its points, growth
and tier in one write, the members row is updated once, with all of it (both databases)."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timezone

import pytest
from sqlalchemy import event

from domain import commands
from domain.errors import LoyaltyError, UserErrorCode
from persistence.tables import members
from tests.conftest import service_for

PAID_AT = datetime(2026, 3, 2, 4, 0, tzinfo=timezone.utc)  # a Monday, noon in Shanghai


@contextmanager
def member_updates(database):
    """The UPDATE statements on the members table sent inside the block."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if statement.lstrip().upper().startswith("UPDATE MEMBERS"):
            seen.append(statement)

    for engine in database.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        for engine in database.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_an_order_that_upgrades_the_tier_saves_the_member_once(database, program):
    service = service_for(database, program)
    member, _, _ = await service.handle(commands.SignInWithWeChat("aggregate-openid", None, None), now=PAID_AT)
    top = max(program.tiers, key=lambda tier: tier.level)
    amount = top.growth_threshold * program.growth.fen_per_growth   # growth enough for the top tier at once
    with member_updates(database) as updates:
        await service.handle(commands.RecordOrder(member.id, "AGG-1", amount, None, "APP", PAID_AT), now=PAID_AT)
    assert len(updates) == 1
    async with database.transaction() as conn:
        row = (await conn.execute(members.select().where(members.c.id == member.id))).one()
    assert row.tier_code == top.code and row.growth_value >= top.growth_threshold
    assert row.points_balance > member.points_balance  # the order's points and the upgrade gift, in that one save


async def test_a_refused_write_saves_nothing(database, program):
    service = service_for(database, program)
    member, _, _ = await service.handle(commands.SignInWithWeChat("aggregate-refused", None, None), now=PAID_AT)
    with member_updates(database) as updates, pytest.raises(LoyaltyError) as refused:
        await service.handle(commands.AdjustPoints(member.id, -(member.points_balance + 1), "more than they have", "agg-key"), now=PAID_AT)
    assert refused.value.code == UserErrorCode.INSUFFICIENT_POINTS and updates == []
