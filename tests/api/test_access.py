"""Who may do what: members (access token), integrations (API key), anonymous callers.

Member operations without a token are UNAUTHENTICATED and with an integration key FORBIDDEN;
integration operations without auth are UNAUTHENTICATED and with a member token FORBIDDEN. The
catalog (Tiers, RewardCatalog, node of Tier/Benefit/Reward) is public. A bad token or an unknown
API key is no identity at all. node(id:) shows a member's objects to that member and to
integrations only. A refused caller changes nothing in any table.
"""
from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import jwt
import pytest
from sqlalchemy import select, update

from api.core.auth import MEMBER_AUDIENCE, issue_access_token
from persistence.tables import api_keys, metadata

MONDAY = "2026-03-02T12:00:00+08:00"  # Monday: no member-day doubling
PAID_AT = "2026-03-02T10:00:00+08:00"

MEMBER_ONLY = ["MemberHome", "MyCoupons", "PointHistory", "CheckIn", "RedeemReward", "ClaimMonthlyCoupons",
               "UpdateProfile"]
INTEGRATION_ONLY = ["RecordOrder", "RefundOrder", "UseCoupon", "RedeemPointsForOrder"]

NODE_QUERY = """
query AnyNode($id: ID!) {
  node(id: $id) {
    __typename
    id
    ... on Member { memberNo pointsBalance }
    ... on Coupon { title status }
    ... on PointEntry { kind delta }
    ... on Redemption { pointsSpent }
    ... on Order { externalId amount }
    ... on CheckIn { date streakDays }
    ... on Tier { code }
    ... on Benefit { code }
    ... on Reward { name }
  }
}
"""


async def snapshot(database) -> dict:
    """Every row of every table: a refused request must leave all of it as it was."""
    async with database.transaction() as conn:
        return {table.name: [tuple(row) for row in await conn.execute(select(table).order_by(*table.primary_key.columns))]
                for table in metadata.sorted_tables}


def error_codes(result: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def assert_refused(result: dict, code: str) -> None:
    assert error_codes(result) == [code], result
    assert result.get("data") is None, result


@pytest.fixture
async def world(api):
    """Member A (owner) with one object of every member type, member B, and the catalog's ids."""
    token_a, member_a = await api.login("owner-a", now=MONDAY)
    token_b, member_b = await api.login("other-b", now=MONDAY)
    # ¥100 on a Monday, regular ×1.0: floor(10000/100) = 100 points; balance 100 + 100 = 200.
    order = (await api.integration("RecordOrder", {"input": {
        "memberId": member_a, "externalId": "a-order-1", "amount": 10000, "channel": "APP",
        "paidAt": PAID_AT}}, now=MONDAY))["recordOrder"]
    assert order["member"]["pointsBalance"] == 200
    catalog = (await api.data("RewardCatalog", {"first": 50}))["rewards"]["edges"]
    free_shipping = next(e["node"]["id"] for e in catalog if e["node"]["name"] == "免运费券")
    redeemed = (await api.data("RedeemReward", {"rewardId": free_shipping, "idempotencyKey": "a-r1"},
                                token=token_a, now=MONDAY))["redeemReward"]
    assert redeemed["userErrors"] == [] and redeemed["member"]["pointsBalance"] == 0  # 200 − 200
    check_in = (await api.execute("mutation { checkIn(input: {idempotencyKey: \"a-c1\"}) { checkIn { id } "
                                  "userErrors { code } } }", token=token_a, now=MONDAY))["data"]["checkIn"]
    assert check_in["userErrors"] == []
    coupons = (await api.data("MyCoupons", {"first": 10}, token=token_a, now=MONDAY))["me"]["coupons"]["edges"]
    history = (await api.data("PointHistory", {"first": 10}, token=token_a, now=MONDAY))["me"]["pointHistory"]["edges"]
    tiers = (await api.data("Tiers"))["tiers"]
    owned = {
        "Member": member_a,
        "Coupon": coupons[-1]["node"]["id"],  # the 新人礼券 (oldest)
        "PointEntry": history[-1]["node"]["id"],  # SIGNUP
        "Redemption": redeemed["redemption"]["id"],
        "Order": order["order"]["id"],
        "CheckIn": check_in["checkIn"]["id"],
    }
    public = {"Tier": tiers[1]["id"], "Benefit": tiers[1]["benefits"][-1]["id"], "Reward": free_shipping}
    return {"token_a": token_a, "member_a": member_a, "token_b": token_b, "member_b": member_b,
            "owned": owned, "public": public, "reward": free_shipping,
            "coupon_a": owned["Coupon"], "order_a": order["order"]}


def member_variables(world) -> dict[str, dict]:
    return {
        "MemberHome": {},
        "MyCoupons": {"first": 10},
        "PointHistory": {"first": 10},
        "CheckIn": {"idempotencyKey": "refused-checkin"},
        "RedeemReward": {"rewardId": world["reward"], "idempotencyKey": "refused-redeem"},
        "ClaimMonthlyCoupons": {},
        "UpdateProfile": {"input": {"nickname": "x", "birthday": "1990-05-01", "gender": "FEMALE", "householdSize": 3}},
    }


def integration_variables(world) -> dict[str, dict]:
    return {
        "RecordOrder": {"input": {"memberId": world["member_a"], "externalId": "refused-order", "amount": 50000,
                                  "channel": "APP", "paidAt": PAID_AT}},
        "RefundOrder": {"input": {"externalId": "a-order-1", "externalRefundId": "refused-refund", "amount": 5000}},
        "UseCoupon": {"input": {"memberId": world["member_a"], "couponId": world["coupon_a"],
                                "externalOrderId": "refused-use", "orderAmount": 5000}},
        "RedeemPointsForOrder": {"input": {"memberId": world["member_a"], "externalOrderId": "refused-offset",
                                           "points": 100, "orderAmount": 50000}},
    }


# --- member operations -----------------------------------------------------------------------

async def test_member_operations_without_a_token_are_unauthenticated_and_change_nothing(api, database, world):
    before = await snapshot(database)
    for name, variables in member_variables(world).items():
        assert_refused(await api.op(name, variables, now=MONDAY), "UNAUTHENTICATED")
    assert await snapshot(database) == before


async def test_member_operations_with_an_integration_key_are_forbidden_and_change_nothing(api, database, world):
    before = await snapshot(database)
    for name, variables in member_variables(world).items():
        assert_refused(await api.op(name, variables, api_key=api.api_key, now=MONDAY), "FORBIDDEN")
    assert await snapshot(database) == before


async def test_member_operations_work_with_the_members_token(api, world):
    """The refusals above are about the caller, not the variables: the owner may run them all."""
    # Monday 2 March 2026 is day 2 of the month; A is regular, so the monthly claim is refused by rule.
    expected_user_errors = {"ClaimMonthlyCoupons": ["TIER_TOO_LOW"],
                            "RedeemReward": ["INSUFFICIENT_POINTS"],  # balance 1: 200 − 200 + 1 check-in point
                            "CheckIn": ["ALREADY_CHECKED_IN"]}  # checked in already today
    for name, variables in member_variables(world).items():
        data = await api.data(name, variables, token=world["token_a"], now=MONDAY)
        payload = next(iter(data.values()))
        if "userErrors" in payload:
            assert [e["code"] for e in payload["userErrors"]] == expected_user_errors.get(name, []), (name, payload)
        else:
            assert payload["id"] == world["member_a"]


async def test_public_operations_need_no_caller(api, world):
    tiers = (await api.data("Tiers"))["tiers"]
    assert [t["code"] for t in tiers] == ["regular", "silver", "gold", "diamond"]
    rewards = (await api.data("RewardCatalog", {"first": 10}))["rewards"]["edges"]
    assert len(rewards) == 5
    node = (await api.data("Node", {"id": world["public"]["Reward"]}))["node"]
    assert node == {"id": world["public"]["Reward"], "name": "免运费券", "pointsCost": 200}
    node = (await api.data("Node", {"id": world["public"]["Tier"]}))["node"]
    assert node == {"id": world["public"]["Tier"], "code": "silver"}
    # Members and integrations see the same catalog.
    assert (await api.data("Tiers", token=world["token_b"]))["tiers"] == tiers
    assert (await api.data("Tiers", api_key=api.api_key))["tiers"] == tiers
    # Logging in needs no caller either.
    token, member_id = await api.login("owner-a", now=MONDAY)
    assert member_id == world["member_a"]


# --- integration operations ------------------------------------------------------------------

async def test_integration_operations_without_auth_are_unauthenticated_and_change_nothing(api, database, world):
    before = await snapshot(database)
    for name, variables in integration_variables(world).items():
        assert_refused(await api.op(name, variables, now=MONDAY), "UNAUTHENTICATED")
    assert await snapshot(database) == before


async def test_integration_operations_with_a_member_token_are_forbidden_and_change_nothing(api, database, world):
    before = await snapshot(database)
    for name, variables in integration_variables(world).items():
        assert_refused(await api.op(name, variables, token=world["token_a"], now=MONDAY), "FORBIDDEN")
    assert await snapshot(database) == before
    # No key was taken either: the integration may use the same externalId with another amount.
    # ¥600 on a Monday, tier before the order regular ×1.0 → 600 points; growth 100 + 600 = 700 ≥ 500
    # → silver and its 100-point gift. Balance 1 (after the world's check-in) + 600 + 100 = 701.
    variables = integration_variables(world)["RecordOrder"]
    variables["input"]["amount"] = 60000
    order = (await api.integration("RecordOrder", variables, now=MONDAY))["recordOrder"]
    assert order["userErrors"] == []
    assert order["order"]["pointsEarned"] == 600 and order["member"]["pointsBalance"] == 701
    assert order["member"]["tier"]["code"] == "silver"


async def test_member_token_sent_with_an_api_key_is_still_a_member(api, world):
    """The Authorization header decides: a member cannot borrow an integration's rights."""
    result = await api.op("RecordOrder", integration_variables(world)["RecordOrder"], token=world["token_a"],
                          api_key=api.api_key, now=MONDAY)
    assert_refused(result, "FORBIDDEN")


# --- bad credentials are no identity -----------------------------------------------------------

def bad_tokens(settings, session_token_id: str) -> dict[str, str]:
    """Each names member A's live session, and none may act as A."""
    now = datetime.now(timezone.utc)
    good, _ = issue_access_token(settings.secret_key, MEMBER_AUDIENCE, session_token_id, now, 3600)
    header, payload, signature = good.split(".")
    expired, _ = issue_access_token(settings.secret_key, MEMBER_AUDIENCE, session_token_id, now - timedelta(days=2),
                                    3600)
    other_secret, _ = issue_access_token("another-secret-key-of-sufficient-length", MEMBER_AUDIENCE, session_token_id,
                                         now, 3600)
    wrong_audience = jwt.encode({"sid": session_token_id, "aud": "someone-else", "exp": int(now.timestamp()) + 3600},
                                settings.secret_key, algorithm="HS256")
    unsigned = jwt.encode({"sid": session_token_id, "aud": "loyalty-member", "exp": int(now.timestamp()) + 3600},
                          None, algorithm="none")
    return {
        "garbage": "Bearer garbage",
        "empty bearer": "Bearer ",
        "tampered signature": f"Bearer {header}.{payload}.{signature[::-1]}",
        "expired": f"Bearer {expired}",
        "signed with another secret": f"Bearer {other_secret}",
        "wrong audience": f"Bearer {wrong_audience}",
        "alg none": f"Bearer {unsigned}",
        "wrong scheme": f"Basic {good}",
        "no scheme": good,
    }


async def test_invalid_bearer_tokens_are_treated_as_anonymous(api, database, settings, world):
    session_token_id = jwt.decode(world["token_a"], options={"verify_signature": False})["sid"]
    before = await snapshot(database)
    for label, authorization in bad_tokens(settings, session_token_id).items():
        headers = {"Authorization": authorization, "X-Loyalty-Now": MONDAY}

        async def post(name, variables=None):
            body = {"query": api.operations, "operationName": name, "variables": variables or {}}
            response = await api.http.post("/graphql", json=body, headers=headers)
            assert response.status_code == 200, (label, response.text)
            return response.json()

        # An expired token of a live session is told to refresh; every other one to sign in again.
        expected = "TOKEN_EXPIRED" if label == "expired" else "TOKEN_INVALID"
        assert_refused(await post("MemberHome"), expected)
        assert_refused(await post("CheckIn", {"idempotencyKey": f"bad-{label}"}), expected)
        assert_refused(await post("RecordOrder", integration_variables(world)["RecordOrder"]), expected)
        # Anonymous, not an error: the catalog answers, a member's object is hidden.
        assert "errors" not in await post("Tiers"), label
        hidden = await post("Node", {"id": world["owned"]["Member"]})
        assert hidden["data"] == {"node": None} and "errors" not in hidden, (label, hidden)
    assert await snapshot(database) == before


async def test_unknown_and_revoked_api_keys_are_treated_as_anonymous(api, database, world):
    async with database.transaction() as conn:
        await conn.execute(update(api_keys).values(revoked_at=datetime(2026, 1, 1, tzinfo=timezone.utc)))
    before = await snapshot(database)
    for label, key in {"unknown": "lk_not-a-key-anyone-was-given", "revoked": api.api_key}.items():
        for name, variables in integration_variables(world).items():
            assert_refused(await api.op(name, variables, api_key=key, now=MONDAY), "API_KEY_INVALID")
        # Anonymous rather than an integration: `me` says the key did not hold, not FORBIDDEN.
        assert_refused(await api.op("MemberHome", api_key=key), "API_KEY_INVALID")
        hidden = await api.execute(NODE_QUERY, {"id": world["owned"]["Order"]}, api_key=key)
        assert hidden["data"] == {"node": None} and "errors" not in hidden, label
    assert await snapshot(database) == before


# --- node(id:) visibility --------------------------------------------------------------------

async def test_node_visibility_by_caller(api, world):
    callers = {
        "anonymous": {},
        "owner": {"token": world["token_a"]},
        "other member": {"token": world["token_b"]},
        "integration": {"api_key": api.api_key},
    }
    sees_members_objects = {"anonymous": False, "owner": True, "other member": False, "integration": True}
    for caller, auth in callers.items():
        for type_name, global_id in world["owned"].items():
            result = await api.execute(NODE_QUERY, {"id": global_id}, now=MONDAY, **auth)
            assert "errors" not in result, (caller, type_name, result)
            node = result["data"]["node"]
            if sees_members_objects[caller]:
                assert node is not None and node["__typename"] == type_name and node["id"] == global_id, (
                    caller, type_name, node)
            else:
                assert node is None, (caller, type_name, node)
        for type_name, global_id in world["public"].items():
            result = await api.execute(NODE_QUERY, {"id": global_id}, now=MONDAY, **auth)
            node = result["data"]["node"]
            assert node is not None and node["__typename"] == type_name and node["id"] == global_id, (
                caller, type_name, result)


async def test_node_resolves_the_right_object_for_the_owner(api, world):
    owner = {"token": world["token_a"], "now": MONDAY}
    node = (await api.execute(NODE_QUERY, {"id": world["owned"]["Member"]}, **owner))["data"]["node"]
    assert node["pointsBalance"] == 1  # 100 sign-up + 100 order − 200 redemption + 1 check-in (streak 1)
    node = (await api.execute(NODE_QUERY, {"id": world["owned"]["Order"]}, **owner))["data"]["node"]
    assert node["externalId"] == "a-order-1" and node["amount"] == 10000
    node = (await api.execute(NODE_QUERY, {"id": world["owned"]["PointEntry"]}, **owner))["data"]["node"]
    assert node == {"__typename": "PointEntry", "id": world["owned"]["PointEntry"], "kind": "SIGNUP", "delta": 100}
    node = (await api.execute(NODE_QUERY, {"id": world["owned"]["CheckIn"]}, **owner))["data"]["node"]
    assert node["date"] == "2026-03-02" and node["streakDays"] == 1
    node = (await api.execute(NODE_QUERY, {"id": world["owned"]["Redemption"]}, **owner))["data"]["node"]
    assert node["pointsSpent"] == 200
    node = (await api.execute(NODE_QUERY, {"id": world["owned"]["Coupon"]}, **owner))["data"]["node"]
    assert node["title"] == "新人礼券 满30减5" and node["status"] == "AVAILABLE"


async def test_the_other_member_sees_the_same_as_for_a_missing_object(api, world):
    """null either way: the answer does not tell whether another member's object exists."""
    def global_id(type_name: str, pk: int) -> str:
        return base64.b64encode(f"{type_name}:{pk}".encode()).decode()

    for type_name in world["owned"]:
        missing = await api.execute(NODE_QUERY, {"id": global_id(type_name, 987654)}, token=world["token_b"])
        hidden = await api.execute(NODE_QUERY, {"id": world["owned"][type_name]}, token=world["token_b"])
        assert missing["data"] == hidden["data"] == {"node": None}, type_name
        assert "errors" not in missing and "errors" not in hidden, type_name
    # The same for a missing public object and an integration asking for a missing member object.
    assert (await api.execute(NODE_QUERY, {"id": global_id("Tier", 987654)}))["data"] == {"node": None}
    assert (await api.execute(NODE_QUERY, {"id": global_id("Order", 987654)}, api_key=api.api_key))["data"] == {
        "node": None}
