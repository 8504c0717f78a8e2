"""The program's reports, read from the books (ledger, lots, orders, check-ins, redemptions, coupons) and
never from counters: one aggregate statement per section, over a range of local days (`domain.insights.Range`).
`reader` is anything with `async execute(statement)`: the request's `Reader` or a connection (the CLI)."""
from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import String, and_, case, func, literal, or_, select, union, union_all
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from domain.insights import Range
from persistence.tables import (
    check_ins, coupons, members, orders, point_entries, points_lots, redemptions, rewards, tiers,
)


class local_month(FunctionElement):
    """"YYYY-MM" of a stored (naive UTC) moment in a time zone. SQLite has no zone database: it shifts by
    the zone's offset now, which is exact for zones without daylight saving (Asia/Shanghai)."""

    type = String()
    inherit_cache = True

    def __init__(self, column, zone: ZoneInfo):
        self.zone = zone
        super().__init__(column)


@compiles(local_month, "postgresql")
def _local_month_postgresql(element, compiler, **kw):
    column = compiler.process(next(iter(element.clauses)), **kw)
    zone = "'" + element.zone.key.replace("'", "''") + "'"  # inline: GROUP BY must repeat the very expression
    return f"to_char(({column} AT TIME ZONE 'UTC') AT TIME ZONE {zone}, 'YYYY-MM')"


@compiles(local_month)
def _local_month_sqlite(element, compiler, **kw):
    column = compiler.process(next(iter(element.clauses)), **kw)
    minutes = int(datetime.now(UTC).astimezone(element.zone).utcoffset().total_seconds() // 60)
    return f"strftime('%Y-%m', {column}, '{minutes:+d} minutes')"


def _open_at(moment: datetime):
    return and_(members.c.created_at < moment,
                or_(members.c.deregistered_at.is_(None), members.c.deregistered_at >= moment))


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


async def member_counts(reader, span: Range):
    """(total, joined, active): open at the end of the range, created within it, with an order paid or a
    check-in (by its local day) within it."""
    in_range = and_(members.c.created_at >= span.start, members.c.created_at < span.end)
    active = union(select(orders.c.member_id).where(orders.c.paid_at >= span.start, orders.c.paid_at < span.end),
                   select(check_ins.c.member_id).where(check_ins.c.local_date >= span.first,
                                                       check_ins.c.local_date <= span.last)).subquery()
    statement = select(_count_if(_open_at(span.end)).label("total"), _count_if(in_range).label("joined"),
                       select(func.count()).select_from(active).scalar_subquery().label("active"))
    return (await reader.execute(statement)).one()


async def tier_mix(reader):
    """Every tier (its row) with the number of open members holding it now, lowest level first."""
    held = (select(members.c.tier_code, func.count().label("members")).where(members.c.deregistered_at.is_(None))
            .group_by(members.c.tier_code).subquery())
    return list(await reader.execute(
        select(tiers, func.coalesce(held.c.members, 0).label("members"))
        .outerjoin(held, held.c.tier_code == tiers.c.code).order_by(tiers.c.level)))


async def segment_counts(reader) -> tuple[dict[str, int], int]:
    """Open members now per segment (members.segment; those the job has not placed yet are left out), and
    all open members."""
    rows = list(await reader.execute(
        select(members.c.segment, func.count().label("members")).where(members.c.deregistered_at.is_(None))
        .group_by(members.c.segment)))
    return {row.segment: row.members for row in rows if row.segment is not None}, sum(row.members for row in rows)


async def point_sums(reader, span: Range) -> tuple[dict[str, tuple[int, int]], int]:
    """(Σ positive deltas, Σ negative deltas) per kind of the ledger entries within the range, and the
    outstanding balance now (Σ members.points_balance), in one statement."""
    entries = (select(point_entries.c.kind.label("kind"),
                      func.coalesce(func.sum(case((point_entries.c.delta > 0, point_entries.c.delta), else_=0)), 0)
                      .label("plus"),
                      func.coalesce(func.sum(case((point_entries.c.delta < 0, point_entries.c.delta), else_=0)), 0)
                      .label("minus"))
               .where(point_entries.c.occurred_at >= span.start, point_entries.c.occurred_at < span.end)
               .group_by(point_entries.c.kind))
    balances = select(literal(None, String).label("kind"), func.coalesce(func.sum(members.c.points_balance), 0),
                      literal(0))
    rows = list(await reader.execute(union_all(entries, balances)))
    outstanding = next(int(row.plus) for row in rows if row.kind is None)
    return {row.kind: (int(row.plus), int(row.minus)) for row in rows if row.kind is not None}, outstanding


async def liability_by_month(reader, zone: ZoneInfo) -> list[tuple[str, int]]:
    """("YYYY-MM", Σ remaining) of the lots with points left, by the local month they expire in. Summed by
    expiry moment first (lots expire at the end of a local day: a few hundred moments), then by month."""
    by_moment = (select(points_lots.c.expires_at, func.sum(points_lots.c.remaining).label("points"))
                 .where(points_lots.c.remaining > 0).group_by(points_lots.c.expires_at).subquery())
    month = local_month(by_moment.c.expires_at, zone).label("month")
    return [(row.month, int(row.points)) for row in await reader.execute(
        select(month, func.sum(by_moment.c.points).label("points")).group_by(month).order_by(month))]


async def reward_redemptions(reader, span: Range):
    """Each reward redeemed within the range (its row) with the redemptions and the points they spent."""
    made = (select(redemptions.c.reward_id, func.count().label("redemptions"),
                   func.sum(redemptions.c.points_spent).label("points"))
            .where(redemptions.c.created_at >= span.start, redemptions.c.created_at < span.end)
            .group_by(redemptions.c.reward_id).subquery())
    return list(await reader.execute(
        select(rewards, made.c.redemptions, made.c.points).join(made, made.c.reward_id == rewards.c.id)
        .order_by(rewards.c.sort_order, rewards.c.id)))


async def coupon_counts(reader, span: Range) -> list:
    """Per source: issued (valid_from within the range), used (used_at within it) and expired (valid_until
    within it and never used)."""
    def within(column):
        return and_(column >= span.start, column < span.end)
    expired = and_(within(coupons.c.valid_until), coupons.c.used_at.is_(None))
    return list(await reader.execute(
        select(coupons.c.source, _count_if(within(coupons.c.valid_from)).label("issued"),
               _count_if(within(coupons.c.used_at)).label("used"), _count_if(expired).label("expired"))
        .where(or_(within(coupons.c.valid_from), within(coupons.c.used_at), expired))
        .group_by(coupons.c.source).order_by(coupons.c.source)))


async def check_ins_per_day(reader, span: Range) -> dict:
    """Check-ins per local day of the range (made-up ones on the day they fill), days without any left out."""
    return {row.local_date: row.check_ins for row in await reader.execute(
        select(check_ins.c.local_date, func.count().label("check_ins"))
        .where(check_ins.c.local_date >= span.first, check_ins.c.local_date <= span.last)
        .group_by(check_ins.c.local_date))}
