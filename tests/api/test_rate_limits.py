"""Rate limits, attacked: sign-in per client address and per code, phone binding, staff sign-in per
username, mutations per member; answered with RATE_LIMITED and a retry time, changing nothing; shared
between instances through Redis; X-Forwarded-For believed only from trusted proxies."""
import asyncio
import os
import secrets

import pytest
from redis.asyncio import Redis

from api.core.rate_limits import MemoryLimiter
from server.settings import Settings
from tests.conftest import TEST_ENV

NOW = "2026-03-02T12:00:00+08:00"
REDIS_URL = os.environ.get("LOYALTY_TEST_REDIS", "redis://127.0.0.1:6379/15")
BEHIND_PROXY = {"LOYALTY_TRUSTED_PROXIES": "127.0.0.1/32"}


def address() -> str:
    return f"198.51.{secrets.randbelow(256)}.{secrets.randbelow(256)}"


async def sign_in(client, code: str, ip: str | None = None) -> dict:
    headers = {"X-Forwarded-For": ip} if ip else {}
    result = await client.execute(
        'mutation($c: String!) { loginWithWeChat(input: {code: $c}) { accessToken userErrors { code retryAfter } } }',
        {"c": code}, headers=headers, now=NOW)
    return result["data"]["loginWithWeChat"]


def limited(payload: dict) -> bool:
    errors = payload["userErrors"]
    return [e["code"] for e in errors] == ["RATE_LIMITED"] and errors[0]["retryAfter"] >= 1


def test_limits_are_off_under_test_unless_set_and_on_elsewhere():
    assert Settings.from_env(TEST_ENV).rate_limits == {}
    assert Settings.from_env({**TEST_ENV, "LOYALTY_RATE_LIMITS": "login_ip=3/60"}).rate_limits["login_ip"] == (3, 60)
    assert Settings.from_env({"LOYALTY_ENV": "development"}).rate_limits["member_mutations"] == (60, 60)


def test_the_algorithm_lets_a_burst_through_then_one_per_interval():
    clock = [1000.0]
    limiter = MemoryLimiter(clock=lambda: clock[0])

    async def hits(n):
        return [await limiter.hit("k", 3, 60) for _ in range(n)]

    first = asyncio.run(hits(4))
    assert first[:3] == [0.0, 0.0, 0.0] and first[3] == pytest.approx(20.0)  # 3 per 60 s: then one per 20 s
    clock[0] += 20
    assert asyncio.run(hits(2)) == [0.0, pytest.approx(20.0)]


async def test_sign_in_per_client_address(api_with):
    async with api_with(LOYALTY_RATE_LIMITS="login_ip=3/60", **BEHIND_PROXY) as client:
        ip = address()
        answers = [await sign_in(client, f"ip-{n}", ip) for n in range(4)]
        assert [a["accessToken"] is not None for a in answers] == [True, True, True, False]
        assert limited(answers[3])
        assert (await sign_in(client, "ip-other", address()))["accessToken"]  # another address is unaffected


async def test_forwarded_for_is_ignored_unless_from_a_trusted_proxy(api_with):
    async with api_with(LOYALTY_RATE_LIMITS="login_ip=3/60") as client:  # no trusted proxies
        answers = [await sign_in(client, f"spoof-{n}", address()) for n in range(4)]
        assert limited(answers[3])  # four forged addresses, one real one: the fourth is refused


async def test_sign_in_per_code_and_retry_after_is_honest(api_with):
    async with api_with(LOYALTY_RATE_LIMITS="login_code=1/1", **BEHIND_PROXY) as client:
        assert (await sign_in(client, "same-code", address()))["accessToken"]
        again = await sign_in(client, "same-code", address())
        assert limited(again) and again["userErrors"][0]["retryAfter"] == 1
        await asyncio.sleep(1.05)
        assert (await sign_in(client, "same-code", address()))["accessToken"]


async def test_mutations_per_member_change_nothing_once_limited(api_with):
    async with api_with(LOYALTY_RATE_LIMITS="member_mutations=2/60") as client:
        token, _ = await client.login("busy", now=NOW)
        profile = 'mutation($n: String!) { updateProfile(input: {nickname: $n}) { userErrors { code retryAfter } } }'
        answers = [(await client.execute(profile, {"n": f"name-{n}"}, token=token, now=NOW))["data"]["updateProfile"]
                   for n in range(3)]
        assert [a["userErrors"] for a in answers[:2]] == [[], []] and limited(answers[2])
        me = await client.execute("{ me { nickname } }", token=token, now=NOW)
        assert me["data"]["me"]["nickname"] == "name-1"  # the refused third changed nothing


async def test_phone_binding_per_code_and_member(api_with):
    async with api_with(LOYALTY_RATE_LIMITS="phone_code=1/300,phone_member=2/3600") as client:
        token, _ = await client.login("phone-limits", now=NOW)
        bind = 'mutation($c: String!) { bindPhoneNumber(input: {code: $c}) { userErrors { code retryAfter } } }'

        async def attempt(code):
            return (await client.execute(bind, {"c": code}, token=token, now=NOW))["data"]["bindPhoneNumber"]

        assert (await attempt("13800138001"))["userErrors"] == []
        assert limited(await attempt("13800138001"))        # the same code again
        assert (await attempt("13800138002"))["userErrors"] == []
        assert limited(await attempt("13800138003"))        # a third binding within the hour


async def test_limits_are_shared_between_instances_through_redis(api_with):
    redis = Redis.from_url(REDIS_URL)
    try:
        await redis.ping()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is required in CI and is unreachable: {exc}")
        pytest.skip(f"Redis unreachable: {exc}")
    finally:
        await redis.aclose()
    shared = {"LOYALTY_RATE_LIMITS": "login_ip=3/60", "REDIS_URL": REDIS_URL, **BEHIND_PROXY}
    ip = address()
    async with api_with(**shared) as one, api_with(**shared) as two:
        assert (await sign_in(one, "redis-1", ip))["accessToken"]
        assert (await sign_in(two, "redis-2", ip))["accessToken"]
        assert (await sign_in(one, "redis-3", ip))["accessToken"]
        assert limited(await sign_in(two, "redis-4", ip))
