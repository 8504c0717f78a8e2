"""Every Node type and every operation of the schema, as every kind of caller: anonymous, the owning
member, another member, an integration with every scope and one with none that fits, and each staff
role. What each may see and do is written out here, independently of the code's matrix; a type or a
field the schema gains without a line here fails the walk."""
import pytest
from graphql import GraphQLObjectType

from api.schema import schema
from tests.api.member_views import MON
from tests.api.staff_helpers import PASSWORD, STAFF_LOGIN, add_staff, staff_token
from tests.conftest import add_api_key

ROLES = ["SUPPORT_AGENT", "SUPPORT_SUPERVISOR", "OPERATIONS_MANAGER", "ADMIN"]
CALLERS = ["anonymous", "owner", "other member", "integration", "narrow integration", *ROLES]
EVERYONE = set(CALLERS)
STAFF = set(ROLES)

# Who sees a Node of each type (owned by "owner" where it belongs to a member).
CATALOG = EVERYONE
MEMBERS_OBJECT = {"owner", "integration", *ROLES}
NODE_VISIBILITY = {
    "Tier": CATALOG, "Benefit": CATALOG, "Reward": CATALOG,
    "Member": MEMBERS_OBJECT, "Coupon": MEMBERS_OBJECT, "PointEntry": MEMBERS_OBJECT, "Redemption": MEMBERS_OBJECT,
    "Order": MEMBERS_OBJECT, "CheckIn": MEMBERS_OBJECT, "Notification": MEMBERS_OBJECT,
    "ApiKey": {"ADMIN"},
}

MEMBER = {"owner", "other member"}
# field → (operation, variables, the callers it answers; others get UNAUTHENTICATED when anonymous,
# FORBIDDEN otherwise)
OPERATIONS = {
    "tiers": ("{ tiers { id } }", {}, EVERYONE),
    "rewards": ("{ rewards(first: 5) { edges { cursor } } }", {}, EVERYONE),
    "node": ('query($id: ID!) { node(id: $id) { id } }', {"id": "VGllcjox"}, EVERYONE),
    "me": ("{ me { id } }", {}, MEMBER),
    "staffAccount": ("{ staffAccount { role } }", {}, STAFF),
    "findMember": ('{ findMember(memberNo: "0") { id } }', {}, STAFF),
    "auditLog": ("{ auditLog(first: 5) { edges { cursor } } }", {}, {"OPERATIONS_MANAGER", "ADMIN"}),
    "apiKeys": ("{ apiKeys(first: 5) { edges { cursor } } }", {}, {"ADMIN"}),
    "loginWithWeChat": ('mutation { loginWithWeChat(input: {code: "walk-login"}) { accessToken } }', {}, EVERYONE),
    "refreshAccessToken": ('mutation { refreshAccessToken(input: {refreshToken: "rt_x"}) { accessToken } }', {},
                           EVERYONE),
    "staffLogin": ('mutation { staffLogin(input: {username: "nobody", password: "nothing-at-all"}) '
                   '{ accessToken } }', {}, EVERYONE),
    "logout": ("mutation { logout { userErrors { code } } }", {}, MEMBER | STAFF),
    "bindPhoneNumber": ('mutation { bindPhoneNumber(input: {code: "1"}) { userErrors { code } } }', {}, MEMBER),
    "deregisterMember": ("mutation { deregisterMember { userErrors { code } } }", {}, MEMBER),
    "checkIn": ('mutation { checkIn(input: {idempotencyKey: "walk"}) { userErrors { code } } }', {}, MEMBER),
    "redeemReward": ('mutation { redeemReward(input: {rewardId: "UmV3YXJkOjE=", idempotencyKey: "w"}) '
                     '{ userErrors { code } } }', {}, MEMBER),
    "claimMonthlyCoupons": ("mutation { claimMonthlyCoupons { userErrors { code } } }", {}, MEMBER),
    "updateProfile": ('mutation { updateProfile(input: {nickname: "walker"}) { userErrors { code } } }', {}, MEMBER),
    "markNotificationsRead": ('mutation { markNotificationsRead(input: {ids: ["Tm90aWZpY2F0aW9uOjE="]}) '
                              '{ userErrors { code } } }', {}, MEMBER),
    "recordOrder": ('mutation { recordOrder(input: {memberId: "TWVtYmVyOjA=", externalId: "walk", amount: 1, '
                    'channel: APP, paidAt: "2026-03-02T10:00:00+08:00"}) { userErrors { code } } }', {},
                    {"integration", "narrow integration"}),
    "refundOrder": ('mutation { refundOrder(input: {externalId: "walk-none", externalRefundId: "r", amount: 1}) '
                    '{ userErrors { code } } }', {}, {"integration", "narrow integration"}),
    "useCoupon": ('mutation { useCoupon(input: {memberId: "TWVtYmVyOjA=", couponId: "Q291cG9uOjA=", '
                  'externalOrderId: "w", orderAmount: 1}) { userErrors { code } } }', {}, {"integration"}),
    "redeemPointsForOrder": ('mutation { redeemPointsForOrder(input: {memberId: "TWVtYmVyOjA=", externalOrderId: "w", '
                             'points: 100, orderAmount: 10000}) { userErrors { code } } }', {}, {"integration"}),
    "adjustPoints": ('mutation { adjustPoints(input: {memberId: "TWVtYmVyOjA=", points: 1, reason: "walk", '
                     'idempotencyKey: "walk"}) { userErrors { code } } }', {},
                     {"SUPPORT_SUPERVISOR", "OPERATIONS_MANAGER", "ADMIN"}),
    "createApiKey": ('mutation { createApiKey(input: {name: "walk", scopes: []}) { userErrors { code } } }', {},
                     {"ADMIN"}),
    "revokeApiKey": ('mutation { revokeApiKey(input: {id: "QXBpS2V5OjA="}) { userErrors { code } } }', {},
                     {"ADMIN"}),
}


@pytest.fixture
async def callers(api, database):
    """Headers for each kind of caller: members sign in afresh each time (some operations end their
    session); staff sessions are kept until `headers.forget()` (after a logout)."""
    await api.login("owner", now=MON)
    narrow = await add_api_key(database, "narrow", ["orders:write"])
    for role in ROLES:
        await add_staff(database, role.lower().replace("_", "-"), role)
    staff_tokens = {}

    async def headers(kind: str) -> dict:
        if kind in ("owner", "other member"):
            token, _ = await api.login("owner" if kind == "owner" else "other", now=MON)
            return {"token": token}
        if kind in ROLES:
            if kind not in staff_tokens:
                result = await api.execute(STAFF_LOGIN, {"username": kind.lower().replace("_", "-"),
                                                         "password": PASSWORD})
                staff_tokens[kind] = result["data"]["staffLogin"]["accessToken"]
            return {"token": staff_tokens[kind]}
        return {"integration": {"api_key": api.api_key}, "narrow integration": {"api_key": narrow}}.get(kind, {})

    headers.forget = staff_tokens.clear
    return headers


def node_types() -> set[str]:
    return {name for name, t in schema._schema.type_map.items()
            if isinstance(t, GraphQLObjectType) and any(i.name == "Node" for i in t.interfaces)}


def root_fields() -> set[str]:
    return set(schema._schema.query_type.fields) | set(schema._schema.mutation_type.fields)


def test_every_node_type_and_operation_is_in_the_walk():
    assert node_types() == set(NODE_VISIBILITY)
    assert root_fields() == set(OPERATIONS)


async def one_of_each(api, database) -> dict[str, str]:
    """A global ID of each Node type, the member's objects owned by "owner"."""
    token, member = await api.login("owner", now=MON)
    order = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": "walk-order",
                                                            "amount": 300000, "channel": "APP", "paidAt": MON}},
                                  now=MON)  # gold: TIER_CHANGED notification, upgrade coupons
    checked = (await api.execute('mutation { checkIn(input: {idempotencyKey: "walk-ci"}) '
                                 "{ checkIn { id } userErrors { code } } }", token=token, now=MON))["data"]
    rewards = await api.data("RewardCatalog", {"first": 1})
    reward_id = rewards["rewards"]["edges"][0]["node"]["id"]
    redeemed = await api.data("RedeemReward", {"rewardId": reward_id, "idempotencyKey": "walk-r"}, token=token, now=MON)
    tiers = await api.data("Tiers")
    home = await api.data("MemberHome", token=token, now=MON)
    history = await api.data("PointHistory", {"first": 1}, token=token, now=MON)
    notes = await api.execute("{ me { notifications(first: 1) { edges { node { id } } } } }", token=token, now=MON)
    admin = await staff_token(api, database, "walk-admin", "ADMIN")
    key = await api.execute('mutation { createApiKey(input: {name: "walk", scopes: ["orders:write"]}) '
                            "{ apiKey { id } } }", token=admin)
    assert order["recordOrder"]["userErrors"] == [] and checked["checkIn"]["userErrors"] == []
    return {
        "Tier": tiers["tiers"][0]["id"], "Benefit": home["me"]["benefits"][0]["id"], "Reward": reward_id,
        "Member": member, "Coupon": redeemed["redeemReward"]["redemption"]["coupon"]["id"],
        "PointEntry": history["me"]["pointHistory"]["edges"][0]["node"]["id"],
        "Redemption": redeemed["redeemReward"]["redemption"]["id"], "Order": order["recordOrder"]["order"]["id"],
        "CheckIn": checked["checkIn"]["checkIn"]["id"],
        "Notification": notes["data"]["me"]["notifications"]["edges"][0]["node"]["id"],
        "ApiKey": key["data"]["createApiKey"]["apiKey"]["id"],
    }


async def test_every_node_type_as_every_caller(api, database, callers):
    objects = await one_of_each(api, database)
    assert set(objects) == node_types()
    seen = {}
    for type_name, global_id in objects.items():
        for kind in CALLERS:
            result = await api.execute("query($id: ID!) { node(id: $id) { __typename id } }", {"id": global_id},
                                       **await callers(kind))
            assert "errors" not in result, (type_name, kind, result)
            if result["data"]["node"] is not None:
                assert result["data"]["node"] == {"__typename": type_name, "id": global_id}
                seen.setdefault(type_name, set()).add(kind)
    assert seen == {name: visible for name, visible in NODE_VISIBILITY.items()}


async def test_every_operation_as_every_caller(api, callers):
    refused = {}
    for field, (operation, variables, allowed) in OPERATIONS.items():
        for kind in CALLERS:
            result = await api.execute(operation, variables, now=MON, **await callers(kind))
            codes = [e.get("extensions", {}).get("code") for e in result.get("errors", [])]
            if kind in allowed:
                assert codes == [], (field, kind, result)
            else:
                expected = "UNAUTHENTICATED" if kind == "anonymous" else "FORBIDDEN"
                assert codes == [expected] and not any((result.get("data") or {}).values()), (field, kind, result)
                refused[field] = refused.get(field, 0) + 1
        if field == "logout":
            callers.forget()
    assert sum(refused.values()) == sum(len(EVERYONE - allowed) for _, _, allowed in OPERATIONS.values())
