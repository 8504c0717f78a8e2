"""Dataloaders, created per request inside the event loop: one batched query per relation."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from aiodataloader import DataLoader
from sqlalchemy import Table

from domain.check_ins import CheckInStatus, check_in_status
from domain.program import Program
from persistence import queries
from persistence.database import Reader
from persistence.tables import (
    api_keys, benefits, check_ins, coupons, members, notifications, orders, point_entries, redemptions, rewards, tiers,
)


class SharedLoader(DataLoader):
    """A loader whose answers are shared by every resolver that asks. graphql-core cancels the siblings of
    a field that fails; a resolver cancelled while it waits must not cancel the answer the others wait for
    (the CancelledError would reach them, and the request would fail with no answer)."""

    def load(self, key):
        return asyncio.shield(super().load(key))


class RowsByIdLoader(SharedLoader):
    """Rows of one table by primary key (None where there is none)."""

    def __init__(self, reader: Reader, table: Table):
        super().__init__()
        self.reader, self.table = reader, table

    async def batch_load_fn(self, ids):
        rows = await queries.rows_by_ids(self.reader, self.table, list(ids))
        return [rows.get(i) for i in ids]


LADDER = "ladder"


class TierLadderLoader(SharedLoader):
    """All tiers, lowest first, under the one key LADDER: tier, next tier and the tier list share it."""

    def __init__(self, reader: Reader):
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, keys):
        ladder = await queries.tier_ladder(self.reader)
        return [ladder for _ in keys]


class BenefitsUpToLevelLoader(SharedLoader):
    def __init__(self, reader: Reader):
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, levels):
        found = await queries.benefits_up_to_levels(self.reader, list(levels))
        return [found[level] for level in levels]


class PointsExpiringSoonLoader(SharedLoader):
    def __init__(self, reader: Reader, now: datetime, program: Program):
        super().__init__()
        self.reader, self.now = reader, now
        self.until = program.calendar.end_of_day(program.calendar.local_date(now) + timedelta(days=program.expiring_soon_days))

    async def batch_load_fn(self, member_ids):
        found = await queries.points_expiring_soon(self.reader, list(member_ids), self.now, self.until)
        return [found.get(m) for m in member_ids]


class CheckInStatusLoader(SharedLoader):
    def __init__(self, reader: Reader, now: datetime, program: Program):
        super().__init__()
        self.reader, self.program = reader, program
        self.today = program.calendar.local_date(now)

    async def batch_load_fn(self, member_ids) -> list[CheckInStatus]:
        yesterday = self.today - timedelta(days=1)
        rows = await queries.check_ins_on(self.reader, list(member_ids), [self.today, yesterday])
        by_key = {(row.member_id, row.local_date): row for row in rows}
        return [check_in_status(self.program, by_key.get((m, self.today)), by_key.get((m, yesterday)))
                for m in member_ids]


class PageLoader(SharedLoader):
    """A page of a member's list; each distinct page asked for is one statement."""

    def __init__(self, fetch):
        super().__init__()
        self.fetch = fetch

    async def batch_load_fn(self, keys):
        return [await self.fetch(*key) for key in keys]


class CouponCountLoader(SharedLoader):
    def __init__(self, reader: Reader, now: datetime):
        super().__init__()
        self.reader, self.now = reader, now

    async def batch_load_fn(self, keys):
        counts = await queries.coupon_counts(self.reader, list(keys), self.now)
        return [counts[key] for key in keys]


class NotificationCountsLoader(SharedLoader):
    def __init__(self, reader: Reader):
        super().__init__()
        self.reader = reader

    async def batch_load_fn(self, member_ids):
        counts = await queries.notification_counts(self.reader, list(member_ids))
        return [counts.get(m, (0, 0)) for m in member_ids]


class Loaders:
    def __init__(self, reader: Reader, now: datetime, program: Program):
        self.member = RowsByIdLoader(reader, members)
        self.tier = RowsByIdLoader(reader, tiers)
        self.benefit = RowsByIdLoader(reader, benefits)
        self.reward = RowsByIdLoader(reader, rewards)
        self.coupon = RowsByIdLoader(reader, coupons)
        self.point_entry = RowsByIdLoader(reader, point_entries)
        self.redemption = RowsByIdLoader(reader, redemptions)
        self.order = RowsByIdLoader(reader, orders)
        self.check_in = RowsByIdLoader(reader, check_ins)
        self.notification = RowsByIdLoader(reader, notifications)
        self.api_key = RowsByIdLoader(reader, api_keys)
        self.tier_ladder = TierLadderLoader(reader)
        self.benefits_up_to_level = BenefitsUpToLevelLoader(reader)
        self.points_expiring_soon = PointsExpiringSoonLoader(reader, now, program)
        self.check_in_status = CheckInStatusLoader(reader, now, program)
        self.coupon_count = CouponCountLoader(reader, now)
        self.notification_counts = NotificationCountsLoader(reader)
        self.notification_page = PageLoader(lambda member_id, after, limit: queries.notification_page(
            reader, member_id, after, limit))
        self.coupon_page = PageLoader(lambda member_id, status, after, limit: queries.coupon_page(
            reader, member_id, status, now, after, limit))
        self.point_entry_page = PageLoader(lambda member_id, after, limit: queries.point_entry_page(
            reader, member_id, after, limit))
        self.reward_page = PageLoader(lambda after, limit: queries.reward_page(reader, after, limit))
        self.audit_page = PageLoader(lambda subject, after, limit: queries.audit_page(reader, subject, after, limit))
        self.api_key_page = PageLoader(lambda after, limit: queries.api_key_page(reader, after, limit))
