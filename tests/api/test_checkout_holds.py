"""Checkout holds: points and a coupon reserved for an order awaiting payment, captured by recordOrder of
that order, given back by releaseHold or by the job once expired; a recordOrder after expiry spends again
only what is still there. Through the API, on both databases; the racing tests run every interleaving the
database allows and assert what the service promises: each point spent once or given back, never both."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from domain.jobs.holds import expire_holds
from persistence.tables import point_entries, points_lots
from persistence.unit_of_work import SqlUnitOfWork
from tests.api.member_views import MON
from tests.conftest import BOTH_PROGRAMS, add_api_key

HOME = "{ me { pointsBalance pointsHeld pointsExpiringSoon { points expiresAt } } }"
COUPONS = "{ me { coupons(first: 10) { edges { node { id status title minSpend } } } } }"
START = datetime.fromisoformat(MON)


def later(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


async def member_with_points(api, code: str, amount: int = 100_000) -> tuple[str, str]:
    """A member with the sign-up gift and the points of one order (¥1,000 by default)."""
    token, member = await api.login(code, now=MON)
    await order(api, member, f"{code}-earn", amount, now=MON)
    return token, member


async def order(api, member: str, external_id: str, amount: int, now: str = MON) -> dict:
    result = await api.op("RecordOrder", {"input": {"memberId": member, "externalId": external_id, "amount": amount,
                                                    "channel": "APP", "paidAt": now}}, api_key=api.api_key, now=now)
    assert "errors" not in result, result
    return result["data"]["recordOrder"]


async def hold(api, member: str, external_order_id: str, points: int | None = None, coupon: str | None = None,
               order_amount: int = 50_000, now: str = MON, api_key: str | None = None) -> dict:
    result = await api.op("HoldForCheckout", {"input": {
        "memberId": member, "externalOrderId": external_order_id, "orderAmount": order_amount,
        **({"points": points} if points is not None else {}), **({"couponId": coupon} if coupon else {})}},
        api_key=api_key or api.api_key, now=now)
    assert "errors" not in result, result
    return result["data"]["holdForCheckout"]


async def release(api, external_order_id: str, now: str = MON) -> dict:
    result = await api.op("ReleaseHold", {"externalOrderId": external_order_id}, api_key=api.api_key, now=now)
    assert "errors" not in result, result
    return result["data"]["releaseHold"]


async def home(api, token: str, now: str = MON) -> dict:
    result = await api.execute(HOME, token=token, now=now)
    assert "errors" not in result, result
    return result["data"]["me"]


def codes(payload: dict) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def offsets_of(database, description_part: str) -> int:
    async with database.read_engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(point_entries).where(
            point_entries.c.kind == "ORDER_OFFSET", point_entries.c.description.contains(description_part)))).scalar()


@BOTH_PROGRAMS
async def test_held_points_leave_the_spendable_balance_and_the_order_captures_them(api, database, program):
    token, member = await member_with_points(api, "holder")
    before = await home(api, token)
    points = program.offset.min_points
    held = await hold(api, member, "co-1", points=points)
    assert held["userErrors"] == [] and held["hold"]["status"] == "HELD" and held["hold"]["points"] == points
    assert held["hold"]["amountOff"] == points * 100 // program.offset.points_per_yuan
    assert held["hold"]["expiresAt"].startswith(later(program.checkout.hold_minutes)[:16])
    assert held["member"] == {"id": member, "pointsBalance": before["pointsBalance"] - points, "pointsHeld": points}
    assert held == await hold(api, member, "co-1", points=points)             # a retry replays
    reused = await hold(api, member, "co-1", points=points * 2)
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    recorded = await order(api, member, "co-1", 50_000, now=later(10))
    assert recorded["userErrors"] == []
    after = await home(api, token, now=later(10))
    assert after["pointsHeld"] == 0
    assert after["pointsBalance"] == before["pointsBalance"] - points + recorded["order"]["pointsEarned"]
    assert await offsets_of(database, "co-1") == 1
    assert codes(await release(api, "co-1", now=later(11))) == ["INVALID_INPUT"]   # the order's now
    again = await order(api, member, "co-1", 50_000, now=later(10))                  # recordOrder's retry
    assert again["userErrors"] == [] and await offsets_of(database, "co-1") == 1


async def test_held_points_cannot_be_spent_elsewhere_and_a_release_puts_them_back_in_their_lots(api, database):
    token, member = await member_with_points(api, "spender", amount=20_000)   # 100 + 200 points
    before = await home(api, token)
    await hold(api, member, "co-2", points=200)
    redeemed = await api.op("RedeemPointsForOrder", {"input": {"memberId": member, "externalOrderId": "other",
                                                               "points": 200, "orderAmount": 50_000}},
                            api_key=api.api_key, now=MON)
    assert codes(redeemed["data"]["redeemPointsForOrder"]) == ["INSUFFICIENT_POINTS"]
    released = await release(api, "co-2")
    assert released["hold"]["status"] == "RELEASED" and released["member"]["pointsHeld"] == 0
    assert await home(api, token) == before          # the same balance, the same lots and expiry
    assert (await release(api, "co-2")) == released   # releasing again answers the same
    assert codes(await release(api, "never-held")) == ["NOT_FOUND"]
    async with database.read_engine.connect() as conn:   # a hold writes no ledger entry until it is captured
        kinds = (await conn.execute(select(point_entries.c.kind))).scalars().all()
    assert sorted(kinds) == ["ORDER", "SIGNUP"]


async def test_a_held_coupon_cannot_be_used_or_held_again_and_the_order_uses_it(api, database):
    token, member = await member_with_points(api, "couponer")
    coupon = (await api.execute(COUPONS, token=token, now=MON))["data"]["me"]["coupons"]["edges"][0]["node"]
    held = await hold(api, member, "co-3", coupon=coupon["id"])
    assert held["userErrors"] == [] and held["hold"]["coupon"] == {"id": coupon["id"]}
    assert codes(await hold(api, member, "co-4", coupon=coupon["id"])) == ["COUPON_ALREADY_USED"]
    used = await api.op("UseCoupon", {"input": {"memberId": member, "couponId": coupon["id"],
                                                "externalOrderId": "co-5", "orderAmount": 50_000}},
                        api_key=api.api_key, now=MON)
    assert codes(used["data"]["useCoupon"]) == ["COUPON_ALREADY_USED"]
    assert (await order(api, member, "co-3", 50_000, now=later(5)))["userErrors"] == []
    after = (await api.execute(COUPONS, token=token, now=later(5)))["data"]["me"]["coupons"]["edges"]
    assert next(edge["node"]["status"] for edge in after if edge["node"]["id"] == coupon["id"]) == "USED"


async def test_refusals_change_nothing(api, database, program):
    token, member = await member_with_points(api, "refused", amount=10_000)
    other_token, other = await api.login("someone-else", now=MON)
    others_coupon = (await api.execute(COUPONS, token=other_token, now=MON))["data"]["me"]["coupons"]["edges"][0]
    before = await home(api, token)
    cases = [
        ({}, "INVALID_INPUT"),                                          # neither points nor a coupon
        ({"points": 150}, "INVALID_INPUT"),                             # not a whole step
        ({"points": 100, "order_amount": 100}, "INVALID_INPUT"),        # over the order's share
        ({"points": 0}, "INVALID_INPUT"),
        ({"points": -100}, "INVALID_INPUT"),
        ({"points": 1000, "order_amount": 1_000_000}, "INSUFFICIENT_POINTS"),
        ({"coupon": others_coupon["node"]["id"]}, "NOT_FOUND"),
        ({"coupon": member}, "NOT_FOUND"),                                # an ID of another type
        ({"points": 100, "order_amount": 0}, "INVALID_INPUT"),
    ]
    for n, (given, code) in enumerate(cases):
        found = await hold(api, member, f"bad-{n}", points=given.get("points"), coupon=given.get("coupon"),
                           order_amount=given.get("order_amount", 50_000))
        assert codes(found) == [code], (given, found)
        assert found["hold"] is None
    assert codes(await hold(api, "TWVtYmVyOjk5OTk5", "bad-member", points=100)) == ["NOT_FOUND"]
    assert await home(api, token) == before


async def test_keys_need_the_scope_of_what_they_hold(api, database):
    _, member = await member_with_points(api, "scoped")
    orders_only = await add_api_key(database, "orders-only", ["orders:write"])
    points_only = await add_api_key(database, "points-only", ["points:write"])
    refused = await api.op("HoldForCheckout", {"input": {"memberId": member, "externalOrderId": "s-1",
                                                         "orderAmount": 50_000, "points": 100}}, api_key=orders_only)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    coupon = await api.op("HoldForCheckout", {"input": {"memberId": member, "externalOrderId": "s-2",
                                                        "orderAmount": 50_000, "couponId": "Q291cG9uOjE="}},
                          api_key=points_only)
    assert coupon["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    allowed = await hold(api, member, "s-3", points=100, api_key=points_only)
    assert allowed["userErrors"] == [] and allowed["member"] is None   # points:write does not read members


async def test_an_expired_hold_goes_back_and_a_late_order_spends_again_only_what_is_there(api, database, program):
    token, member = await member_with_points(api, "late")
    before = await home(api, token)
    minutes = program.checkout.hold_minutes

    def job(at: str):
        return expire_holds(lambda: SqlUnitOfWork(database), program, datetime.fromisoformat(at))

    await hold(api, member, "late-1", points=200)
    assert (await job(later(minutes - 1))).processed == 0 and (await home(api, token))["pointsHeld"] == 200
    assert (await job(later(minutes))).processed == 1
    assert await home(api, token) == before
    assert (await job(later(minutes))).processed == 0
    # The points are still there: the late order spends them again and says nothing is missing.
    recorded = await order(api, member, "late-1", 50_000, now=later(minutes + 5))
    assert recorded["userErrors"] == [] and await offsets_of(database, "late-1") == 1

    # Expired, and the job has not run yet: the order gives the hold back and spends the points again.
    await hold(api, member, "late-2", points=100, now=later(100))
    recorded = await order(api, member, "late-2", 50_000, now=later(100 + minutes + 1))
    assert recorded["userErrors"] == [] and await offsets_of(database, "late-2") == 1
    assert (await home(api, token, now=later(100 + minutes + 1)))["pointsHeld"] == 0

    # Expired, and its points spent elsewhere meanwhile: the order is recorded, and what failed is said.
    at = 200
    balance = (await home(api, token, now=later(at)))["pointsBalance"]
    await hold(api, member, "late-3", points=100, now=later(at))
    await job(later(at + minutes))
    drained = await api.op("RedeemPointsForOrder", {"input": {
        "memberId": member, "externalOrderId": "drain", "points": balance - balance % 100,
        "orderAmount": 100_000_000}}, api_key=api.api_key, now=later(at + minutes + 1))
    assert drained["data"]["redeemPointsForOrder"]["userErrors"] == []
    missing = await order(api, member, "late-3", 60_000, now=later(at + minutes + 2))
    assert missing["order"]["externalId"] == "late-3" and codes(missing) == ["INSUFFICIENT_POINTS"]
    assert await offsets_of(database, "late-3") == 0
    assert codes(await order(api, member, "late-3", 60_000, now=later(at + minutes + 2))) == ["INSUFFICIENT_POINTS"]


async def test_racing_hold_release_expiry_capture_and_retries_spend_each_point_once(api, database, program):
    """Every step of one checkout, sent at once and in many rounds: whatever wins, the hold ends captured
    (one ORDER_OFFSET entry, the points gone once) or given back (the balance as before), and the books
    agree (`loyalty verify`, by the fixture)."""
    token, member = await member_with_points(api, "racer", amount=500_000)
    minutes = program.checkout.hold_minutes
    for round_ in range(6):
        external = f"race-{round_}"
        start = (await home(api, token, now=later(round_ * 100)))
        at = later(round_ * 100)
        await hold(api, member, external, points=100, now=at)
        expiry_time = datetime.fromisoformat(later(round_ * 100 + (minutes if round_ % 2 else 1)))
        steps = [
            order(api, member, external, 50_000, now=at),
            order(api, member, external, 50_000, now=at),
            release(api, external, now=at),
            hold(api, member, external, points=100, now=at),
            expire_holds(lambda: SqlUnitOfWork(database), program, expiry_time),
        ]
        await asyncio.gather(*steps)
        after = await home(api, token, now=later(round_ * 100 + 2 * minutes))
        captured = await offsets_of(database, external)
        assert captured in (0, 1) and after["pointsHeld"] == 0
        earned = (await order(api, member, external, 50_000, now=at))["order"]["pointsEarned"]
        assert after["pointsBalance"] == start["pointsBalance"] + earned - 100 * captured


async def test_a_captured_holds_points_given_back_by_a_refund_keep_the_year_they_were_earned(api, database):
    """The annual clearing counts returned points in the year their lots were earned: a hold's offset
    remembers its lots as redeemPointsForOrder's does."""
    earned_at = "2025-12-30T10:00:00+08:00"
    token, member = await api.login("year-end", now=earned_at)
    await order(api, member, "year-end-earn", 100_000, now=earned_at)
    await hold(api, member, "year-end-buy", points=500, order_amount=100_000, now="2026-01-02T10:00:00+08:00")
    await order(api, member, "year-end-buy", 100_000, now="2026-01-02T10:05:00+08:00")
    refunded = await api.op("RefundOrder", {"input": {"externalId": "year-end-buy", "externalRefundId": "ye-r",
                                                      "amount": 100_000}}, api_key=api.api_key,
                            now="2026-01-03T10:00:00+08:00")
    assert refunded["data"]["refundOrder"]["userErrors"] == []
    async with database.read_engine.connect() as conn:
        rows = (await conn.execute(select(points_lots.c.earned_at, point_entries.c.kind, point_entries.c.delta)
                                   .join(point_entries, point_entries.c.id == points_lots.c.entry_id)
                                   .where(point_entries.c.kind == "REFUND"))).all()
    returned = [row for row in rows if row.delta > 0]
    assert sum(row.delta for row in returned) == 500
    assert all(row.earned_at.astimezone(timezone(timedelta(hours=8))).year == 2025 for row in returned)
