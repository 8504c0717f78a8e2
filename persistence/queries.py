"""Read-side SQL behind the API's dataloaders. Every function answers a whole batch of keys in
one statement (pages: one per distinct page asked for), so a request's statement count does not
grow with the number of items it returns."""
from __future__ import annotations

from datetime import date, datetime
from typing import Sequence

from sqlalchemy import Table, and_, case, func, select, text, tuple_
from sqlalchemy.exc import DBAPIError

from persistence.database import Reader
from persistence.tables import (
    api_keys, audit_log, benefits, check_ins, coupons, job_runs, members, notifications, orders, point_entries,
    points_lots, rewards, sessions, staff, tiers,
)


async def rows_by_ids(reader: Reader, table: Table, ids: Sequence[int]) -> dict[int, object]:
    rows = await reader.execute(select(table).where(table.c.id.in_(ids)))
    return {row.id: row for row in rows}


async def tier_ladder(reader: Reader) -> list:
    """The program's tiers, lowest level first (retired tiers of another program have levels below 1)."""
    return list(await reader.execute(select(tiers).where(tiers.c.level >= 1).order_by(tiers.c.level)))


async def benefits_up_to_levels(reader: Reader, levels: Sequence[int]) -> dict[int, list]:
    """For each tier level, the benefits of that tier and every tier below it."""
    rows = list(await reader.execute(
        select(benefits, tiers.c.level.label("tier_level"))
        .join(tiers, tiers.c.code == benefits.c.tier_code)
        .where(tiers.c.level >= 1, tiers.c.level <= max(levels))
        .order_by(tiers.c.level, benefits.c.sort_order, benefits.c.id)))
    return {level: [row for row in rows if row.tier_level <= level] for level in levels}


async def points_expiring_soon(reader: Reader, member_ids: Sequence[int], now: datetime, until: datetime) -> dict[int, tuple[int, datetime]]:
    rows = await reader.execute(
        select(points_lots.c.member_id, func.sum(points_lots.c.remaining), func.min(points_lots.c.expires_at))
        .where(points_lots.c.member_id.in_(member_ids), points_lots.c.remaining > 0,
               points_lots.c.expires_at >= now.replace(microsecond=0), points_lots.c.expires_at <= until)
        .group_by(points_lots.c.member_id))
    return {member_id: (int(points), expires_at) for member_id, points, expires_at in rows}


async def check_ins_on(reader: Reader, member_ids: Sequence[int], days: Sequence[date]) -> list:
    return list(await reader.execute(
        select(check_ins).where(check_ins.c.member_id.in_(member_ids), check_ins.c.local_date.in_(days))))


def _after(columns: tuple, values: tuple | None, descending: bool):
    """Keyset condition: rows strictly after the cursor's sort key."""
    if values is None:
        return True
    key = tuple_(*columns)
    return key < tuple_(*values) if descending else key > tuple_(*values)


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


async def point_entry_page(reader: Reader, member_id: int, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(point_entries).where(point_entries.c.member_id == member_id,
                                    point_entries.c.id < after_id if after_id is not None else True)
        .order_by(point_entries.c.id.desc()).limit(limit)))


async def notification_page(reader: Reader, member_id: int, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(notifications).where(notifications.c.member_id == member_id,
                                    notifications.c.id < after_id if after_id is not None else True)
        .order_by(notifications.c.id.desc()).limit(limit)))


async def notification_counts(reader: Reader, member_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(all, unread) per member."""
    unread = func.sum(case((notifications.c.read_at.is_(None), 1), else_=0))
    rows = await reader.execute(select(notifications.c.member_id, func.count(), unread)
                                .where(notifications.c.member_id.in_(member_ids)).group_by(notifications.c.member_id))
    return {member_id: (int(total), int(unread or 0)) for member_id, total, unread in rows}


async def reward_page(reader: Reader, after: tuple[int, int] | None, limit: int) -> list:
    order = (rewards.c.sort_order, rewards.c.id)
    return list(await reader.execute(
        select(rewards).where(rewards.c.active.is_(True), _after(order, after, descending=False))
        .order_by(*order).limit(limit)))


async def ping(reader: Reader) -> None:
    await reader.execute(text("SELECT 1"))


async def migration_version(reader: Reader) -> str | None:
    """The Alembic revision the database is at (None before the first migration)."""
    try:
        return (await reader.execute(text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except DBAPIError:
        return None


async def last_job_runs(reader: Reader) -> list[tuple[str, float, int]]:
    """(job, when it last completed a period as a Unix time, members it changed then), one row a job."""
    latest = select(job_runs.c.job, func.max(job_runs.c.completed_at).label("at")).group_by(job_runs.c.job).subquery()
    rows = await reader.execute(select(job_runs.c.job, job_runs.c.completed_at, job_runs.c.processed)
                                .join(latest, (latest.c.job == job_runs.c.job) & (latest.c.at == job_runs.c.completed_at))
                                .order_by(job_runs.c.job))
    return [(row.job, row.completed_at.timestamp(), row.processed) for row in rows]


async def tier_codes(reader: Reader) -> list[str]:
    return list((await reader.execute(select(tiers.c.code).where(tiers.c.level >= 1).order_by(tiers.c.level))).scalars())


async def active_api_key(reader: Reader, key_hash: str):
    return (await reader.execute(
        select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None)))).first()


async def live_session(reader: Reader, token_id: str):
    """The session an access token names, if not revoked, with its staff member's name, role and state."""
    return (await reader.execute(
        select(sessions.c.id, sessions.c.member_id, sessions.c.staff_id, staff.c.username, staff.c.role,
               staff.c.disabled_at)
        .outerjoin(staff, staff.c.id == sessions.c.staff_id)
        .where(sessions.c.token_id == token_id, sessions.c.revoked_at.is_(None)))).first()


async def order_by_external_id(reader: Reader, external_id: str):
    return (await reader.execute(select(orders).where(orders.c.external_id == external_id))).first()


async def member_by_number(reader: Reader, member_no: str):
    return (await reader.execute(select(members).where(members.c.member_no == member_no,
                                                       members.c.deregistered_at.is_(None)))).first()


async def member_by_phone_index(reader: Reader, indexes: Sequence[str]):
    return (await reader.execute(select(members).where(members.c.phone_index.in_(indexes),
                                                       members.c.deregistered_at.is_(None)))).first()


async def audit_page(reader: Reader, subject: str | None, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(audit_log).where(audit_log.c.subject == subject if subject is not None else True,
                                audit_log.c.id < after_id if after_id is not None else True)
        .order_by(audit_log.c.id.desc()).limit(limit)))


async def api_key_page(reader: Reader, after_id: int | None, limit: int) -> list:
    return list(await reader.execute(
        select(api_keys).where(api_keys.c.id < after_id if after_id is not None else True)
        .order_by(api_keys.c.id.desc()).limit(limit)))

