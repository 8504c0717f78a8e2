"""The migrations build exactly the tables the code declares, on both databases, and carry data over."""
from datetime import datetime, timedelta, timezone

import httpx
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from domain.sessions import token_hash
from persistence.migrate import upgrade
from persistence.tables import members, metadata, refresh_tokens, rewards, sessions, tiers
from server.app import create_app
from server.services import Services
from server.wechat import DevelopmentWeChat
from tests.conftest import GraphQLClient


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


async def test_sessions_from_before_random_token_ids_get_one_each_and_keep_their_refresh_tokens(
        empty_database, programs, settings):
    """Revision 0005: sessions are named in access tokens by a random token id. Sessions that existed
    before get one each, and their refresh tokens still refresh."""
    database, program = empty_database, programs["standard"]
    await upgrade(database, program, "0004")
    now = datetime.now(timezone.utc)
    async with database.transaction() as conn:
        for n in (1, 2, 3):
            await conn.execute(members.insert().values(id=n, member_no=f"M{n}", tier_code="regular", growth_value=0,
                                                       points_balance=0, created_at=now))
            await conn.execute(sessions.insert().values(id=n, member_id=n, created_at=now))
            await conn.execute(refresh_tokens.insert().values(session_id=n, token_hash=token_hash(f"rt_old-{n}"),
                                                              created_at=now, expires_at=now + timedelta(days=1)))
    await upgrade(database, program)
    async with database.read_engine.connect() as conn:
        token_ids = (await conn.execute(select(sessions.c.token_id))).scalars().all()
    assert len(set(token_ids)) == 3 and all(len(token_id) >= 22 for token_id in token_ids)
    app = create_app(services=Services(settings, program, database, DevelopmentWeChat()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty.test") as http:
        api = GraphQLClient(http)
        refreshed = await api.execute('mutation { refreshAccessToken(input: {refreshToken: "rt_old-2"}) '
                                      "{ accessToken userErrors { code } } }")
        payload = refreshed["data"]["refreshAccessToken"]
        assert payload["userErrors"] == []
        me = await api.execute("{ me { memberNo } }", token=payload["accessToken"])
        assert me["data"]["me"]["memberNo"] == "M2"
