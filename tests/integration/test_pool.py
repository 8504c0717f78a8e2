"""Heavy traffic on a deliberately small pool: no request waits for a second pooled connection while it
holds one, so none deadlocks, and every request gets its exact answer. A request cut off by its time
limit tells the caller to retry with the same key, and that retry returns what was committed."""
import asyncio
import base64
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text

from persistence.database import Database, DatabaseSettings, Reader
from server.app import create_app
from server.services import Services
from server.settings import Settings
from server.wechat import DevelopmentWeChat
from tests.conftest import TEST_ENV, GraphQLClient
from tests.integration.test_concurrency import order, reward_id

MON = "2026-03-02T10:00:00+08:00"
SMALL_POOL = DatabaseSettings(pool_size=3, max_overflow=0, pool_timeout_seconds=30, statement_timeout_ms=5000,
                              lock_timeout_ms=5000, idle_in_transaction_timeout_ms=10_000)
CHECK_IN = """mutation($key: String!) { checkIn(input: {idempotencyKey: $key}) {
  checkIn { pointsAwarded streakDays } member { pointsBalance } userErrors { code } } }"""
REDEEM = """mutation($reward: ID!, $key: String!) { redeemReward(input: {rewardId: $reward, idempotencyKey: $key}) {
  redemption { pointsSpent } member { pointsBalance } userErrors { code } } }"""
HOME = "{ me { pointsBalance checkInStatus { checkedInToday } } }"


@asynccontextmanager
async def api_on(database, program, pool: DatabaseSettings, **env):
    """The API on its own engine over the test database, with `pool` (and `env` settings)."""
    small = Database(database.url, pool)
    settings = Settings.from_env({**TEST_ENV, **env})
    app = create_app(services=Services(settings, program, small, DevelopmentWeChat()))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty.test",
                                     timeout=60) as http:
            yield GraphQLClient(http)
    finally:
        await small.dispose()


async def test_sixty_simultaneous_check_ins_on_a_pool_of_three(api, database, program):
    members = [(await api.login(f"pool-{n}", now=MON))[0] for n in range(60)]
    async with api_on(database, program, SMALL_POOL) as small:
        answers = await asyncio.gather(*(small.post(CHECK_IN, {"key": f"pool-{n}"}, token=token, now=MON)
                                         for n, token in enumerate(members)))
    assert [a.status_code for a in answers] == [200] * 60
    payloads = [a.json()["data"]["checkIn"] for a in answers]
    assert all(p["userErrors"] == [] and p["checkIn"] == {"pointsAwarded": 1, "streakDays": 1} for p in payloads)
    assert all(p["member"]["pointsBalance"] == 101 for p in payloads)


async def test_sixty_simultaneous_redemptions_by_one_member_on_a_pool_of_three(api, database, program):
    token, member = await api.login("pool-rich", now=MON)
    await api.integration("RecordOrder", order(member, 1, 200_000), now=MON)  # gold: 2000 + 300 upgrade gift
    before = (await api.data("MemberHome", token=token, now=MON))["me"]["pointsBalance"]
    free_shipping = await reward_id(api, "免运费券")  # 200 points
    async with api_on(database, program, SMALL_POOL) as small:
        answers = await asyncio.gather(*(small.post(REDEEM, {"reward": free_shipping, "key": f"r{n}"}, token=token,
                                                    now=MON) for n in range(60)))
    assert [a.status_code for a in answers] == [200] * 60
    payloads = [a.json()["data"]["redeemReward"] for a in answers]
    granted = [p for p in payloads if p["redemption"] is not None]
    refused = [p for p in payloads if p["redemption"] is None]
    assert len(granted) == before // 200
    assert all(p["userErrors"][0]["code"] == "INSUFFICIENT_POINTS" for p in refused)
    after = (await api.data("MemberHome", token=token, now=MON))["me"]["pointsBalance"]
    assert after == before - 200 * len(granted)
    # each answer shows the balance as it was read after its own write: the others may have landed too
    assert all(p["redemption"]["pointsSpent"] == 200 and after <= p["member"]["pointsBalance"] <= before - 200
               for p in granted)


async def test_writes_and_reads_mixed_on_a_pool_of_three(api, database, program):
    members = [(await api.login(f"mixed-{n}", now=MON))[0] for n in range(30)]
    async with api_on(database, program, SMALL_POOL) as small:
        calls = []
        for n, token in enumerate(members):
            calls.append(small.post(CHECK_IN, {"key": f"mixed-{n}"}, token=token, now=MON))
            calls.append(small.post(HOME, token=token, now=MON))
            calls.append(small.post("{ tiers { code } rewards(first: 5) { edges { node { id } } } }"))
        answers = await asyncio.gather(*calls)
    assert [a.status_code for a in answers] == [200] * 90
    assert all("errors" not in a.json() for a in answers)
    for n, token in enumerate(members):
        home = (await api.execute(HOME, token=token, now=MON))["data"]["me"]
        assert home == {"pointsBalance": 101, "checkInStatus": {"checkedInToday": True}}


async def test_postgresql_sessions_carry_the_time_limits(database, program):
    if database.is_sqlite:
        pytest.skip("SQLite has no statement or lock timeouts; its writes wait at most its busy timeout")
    small = Database(database.url, SMALL_POOL)
    try:
        async with small.read_engine.connect() as conn:
            shown = [(await conn.execute(text(f"SHOW {name}"))).scalar_one()
                     for name in ("statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout")]
    finally:
        await small.dispose()
    assert shown == ["5s", "5s", "10s"]


@asynccontextmanager
async def member_row_locked(database, member_pk: int):
    """Another transaction holds the member's row (PostgreSQL) or the write lock (SQLite) until the block ends."""
    async with database.write_engine.connect() as conn:
        await conn.begin()
        if not database.is_sqlite:
            await conn.execute(text("SELECT id FROM members WHERE id = :id FOR UPDATE"), {"id": member_pk})
        else:
            await conn.execute(text("UPDATE members SET nickname = nickname WHERE id = :id"), {"id": member_pk})
        yield
        await conn.rollback()


async def test_a_write_cut_off_by_the_time_limit_is_answered_504_and_its_retry_replays_it(api, database, program):
    token, member = await api.login("slow-write", now=MON)
    member_pk = int(base64.b64decode(member).decode().split(":")[1])
    async with api_on(database, program, SMALL_POOL, LOYALTY_REQUEST_TIMEOUT="1") as hurried:
        async with member_row_locked(database, member_pk):
            cut_off = await hurried.post(CHECK_IN, {"key": "slow"}, token=token, now=MON,
                                         headers={"X-Request-ID": "slow-write-1"})
        assert cut_off.status_code == 504
        error = cut_off.json()["errors"][0]
        assert error["extensions"] == {"code": "TIMEOUT", "requestId": "slow-write-1"}
        assert "same idempotency key" in error["message"] and cut_off.headers["retry-after"] == "1"
        for _ in range(50):  # the write goes on by itself once the lock is free, and commits
            home = (await hurried.execute(HOME, token=token, now=MON))["data"]["me"]
            if home == {"pointsBalance": 101, "checkInStatus": {"checkedInToday": True}}:
                break
            await asyncio.sleep(0.1)
        assert home == {"pointsBalance": 101, "checkInStatus": {"checkedInToday": True}}
        replay = (await hurried.post(CHECK_IN, {"key": "slow"}, token=token, now=MON)).json()
    assert replay["data"]["checkIn"]["checkIn"] == {"pointsAwarded": 1, "streakDays": 1}
    assert replay["data"]["checkIn"]["member"]["pointsBalance"] == 101
    again = (await api.post(CHECK_IN, {"key": "another"}, token=token, now=MON)).json()
    assert [e["code"] for e in again["data"]["checkIn"]["userErrors"]] == ["ALREADY_CHECKED_IN"]


async def test_a_read_cut_off_mid_statement_leaves_the_pool_healthy(api, database, program):
    """A request whose read outlasts the time limit is answered 504; the connection it was using is not
    handed to the next request half-way through a statement."""
    if database.is_sqlite:
        pytest.skip("the slow statement is PostgreSQL's pg_sleep")
    token, _ = await api.login("slow-read", now=MON)
    one = DatabaseSettings(pool_size=1, max_overflow=0, pool_timeout_seconds=30, statement_timeout_ms=5000)
    async with api_on(database, program, one, LOYALTY_REQUEST_TIMEOUT="1") as hurried:
        reader = Reader(hurried.http._transport.app.state.services.database)
        slow = asyncio.ensure_future(reader.execute(text("SELECT pg_sleep(3)")))
        await asyncio.sleep(0.2)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        await reader.close()
        answers = [await hurried.post(HOME, token=token, now=MON) for _ in range(3)]  # on the one connection
    assert [a.status_code for a in answers] == [200] * 3 and all("errors" not in a.json() for a in answers)


async def test_a_dropped_connection_is_replaced_not_answered_with_an_error(database, program):
    """No pre-ping (a round trip per request): a pooled connection that died meanwhile (a restart, a
    proxy's idle cut) fails its first read, which runs again on a new connection, for every read path
    (straight on asyncpg, and through SQLAlchemy)."""
    if database.is_sqlite:
        pytest.skip("SQLite's connections are files")
    async with api_on(database, program, DatabaseSettings(pool_size=2, max_overflow=0, pre_ping=False)) as api:
        token, _ = await api.login("dropped", now=MON)
        assert (await api.execute(HOME, token=token, now=MON))["data"]["me"]["pointsBalance"] == 100
        for _ in range(2):
            admin = Database(database.url)
            async with admin.read_engine.connect() as conn:  # every connection of the API's pool, gone
                await conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            await admin.dispose()
            answer = await api.execute(HOME, token=token, now=MON)
            assert answer["data"]["me"] == {"pointsBalance": 100, "checkInStatus": {"checkedInToday": False}}
            answer = await api.execute("{ tiers { code } }", now=MON)  # through SQLAlchemy after a restart too
            assert answer["data"]["tiers"][0]["code"] == "regular"
    await database.dispose()  # the test's own pooled connections went too: the next test gets new ones
