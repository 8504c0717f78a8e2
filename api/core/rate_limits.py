"""Rate limits: the generic cell rate algorithm (GCRA), in memory or in Redis.

A limit of N requests per P seconds lets a burst of N through and then one every P/N seconds. Each
(limit, key) keeps one number, its theoretical arrival time; a request is let through when that
time is less than P ahead of now. In memory by default (one instance); with REDIS_URL the same
algorithm runs as one atomic Lua script on Redis's clock, so every instance shares the limits.
Keys are hashed: no client address, code or username is kept in clear.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger("loyalty.rate_limits")
EPSILON = 1e-6  # seconds: float arithmetic must not refuse the last request of a burst


@dataclass(frozen=True)
class RateLimited(Exception):
    name: str
    retry_after: int  # whole seconds, at least 1


class Limiter(Protocol):
    async def hit(self, bucket: str, requests: int, period: int) -> float:
        """Count a request; 0 when it may go ahead, else the seconds until one would."""


class MemoryLimiter:
    MAX_BUCKETS = 100_000

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.arrivals: dict[str, float] = {}

    async def hit(self, bucket: str, requests: int, period: int) -> float:
        now, interval = self.clock(), period / requests
        arrival = max(self.arrivals.get(bucket, now), now)
        wait = arrival - now - (period - interval)
        if wait > EPSILON:
            return wait
        if len(self.arrivals) >= self.MAX_BUCKETS:  # forget buckets that are back to full
            self.arrivals = {k: v for k, v in self.arrivals.items() if v > now}
        self.arrivals[bucket] = arrival + interval
        return 0.0


GCRA_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local interval = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local arrival = tonumber(redis.call('GET', KEYS[1]) or now)
if arrival < now then arrival = now end
local wait = arrival - now - (period - interval)
if wait > 0.000001 then
  return tostring(wait)
end
redis.call('SET', KEYS[1], tostring(arrival + interval), 'PX', math.ceil((arrival + interval - now) * 1000))
return '0'
"""


class RedisLimiter:
    def __init__(self, url: str):
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
        self.script = self.redis.register_script(GCRA_SCRIPT)

    async def hit(self, bucket: str, requests: int, period: int) -> float:
        try:
            return float(await self.script(keys=[f"loyalty:rl:{bucket}"], args=[period / requests, period]))
        except Exception:  # noqa: BLE001 - Redis away: serve rather than lock everybody out, and say so
            log.error("rate limits: Redis unreachable; letting the request through", exc_info=True)
            return 0.0

    async def close(self) -> None:
        await self.redis.aclose()


class RateLimits:
    """The configured limits (`Settings.rate_limits`) over one limiter."""

    def __init__(self, limits: dict[str, tuple[int, int]], limiter: Limiter):
        self.limits, self.limiter = limits, limiter

    async def check(self, name: str, key: str | int | None) -> None:
        """Count a request under limit `name` for `key`; RateLimited when it must wait."""
        if name not in self.limits or key is None or key == "":
            return
        requests, period = self.limits[name]
        bucket = name + ":" + hashlib.sha256(str(key).encode()).hexdigest()[:32]
        wait = await self.limiter.hit(bucket, requests, period)
        if wait > 0:
            raise RateLimited(name, max(1, math.ceil(wait)))

    async def close(self) -> None:
        close = getattr(self.limiter, "close", None)
        if close is not None:
            await close()


def rate_limits_from(limits: dict[str, tuple[int, int]], redis_url: str | None) -> RateLimits:
    return RateLimits(limits, RedisLimiter(redis_url) if redis_url and limits else MemoryLimiter())
