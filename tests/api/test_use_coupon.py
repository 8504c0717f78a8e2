"""Coupons on orders (integration UseCoupon) and the member's lists (MyCoupons, PointHistory).

Sign-up gives one 新人礼券 满30减5 (AMOUNT_OFF, minSpend 3000, 500 off) valid until 23:59:59 local of
the issue date + 30 days. Redeemed coupons: 5元无门槛券 (minSpend 0, 500 off), 免运费券 (FREE_SHIPPING),
9折券 (PERCENT_OFF 10, minSpend 10000, silver+). Discounts: AMOUNT_OFF min(face, orderAmount),
PERCENT_OFF floor(orderAmount × pct / 100), FREE_SHIPPING 0.
"""
import base64
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
SIGNUP_AT = "2026-03-01T10:00:00+08:00"  # a Sunday
USE_AT = "2026-03-05T10:00:00+08:00"


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


def global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


async def coupon_page(api, token, now, status=None, first=100, after=None) -> dict:
    variables = {"first": first, "after": after}
    if status:
        variables["status"] = status
    return (await api.data("MyCoupons", variables, token=token, now=now))["me"]["coupons"]


async def coupons(api, token, now, status=None) -> list[dict]:
    return [edge["node"] for edge in (await coupon_page(api, token, now, status))["edges"]]


async def use(api, member_id, coupon_id, order_id, amount, now=USE_AT) -> dict:
    return (await api.integration("UseCoupon", {"input": {
        "memberId": member_id, "couponId": coupon_id, "externalOrderId": order_id, "orderAmount": amount}},
        now=now))["useCoupon"]


async def order(api, member_id, external_id, yuan, paid_at) -> None:
    payload = (await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": external_id, "amount": yuan * 100, "channel": "APP",
        "paidAt": paid_at}}, now=paid_at))["recordOrder"]
    assert payload["userErrors"] == []


async def newcomer(api, code, now=SIGNUP_AT) -> tuple[str, str, dict]:
    """(token, member id, the sign-up coupon)."""
    token, member_id = await api.login(code, now=now)
    [coupon] = await coupons(api, token, now)
    assert coupon["source"] == "SIGNUP_GIFT"
    return token, member_id, coupon


async def redeemed_coupon(api, token, reward_name, now) -> dict:
    rewards = (await api.data("RewardCatalog", {"first": 100}, now=now))["rewards"]["edges"]
    reward_id = next(e["node"]["id"] for e in rewards if e["node"]["name"] == reward_name)
    payload = (await api.data("RedeemReward", {"rewardId": reward_id, "idempotencyKey": reward_name},
                              token=token, now=now))["redeemReward"]
    assert payload["userErrors"] == []
    coupon_id = payload["redemption"]["coupon"]["id"]
    return next(c for c in await coupons(api, token, now) if c["id"] == coupon_id)


async def test_sign_up_coupon_validity_counts_from_the_local_date(api):
    # 2026-02-28T16:30Z is 2026-03-01T00:30 local: issued on local March 1 → valid until the end of March 31
    _, _, coupon = await newcomer(api, "local-signup", now="2026-02-28T16:30:00Z")
    assert instant(coupon["validUntil"]) == datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST)


async def test_sign_up_coupon_is_used_for_its_face_value(api):
    token, member_id, coupon = await newcomer(api, "amount-off")
    assert (coupon["kind"], coupon["minSpend"], coupon["discountAmount"], coupon["status"]) == (
        "AMOUNT_OFF", 3000, 500, "AVAILABLE")
    # issued on local 2026-03-01: valid until the end of 2026-03-31 local
    assert instant(coupon["validUntil"]) == datetime(2026, 3, 31, 23, 59, 59, tzinfo=CST)
    payload = await use(api, member_id, coupon["id"], "order-1", 3000)  # exactly minSpend
    assert payload["userErrors"] == []
    assert payload["coupon"] == {"id": coupon["id"], "status": "USED", "discountAmount": 500}
    [used] = await coupons(api, token, USE_AT, "USED")
    assert used["id"] == coupon["id"] and used["discountAmount"] == 500
    assert await coupons(api, token, USE_AT, "AVAILABLE") == []


async def test_min_spend_not_met_changes_nothing(api):
    token, member_id, coupon = await newcomer(api, "min-spend")
    payload = await use(api, member_id, coupon["id"], "small-order", 2999)  # 1 fen under 3000
    assert codes(payload) == ["MIN_SPEND_NOT_MET"]
    assert payload["coupon"] is None
    assert await coupons(api, token, USE_AT) == [coupon]
    # the refusal did not consume the key: the same order at a sufficient amount works
    assert (await use(api, member_id, coupon["id"], "small-order", 3000))["coupon"]["status"] == "USED"


async def test_amount_off_never_exceeds_the_order(api):
    # 100 sign-up + 400 (¥400 on Monday 2026-03-02, regular ×1.0) = 500 → 5元无门槛券
    token, member_id, _ = await newcomer(api, "no-threshold")
    await order(api, member_id, "earn", 400, "2026-03-02T10:00:00+08:00")
    coupon = await redeemed_coupon(api, token, "5元无门槛券", "2026-03-02T11:00:00+08:00")
    assert (coupon["kind"], coupon["minSpend"], coupon["discountAmount"]) == ("AMOUNT_OFF", 0, 500)
    payload = await use(api, member_id, coupon["id"], "tiny", 300)
    assert payload["coupon"]["discountAmount"] == 300  # min(500, 300)


async def test_percent_off_takes_the_floor_of_the_percentage(api):
    # ¥1500 on Monday: 1500 points (regular ×1.0) + 100 sign-up + 100 silver gift; 1500 growth → silver
    token, member_id, _ = await newcomer(api, "percent")
    await order(api, member_id, "earn", 1500, "2026-03-02T10:00:00+08:00")
    coupon = await redeemed_coupon(api, token, "9折券", "2026-03-02T11:00:00+08:00")
    assert (coupon["kind"], coupon["minSpend"], coupon["discountPercent"], coupon["source"]) == (
        "PERCENT_OFF", 10000, 10, "REDEMPTION")
    assert coupon["discountAmount"] is None  # not known until used
    assert codes(await use(api, member_id, coupon["id"], "too-small", 9999)) == ["MIN_SPEND_NOT_MET"]
    payload = await use(api, member_id, coupon["id"], "big", 12345)
    assert payload["userErrors"] == []
    assert payload["coupon"]["discountAmount"] == 1234  # floor(12345 × 10 / 100) = floor(1234.5)
    [used] = await coupons(api, token, USE_AT, "USED")
    assert (used["id"], used["discountAmount"], used["discountPercent"]) == (coupon["id"], 1234, 10)


async def test_free_shipping_takes_nothing_off_the_goods(api):
    # 100 sign-up + 100 (¥100 order) = 200 → 免运费券
    token, member_id, _ = await newcomer(api, "free-shipping")
    await order(api, member_id, "earn", 100, "2026-03-02T10:00:00+08:00")
    coupon = await redeemed_coupon(api, token, "免运费券", "2026-03-02T11:00:00+08:00")
    assert (coupon["kind"], coupon["minSpend"], coupon["discountAmount"]) == ("FREE_SHIPPING", 0, 0)
    payload = await use(api, member_id, coupon["id"], "ship-free", 1500)
    assert payload["userErrors"] == []
    assert payload["coupon"]["status"] == "USED"
    assert payload["coupon"]["discountAmount"] == 0


async def test_replay_reuse_and_already_used(api):
    token, member_id, coupon = await newcomer(api, "replay")
    first = await use(api, member_id, coupon["id"], "order-A", 4000)
    assert first["userErrors"] == []
    after = await coupons(api, token, USE_AT)
    # same coupon + same order + same amount: the same answer, later too (even after validUntil)
    assert await use(api, member_id, coupon["id"], "order-A", 4000, now="2026-03-06T10:00:00+08:00") == first
    assert await use(api, member_id, coupon["id"], "order-A", 4000, now="2026-05-01T10:00:00+08:00") == first
    # same coupon + same order, different amount
    reused = await use(api, member_id, coupon["id"], "order-A", 4500)
    assert codes(reused) == ["IDEMPOTENCY_KEY_REUSED"]
    assert reused["coupon"] is None
    # another order
    again = await use(api, member_id, coupon["id"], "order-B", 4000)
    assert codes(again) == ["COUPON_ALREADY_USED"]
    assert again["coupon"] is None
    assert await coupons(api, token, USE_AT) == after


async def test_not_found_and_invalid_ids(api):
    token_a, member_a, coupon_a = await newcomer(api, "owner-a")
    token_b, member_b, coupon_b = await newcomer(api, "owner-b")
    # B's coupon presented for A
    assert codes(await use(api, member_a, coupon_b["id"], "o1", 5000)) == ["NOT_FOUND"]
    # an unknown coupon, and a well-formed ID of another type
    assert codes(await use(api, member_a, global_id("Coupon", 987654), "o2", 5000)) == ["NOT_FOUND"]
    assert codes(await use(api, member_a, member_b, "o3", 5000)) == ["NOT_FOUND"]
    # an unknown member
    assert codes(await use(api, global_id("Member", 987654), coupon_a["id"], "o4", 5000)) == ["NOT_FOUND"]
    # malformed IDs and negative amounts are bad input
    assert codes(await use(api, member_a, "%%%not-an-id", "o5", 5000)) == ["INVALID_INPUT"]
    assert codes(await use(api, member_a, coupon_a["id"], "o6", -1)) == ["INVALID_INPUT"]
    # nothing changed for either member
    assert await coupons(api, token_a, USE_AT) == [coupon_a]
    assert await coupons(api, token_b, USE_AT) == [coupon_b]
    # B can still use it
    assert (await use(api, member_b, coupon_b["id"], "o1", 5000))["coupon"]["status"] == "USED"


async def test_expired_coupon_is_refused_after_its_last_second(api):
    token, member_id, coupon = await newcomer(api, "expiring")
    # validUntil is 2026-03-31T23:59:59+08:00: the next second is past it
    payload = await use(api, member_id, coupon["id"], "late", 5000, now="2026-04-01T00:00:00+08:00")
    assert codes(payload) == ["COUPON_EXPIRED"]
    [shown] = await coupons(api, token, "2026-04-01T00:00:00+08:00")
    assert shown["status"] == "EXPIRED"
    # at the last second it is still valid (and the refusal above changed nothing)
    [shown] = await coupons(api, token, "2026-03-31T23:59:59+08:00")
    assert shown["status"] == "AVAILABLE"
    payload = await use(api, member_id, coupon["id"], "just-in-time", 5000, now="2026-03-31T23:59:59+08:00")
    assert payload["userErrors"] == []
    assert payload["coupon"]["status"] == "USED"
    # used coupons stay USED once the date passes
    [shown] = await coupons(api, token, "2026-06-01T00:00:00+08:00")
    assert shown["status"] == "USED"


async def test_status_filters_and_total_count_follow_the_clock(api):
    token, member_id, _ = await newcomer(api, "statuses")  # sign-up coupon valid until 03-31 23:59:59
    # ¥500 on Monday 03-02 → silver: 2 × 满30减5 valid until 04-01 23:59:59
    await order(api, member_id, "silver", 500, "2026-03-02T10:00:00+08:00")
    # monthly: 2 × 满50减5 valid until 03-31 23:59:59
    claimed = (await api.data("ClaimMonthlyCoupons", token=token, now="2026-03-03T10:00:00+08:00"))
    assert len(claimed["claimMonthlyCoupons"]["coupons"]) == 2
    upgrade = [c for c in await coupons(api, token, USE_AT) if c["source"] == "UPGRADE_GIFT"]
    assert len(upgrade) == 2
    assert all(instant(c["validUntil"]) == datetime(2026, 4, 1, 23, 59, 59, tzinfo=CST) for c in upgrade)
    assert (await use(api, member_id, upgrade[0]["id"], "used-one", 3000))["userErrors"] == []

    async def counts(now):
        result = {}
        for status in ("AVAILABLE", "USED", "EXPIRED", None):
            page = await coupon_page(api, token, now, status)
            nodes = [e["node"] for e in page["edges"]]
            assert page["totalCount"] == len(nodes)
            if status:
                assert {n["status"] for n in nodes} <= {status}
            result[status] = len(nodes)
        # the unfiltered list is the three filtered ones together
        assert result[None] == result["AVAILABLE"] + result["USED"] + result["EXPIRED"]
        return result

    # 5 coupons: sign-up, 2 upgrade (one used), 2 monthly
    assert await counts("2026-03-31T23:59:59+08:00") == {"AVAILABLE": 4, "USED": 1, "EXPIRED": 0, None: 5}
    # a second later the sign-up and monthly coupons are past their validUntil
    assert await counts("2026-04-01T00:00:00+08:00") == {"AVAILABLE": 1, "USED": 1, "EXPIRED": 3, None: 5}
    expired = await coupons(api, token, "2026-04-01T00:00:00+08:00", "EXPIRED")
    assert sorted(c["source"] for c in expired) == ["MONTHLY_GIFT", "MONTHLY_GIFT", "SIGNUP_GIFT"]
    assert await counts("2026-04-02T00:00:00+08:00") == {"AVAILABLE": 0, "USED": 1, "EXPIRED": 4, None: 5}
    # the unused upgrade coupon is refused once expired
    payload = await use(api, member_id, upgrade[1]["id"], "too-late", 3000, now="2026-04-02T00:00:00+08:00")
    assert codes(payload) == ["COUPON_EXPIRED"]


async def walk(api, token, operation, field, first, now, extra=None) -> tuple[list[dict], list[dict]]:
    """All edges of a member's list, page by page; returns (edges, page sizes)."""
    edges, pages, after = [], [], None
    while True:
        variables = {"first": first, "after": after, **(extra or {})}
        connection = (await api.data(operation, variables, token=token, now=now))["me"][field]
        pages.append(connection)
        edges += connection["edges"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        after = connection["pageInfo"]["endCursor"]
        assert after == connection["edges"][-1]["cursor"]
    return edges, pages


async def test_my_coupons_pages_cover_everything_once(api):
    token, member_id, _ = await newcomer(api, "many-coupons")
    # ¥5000 → diamond through silver, gold, diamond: 2 + 3 + 5 upgrade coupons; + 1 sign-up = 11
    await order(api, member_id, "diamond", 5000, "2026-03-02T10:00:00+08:00")
    # + 5 monthly = 16
    assert (await api.data("ClaimMonthlyCoupons", token=token, now="2026-03-03T10:00:00+08:00"))[
        "claimMonthlyCoupons"]["userErrors"] == []
    everything = (await coupon_page(api, token, USE_AT))["edges"]
    assert len(everything) == 16
    edges, pages = await walk(api, token, "MyCoupons", "coupons", 3, USE_AT)
    assert [len(p["edges"]) for p in pages] == [3, 3, 3, 3, 3, 1]
    assert all(p["totalCount"] == 16 for p in pages)
    ids = [e["node"]["id"] for e in edges]
    assert len(set(ids)) == 16
    assert ids == [e["node"]["id"] for e in everything]
    # newest first: the monthly coupons claimed last lead, the sign-up coupon comes last
    assert [e["node"]["source"] for e in edges[:5]] == ["MONTHLY_GIFT"] * 5
    assert edges[-1]["node"]["source"] == "SIGNUP_GIFT"
    assert all(instant(a["node"]["validFrom"]) >= instant(b["node"]["validFrom"]) for a, b in zip(edges, edges[1:]))
    # after the last cursor there is nothing more
    tail = await coupon_page(api, token, USE_AT, first=3, after=pages[-1]["pageInfo"]["endCursor"])
    assert tail["edges"] == [] and tail["pageInfo"]["hasNextPage"] is False
    # a filtered walk: use two, then page through the 14 AVAILABLE in fives
    for coupon in everything[:2]:
        assert (await use(api, member_id, coupon["node"]["id"], f"use-{coupon['node']['id']}", 10000))[
            "userErrors"] == []
    edges, pages = await walk(api, token, "MyCoupons", "coupons", 5, USE_AT, {"status": "AVAILABLE"})
    assert [len(p["edges"]) for p in pages] == [5, 5, 4]
    assert all(p["totalCount"] == 14 for p in pages)
    available_ids = [e["node"]["id"] for e in edges]
    assert available_ids == ids[2:]
    assert {e["node"]["status"] for e in edges} == {"AVAILABLE"}


async def test_point_history_pages_cover_everything_once(api):
    token, member_id = await api.login("long-history", now=SIGNUP_AT)
    # 10 daily check-ins 2026-03-01..10: 1+2+3+4+5+6+27+7+7+7 = 69
    for day in range(1, 11):
        payload = (await api.data("CheckIn", {"idempotencyKey": f"d{day}"}, token=token,
                                  now=f"2026-03-{day:02d}T12:00:00+08:00"))["checkIn"]
        assert payload["userErrors"] == []
    # 3 profile tasks: 15
    await api.data("UpdateProfile", {"input": {"birthday": "1990-01-01", "gender": "MALE", "householdSize": 2}},
                   token=token, now="2026-03-10T13:00:00+08:00")
    # a ¥100 order (Wednesday 03-11): 100
    await order(api, member_id, "hist", 100, "2026-03-11T10:00:00+08:00")
    # a 免运费券 redemption: −200
    await redeemed_coupon(api, token, "免运费券", "2026-03-11T11:00:00+08:00")
    now = "2026-03-12T10:00:00+08:00"
    # 1 SIGNUP + 10 CHECK_IN + 3 TASK + 1 ORDER + 1 REDEMPTION = 16 entries
    edges, pages = await walk(api, token, "PointHistory", "pointHistory", 5, now)
    assert [len(p["edges"]) for p in pages] == [5, 5, 5, 1]
    nodes = [e["node"] for e in edges]
    assert len({n["id"] for n in nodes}) == 16
    everything = (await api.data("PointHistory", {"first": 100}, token=token, now=now))["me"]["pointHistory"]
    assert nodes == [e["node"] for e in everything["edges"]]
    # newest first, each balanceAfter = the older entry's balanceAfter + this delta, across page boundaries
    assert [n["kind"] for n in nodes[:2]] == ["REDEMPTION", "ORDER"]
    assert nodes[-1]["kind"] == "SIGNUP" and nodes[-1]["delta"] == 100 and nodes[-1]["balanceAfter"] == 100
    for newer, older in zip(nodes, nodes[1:]):
        assert newer["balanceAfter"] == older["balanceAfter"] + newer["delta"]
        assert instant(newer["occurredAt"]) >= instant(older["occurredAt"])
    # 100 + 69 + 15 + 100 − 200
    assert nodes[0]["balanceAfter"] == 84
    me = (await api.data("MemberHome", token=token, now=now))["me"]
    assert me["pointsBalance"] == 84
    # additions carry expiresAt, the redemption does not
    assert all((n["expiresAt"] is not None) == (n["delta"] > 0) for n in nodes)


async def test_page_size_is_capped(api):
    token, _ = await api.login("cap", now=SIGNUP_AT)
    for operation in ("MyCoupons", "PointHistory"):
        for first in (101, -1):
            result = await api.op(operation, {"first": first}, token=token, now=SIGNUP_AT)
            assert result["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert len((await coupon_page(api, token, SIGNUP_AT, first=100))["edges"]) == 1


async def test_use_coupon_is_for_integrations(api):
    token, member_id, coupon = await newcomer(api, "auth")
    variables = {"input": {"memberId": member_id, "couponId": coupon["id"], "externalOrderId": "x",
                           "orderAmount": 5000}}
    assert (await api.op("UseCoupon", variables))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert (await api.op("UseCoupon", variables, token=token))["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await coupons(api, token, USE_AT))[0]["status"] == "AVAILABLE"
