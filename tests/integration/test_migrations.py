"""The migrations build exactly the tables the code declares, on both databases."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from persistence.migrate import upgrade
from persistence.tables import metadata, rewards, tiers


def _diff(connection):
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return compare_metadata(context, metadata)


async def test_migrated_schema_matches_tables(database):
    async with database.read_engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_upgrade_twice_keeps_catalog_ids_and_stock(database, program):
    async with database.transaction() as conn:
        before = (await conn.execute(select(tiers.c.id, tiers.c.code).order_by(tiers.c.id))).all()
        await conn.execute(rewards.update().where(rewards.c.stock.is_not(None)).values(stock=7))
    await upgrade(database, program)
    async with database.transaction() as conn:
        after = (await conn.execute(select(tiers.c.id, tiers.c.code).order_by(tiers.c.id))).all()
        stocks = (await conn.execute(select(rewards.c.stock).where(rewards.c.stock.is_not(None)))).scalars().all()
    assert after == before
    assert stocks == [7]  # a re-run never resets stock that members have redeemed
