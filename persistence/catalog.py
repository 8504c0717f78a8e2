"""The program's tiers, benefits, coupon templates and rewards, written into the tables.

Run by `loyalty db upgrade`. Rows are matched by code, so ids (and global IDs) stay stable across
runs; reward stock is set only when a reward is first created, never reset afterwards; rewards
and benefits the program no longer has are retired.

The program file seeds the catalog; staff then manage it (`domain.catalog`). A reward or coupon template
staff created or changed has `edited_at` set and is theirs: this sync never updates or retires it again.
A reward or template in the file that staff never touched follows the file (a file change applies at the
next upgrade); a code new in the file is inserted. So when a file change and a staff change meet on one
row, the staff change wins, and the file's new values for that row are ignored (change it by staff
mutation instead).
"""
from __future__ import annotations

from sqlalchemy import delete, insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from domain.program import Program
from persistence.tables import benefits, coupon_templates, members, rewards, tiers


async def _upsert(conn: AsyncConnection, table, code: str, values: dict, insert_only: dict | None = None,
                  guarded: bool = False) -> None:
    """Insert the row of `code`, or update it; when `guarded`, a row staff edited (`edited_at`) is left."""
    found = (await conn.execute(select(table.c.id, *([table.c.edited_at] if guarded else []))
                                .where(table.c.code == code))).first()
    if found is None:
        await conn.execute(insert(table).values(code=code, **values, **(insert_only or {})))
    elif not guarded or found.edited_at is None:
        await conn.execute(update(table).where(table.c.id == found.id).values(**values))


def _has_staff_edits(sync_conn) -> bool:
    """Whether the schema has `edited_at` yet: an upgrade to an earlier revision (tests) syncs too."""
    return "edited_at" in {column["name"] for column in inspect(sync_conn).get_columns("rewards")}


async def sync_program(conn: AsyncConnection, program: Program) -> None:
    guarded = await conn.run_sync(_has_staff_edits)
    # Levels are unique: move existing tiers out of the way before writing the program's levels.
    await conn.execute(update(tiers).values(level=-tiers.c.id))
    for tier in program.tiers:
        await _upsert(conn, tiers, tier.code, dict(
            name=tier.name, level=tier.level, growth_threshold=tier.growth_threshold,
            points_multiplier=tier.points_multiplier, retention_deduction=tier.retention_deduction))
    for template in program.coupon_templates.values():
        await _upsert(conn, coupon_templates, template.code, dict(
            title=template.title, kind=template.kind, min_spend=template.min_spend,
            discount_amount=template.discount_amount, discount_percent=template.discount_percent,
            valid_days=template.valid_days, valid_until_month_end=template.valid_until_month_end), guarded=guarded)
    benefit_codes = [b.code for b in program.benefits]
    await conn.execute(delete(benefits).where(benefits.c.code.not_in(benefit_codes)))
    for benefit in program.benefits:
        await _upsert(conn, benefits, benefit.code, dict(
            tier_code=benefit.tier, name=benefit.name, description=benefit.description, sort_order=benefit.sort_order))
    reward_codes = [r.code for r in program.rewards]
    retired = update(rewards).where(rewards.c.code.not_in(reward_codes))
    await conn.execute((retired.where(rewards.c.edited_at.is_(None)) if guarded else retired).values(active=False))
    for reward in program.rewards:
        await _upsert(conn, rewards, reward.code, dict(
            name=reward.name, description=reward.description, kind=reward.kind, points_cost=reward.points_cost,
            min_tier_level=reward.min_tier_level, coupon_template=reward.coupon_template,
            sort_order=reward.sort_order, active=True), insert_only=dict(stock=reward.stock), guarded=guarded)
    # Tiers the program no longer has are removed; one that members still hold keeps a negative
    # level, out of every ladder, until those members are moved (a data migration, not a sync).
    program_codes = [t.code for t in program.tiers]
    await conn.execute(delete(tiers).where(
        tiers.c.code.not_in(program_codes), tiers.c.code.not_in(select(members.c.tier_code).distinct())))
