"""Every Node type, every operation and every field of every mutation's payload, as every kind of
caller: anonymous, the owning member, another member, an integration with every scope and one with
each single write scope, and each staff role. What each may see and do is written out here,
independently of the code's matrix; a type, a field or a mutation the schema gains without a line here
fails the walk."""
import pytest
from graphql import GraphQLNonNull, GraphQLObjectType, get_named_type, is_leaf_type

from api.schema import schema
from tests.api.member_views import MON
from tests.api.staff_helpers import PASSWORD, STAFF_LOGIN, add_staff, staff_token
from tests.conftest import add_api_key

ROLES = ["SUPPORT_AGENT", "SUPPORT_SUPERVISOR", "OPERATIONS_MANAGER", "ADMIN"]
NARROW = {"orders integration": ["orders:write"], "coupons integration": ["coupons:write"],
          "points integration": ["points:write"]}
CALLERS = ["anonymous", "owner", "other member", "integration", *NARROW, *ROLES]
EVERYONE = set(CALLERS)
STAFF = set(ROLES)

# Who sees a Node of each type (owned by "owner" where it belongs to a member).
CATALOG = EVERYONE
MEMBERS_OBJECT = {"owner", "integration", *ROLES}
NODE_VISIBILITY = {  # a key that writes orders or coupons reads them; members and their ledgers need members:read
    "Tier": CATALOG, "Benefit": CATALOG, "Reward": CATALOG, "CouponTemplate": CATALOG,
    "Member": MEMBERS_OBJECT, "Coupon": MEMBERS_OBJECT | {"coupons integration"}, "PointEntry": MEMBERS_OBJECT,
    "Redemption": MEMBERS_OBJECT, "Order": MEMBERS_OBJECT | {"orders integration"}, "CheckIn": MEMBERS_OBJECT,
    "Notification": MEMBERS_OBJECT, "Referral": MEMBERS_OBJECT,
    "CheckoutHold": MEMBERS_OBJECT | {"points integration", "coupons integration"},
    "ApiKey": {"ADMIN"},
}

MEMBER = {"owner", "other member"}
JOINED = "2026-03-01T10:00:00+08:00"  # the members' sign-up, the day before the walk (MON)
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
    "insights": ('{ insights(from: "2026-03-01", to: "2026-03-02") { members { total } } }', {},
                 {"OPERATIONS_MANAGER", "ADMIN"}),
    "loginWithWeChat": ('mutation { loginWithWeChat(input: {code: "walk-login"}) { accessToken } }', {}, EVERYONE),
    "refreshAccessToken": ('mutation { refreshAccessToken(input: {refreshToken: "rt_x"}) { accessToken } }', {},
                           EVERYONE),
    "requestSmsCode": ('mutation { requestSmsCode(input: {phone: "13800138000"}) { userErrors { code } } }', {},
                       EVERYONE),
    "loginWithPhone": ('mutation { loginWithPhone(input: {phone: "13800138000", smsCode: "123456"}) '
                       '{ accessToken } }', {}, EVERYONE),
    "mergeMembers": ('mutation { mergeMembers(input: {sourceMemberId: "TWVtYmVyOjA=", '
                     'targetMemberId: "TWVtYmVyOjE=", reason: "walk"}) { userErrors { code } } }', {},
                     {"SUPPORT_SUPERVISOR", "OPERATIONS_MANAGER", "ADMIN"}),
    "staffLogin": ('mutation { staffLogin(input: {username: "nobody", password: "nothing-at-all"}) '
                   '{ accessToken } }', {}, EVERYONE),
    "logout": ("mutation { logout { userErrors { code } } }", {}, MEMBER | STAFF),
    "bindPhoneNumber": ('mutation { bindPhoneNumber(input: {code: "1"}) { userErrors { code } } }', {}, MEMBER),
    "deregisterMember": ("mutation { deregisterMember { userErrors { code } } }", {}, MEMBER),
    "checkIn": ('mutation { checkIn(input: {idempotencyKey: "walk"}) { userErrors { code } } }', {}, MEMBER),
    "makeUpCheckIn": ('mutation { makeUpCheckIn(input: {date: "2026-03-01", idempotencyKey: "walk"}) '
                      '{ userErrors { code } } }', {}, MEMBER),
    "redeemReward": ('mutation { redeemReward(input: {rewardId: "UmV3YXJkOjE=", idempotencyKey: "w"}) '
                     '{ userErrors { code } } }', {}, MEMBER),
    "claimMonthlyCoupons": ("mutation { claimMonthlyCoupons { userErrors { code } } }", {}, MEMBER),
    "updateProfile": ('mutation { updateProfile(input: {nickname: "walker"}) { userErrors { code } } }', {}, MEMBER),
    "markNotificationsRead": ('mutation { markNotificationsRead(input: {ids: ["Tm90aWZpY2F0aW9uOjE="]}) '
                              '{ userErrors { code } } }', {}, MEMBER),
    "recordOrder": ('mutation { recordOrder(input: {memberId: "TWVtYmVyOjA=", externalId: "walk", amount: 1, '
                    'channel: APP, paidAt: "2026-03-02T10:00:00+08:00"}) { userErrors { code } } }', {},
                    {"integration", "orders integration"}),
    "refundOrder": ('mutation { refundOrder(input: {externalId: "walk-none", externalRefundId: "r", amount: 1}) '
                    '{ userErrors { code } } }', {}, {"integration", "orders integration"}),
    "useCoupon": ('mutation { useCoupon(input: {memberId: "TWVtYmVyOjA=", couponId: "Q291cG9uOjA=", '
                  'externalOrderId: "w", orderAmount: 1}) { userErrors { code } } }', {},
                  {"integration", "coupons integration"}),
    "redeemPointsForOrder": ('mutation { redeemPointsForOrder(input: {memberId: "TWVtYmVyOjA=", externalOrderId: "w", '
                             'points: 100, orderAmount: 10000}) { userErrors { code } } }', {},
                             {"integration", "points integration"}),
    "holdForCheckout": ('mutation { holdForCheckout(input: {memberId: "TWVtYmVyOjA=", externalOrderId: "w", '
                        'orderAmount: 10000, points: 100}) { userErrors { code } } }', {},
                        {"integration", "points integration"}),
    "releaseHold": ('mutation { releaseHold(input: {externalOrderId: "walk-none"}) { userErrors { code } } }', {},
                    {"integration", "points integration", "coupons integration"}),
    "adjustPoints": ('mutation { adjustPoints(input: {memberId: "TWVtYmVyOjA=", points: 1, reason: "walk", '
                     'idempotencyKey: "walk"}) { userErrors { code } } }', {},
                     {"SUPPORT_SUPERVISOR", "OPERATIONS_MANAGER", "ADMIN"}),
    "createApiKey": ('mutation { createApiKey(input: {name: "walk", scopes: []}) { userErrors { code } } }', {},
                     {"ADMIN"}),
    "revokeApiKey": ('mutation { revokeApiKey(input: {id: "QXBpS2V5OjA="}) { userErrors { code } } }', {},
                     {"ADMIN"}),
    "createReward": ('mutation { createReward(input: {name: "walk", description: "", kind: GOODS, pointsCost: 1, '
                     'minTierLevel: 0}) { userErrors { code } } }', {}, {"OPERATIONS_MANAGER", "ADMIN"}),
    "updateReward": ('mutation { updateReward(input: {id: "UmV3YXJkOjA="}) { userErrors { code } } }', {},
                     {"OPERATIONS_MANAGER", "ADMIN"}),
    "createCouponTemplate": ('mutation { createCouponTemplate(input: {title: "walk", kind: FREE_SHIPPING, '
                             'validDays: 0}) { userErrors { code } } }', {}, {"OPERATIONS_MANAGER", "ADMIN"}),
    "updateCouponTemplate": ('mutation { updateCouponTemplate(input: {id: "Q291cG9uVGVtcGxhdGU6MA=="}) '
                             '{ userErrors { code } } }', {}, {"OPERATIONS_MANAGER", "ADMIN"}),
}


@pytest.fixture
async def callers(api, database):
    """Headers for each kind of caller: members sign in afresh each time (some operations end their
    session); staff sessions are kept until `headers.forget()` (after a logout). The members joined the day
    before the walk, which leaves them a day to make up (makeUpCheckIn)."""
    for code in ("owner", "other"):
        await api.login(code, now=JOINED)
    narrow = {kind: await add_api_key(database, kind, scopes) for kind, scopes in NARROW.items()}
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
        if kind == "integration":
            return {"api_key": api.api_key}
        return {"api_key": narrow[kind]} if kind in narrow else {}

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
    code = (await api.execute("{ me { referralCode } }", token=token))["data"]["me"]["referralCode"]
    referee = await api.data("LoginWithReferral", {"code": "walk-referee", "referralCode": code}, now=MON)
    assert referee["loginWithWeChat"]["userErrors"] == []
    referral = await api.data("MyReferrals", {"first": 1}, token=token, now=MON)
    admin = await staff_token(api, database, "walk-admin", "ADMIN")
    key = await api.execute('mutation { createApiKey(input: {name: "walk", scopes: ["orders:write"]}) '
                            "{ apiKey { id } } }", token=admin)
    template = await api.execute('mutation { createCouponTemplate(input: {title: "walk", kind: FREE_SHIPPING, '
                                 "validDays: 7}) { couponTemplate { id } } }", token=admin)
    assert order["recordOrder"]["userErrors"] == [] and checked["checkIn"]["userErrors"] == []
    return {
        "Tier": tiers["tiers"][0]["id"], "Benefit": home["me"]["benefits"][0]["id"], "Reward": reward_id,
        "Member": member, "Coupon": redeemed["redeemReward"]["redemption"]["coupon"]["id"],
        "PointEntry": history["me"]["pointHistory"]["edges"][0]["node"]["id"],
        "Redemption": redeemed["redeemReward"]["redemption"]["id"], "Order": order["recordOrder"]["order"]["id"],
        "CheckIn": checked["checkIn"]["checkIn"]["id"],
        "Notification": notes["data"]["me"]["notifications"]["edges"][0]["node"]["id"],
        "Referral": referral["me"]["referrals"]["edges"][0]["node"]["id"],
        "ApiKey": key["data"]["createApiKey"]["apiKey"]["id"],
        "CouponTemplate": template["data"]["createCouponTemplate"]["couponTemplate"]["id"],
        "CheckoutHold": (await api.integration("HoldForCheckout", {"input": {
            "memberId": member, "externalOrderId": "walk-held", "orderAmount": 100000, "points": 100}},
            now=MON))["holdForCheckout"]["hold"]["id"],
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


def selection(type_, depth: int) -> str:
    """Every field of an object type down to `depth` levels of objects (connections asked for 2 items,
    `__typename` on each object): all that a payload lets its caller reach."""
    parts = ["__typename"]
    for name, field in get_named_type(type_).fields.items():
        if any(isinstance(arg.type, GraphQLNonNull) and arg_name != "first" for arg_name, arg in field.args.items()):
            continue
        call = f"{name}(first: 2)" if "first" in field.args else name
        inner = get_named_type(field.type)
        if is_leaf_type(inner):
            parts.append(call)
        elif depth > 0:
            parts.append(f"{call} {{ {selection(inner, depth - 1)} }}")
    return " ".join(parts)


def objects(value) -> list[dict]:
    """Every object with a global ID in an answer."""
    if isinstance(value, list):
        return [found for item in value for found in objects(item)]
    if not isinstance(value, dict):
        return []
    own = [value] if "id" in value and "__typename" in value else []
    return own + [found for item in value.values() for found in objects(item)]


# The order the walk calls them in: what ends a session or an account comes last.
PAYLOAD_ORDER = ["loginWithWeChat", "requestSmsCode", "loginWithPhone", "refreshAccessToken", "staffLogin",
                 "recordOrder", "refundOrder", "useCoupon", "redeemPointsForOrder", "holdForCheckout", "releaseHold",
                 "adjustPoints", "mergeMembers",
                 "createReward", "updateReward", "createCouponTemplate", "updateCouponTemplate",
                 "createApiKey", "revokeApiKey", "bindPhoneNumber", "checkIn", "makeUpCheckIn", "redeemReward",
                 "claimMonthlyCoupons", "updateProfile", "markNotificationsRead", "logout", "deregisterMember"]
SIGN_INS = {"loginWithWeChat", "loginWithPhone"}  # their payload is the signed-in member's, read with its token


class Walk:
    """Inputs that succeed, for each mutation and each kind of caller allowed to call it."""

    def __init__(self, api, database, owner: str, coupons: list[str], admin: str):
        self.api, self.database, self.owner, self.coupons, self.admin = api, database, owner, coupons, admin
        self.phones = iter(f"1380013{n:04d}" for n in range(10_000))

    async def variables(self, field: str, kind: str, headers: dict) -> dict | None:
        tag = kind.replace(" ", "-").lower()
        owner, order = self.owner, f"walk-order-{tag}"
        inputs = {
            "loginWithWeChat": lambda: {"code": f"walk-{tag}"},
            "staffLogin": lambda: {"username": "walk-staff", "password": PASSWORD},
            "recordOrder": lambda: {"memberId": owner, "externalId": order, "amount": 10000, "channel": "APP",
                                    "paidAt": MON},
            "refundOrder": lambda: {"externalId": order, "externalRefundId": f"walk-refund-{tag}", "amount": 100},
            "useCoupon": lambda: {"memberId": owner, "couponId": self.coupons.pop(), "externalOrderId": order,
                                  "orderAmount": 100000},
            "redeemPointsForOrder": lambda: {"memberId": owner, "externalOrderId": f"walk-offset-{tag}", "points": 100,
                                             "orderAmount": 100000},
            "adjustPoints": lambda: {"memberId": owner, "points": 10, "reason": "walk", "idempotencyKey": tag},
            "createApiKey": lambda: {"name": f"walk-{tag}", "scopes": ["orders:write"]},
            "createReward": lambda: {"name": f"walk-{tag}", "description": "", "kind": "GOODS",
                                     "pointsCost": 99999, "minTierLevel": 1, "stock": 5},
            "createCouponTemplate": lambda: {"title": f"walk-{tag}", "kind": "AMOUNT_OFF", "discountAmount": 500,
                                             "validDays": 7},
            "bindPhoneNumber": lambda: {"code": next(self.phones)},
            "requestSmsCode": lambda: {"phone": next(self.phones)},
            "checkIn": lambda: {"idempotencyKey": f"walk-{tag}"},
            "makeUpCheckIn": lambda: {"date": JOINED[:10], "idempotencyKey": f"walk-{tag}"},
            "updateProfile": lambda: {"nickname": "walker"},
        }
        if field == "markNotificationsRead":
            notes = await self.api.execute("{ me { notifications(first: 1) { edges { node { id } } } } }", **headers)
            return {"input": {"ids": [edge["node"]["id"] for edge in notes["data"]["me"]["notifications"]["edges"]]}}
        if field == "refreshAccessToken":
            return {"input": {"refreshToken": (await self.api.sign_in(f"walk-refresh-{tag}", now=MON))["refreshToken"]}}
        if field == "redeemReward":
            rewards = await self.api.data("RewardCatalog", {"first": 10})
            cheapest = min((edge["node"] for edge in rewards["rewards"]["edges"]), key=lambda node: node["pointsCost"])
            return {"input": {"rewardId": cheapest["id"], "idempotencyKey": f"walk-{tag}"}}
        if field == "loginWithPhone":
            phone = next(self.phones)
            sent = await self.api.execute("mutation($p: String!) { requestSmsCode(input: {phone: $p}) "
                                          "{ userErrors { code } } }", {"p": phone})
            assert sent["data"]["requestSmsCode"]["userErrors"] == [], sent
            return {"input": {"phone": phone, "smsCode": "000000"}}
        if field == "holdForCheckout":
            return {"input": {"memberId": owner, "externalOrderId": f"walk-hold-{tag}", "orderAmount": 100000,
                              "points": 100}}
        if field == "releaseHold":
            held = await self.api.integration("HoldForCheckout", {"input": {
                "memberId": owner, "externalOrderId": f"walk-release-{tag}", "orderAmount": 100000, "points": 100}})
            assert held["holdForCheckout"]["userErrors"] == [], held
            return {"input": {"externalOrderId": f"walk-release-{tag}"}}
        if field == "mergeMembers":
            _, source = await self.api.login(f"walk-merge-source-{tag}", now=MON)
            _, target = await self.api.login(f"walk-merge-target-{tag}", now=MON)
            return {"input": {"sourceMemberId": source, "targetMemberId": target, "reason": "walk"}}
        if field == "updateReward":
            created = await self.api.execute('mutation { createReward(input: {name: "walk-update", description: "", '
                                             "kind: GOODS, pointsCost: 99999, minTierLevel: 1}) { reward { id } } }",
                                             token=self.admin)
            return {"input": {"id": created["data"]["createReward"]["reward"]["id"], "stockDelta": None,
                              "name": f"walk-{tag}"}}
        if field == "updateCouponTemplate":
            created = await self.api.execute('mutation { createCouponTemplate(input: {title: "walk-update", '
                                             "kind: FREE_SHIPPING, validDays: 7}) { couponTemplate { id } } }",
                                             token=self.admin)
            return {"input": {"id": created["data"]["createCouponTemplate"]["couponTemplate"]["id"], "validDays": 30}}
        if field == "revokeApiKey":
            created = await self.api.execute('mutation { createApiKey(input: {name: "doomed", scopes: ["orders:write"]}) '
                                             "{ apiKey { id } } }", token=self.admin)
            return {"input": {"id": created["data"]["createApiKey"]["apiKey"]["id"]}}
        return {"input": inputs[field]()} if field in inputs else None


async def test_every_payload_shows_only_what_node_shows(api, database, callers):
    """What a caller reads through a mutation's payload is exactly what node(id:) shows it: every object in
    every payload, every field of them down to the member's coupons and ledgers, as every kind of caller
    allowed to call the mutation; an object the payload leaves out (null) is one node(id:) hides."""
    mutation_type = schema._schema.mutation_type
    assert set(PAYLOAD_ORDER) == set(mutation_type.fields)
    owner_token, owner = await api.login("owner", now=MON)
    other_token, _ = await api.login("other", now=MON)
    for token, code in ((owner_token, "owner"), (other_token, "other")):
        _, member = await api.login(code, now=MON)
        await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": f"walk-setup-{code}",
                                                        "amount": 300000, "channel": "APP", "paidAt": MON}}, now=MON)
    rewards = await api.data("RewardCatalog", {"first": 10})
    cheapest = min((edge["node"] for edge in rewards["rewards"]["edges"]), key=lambda node: node["pointsCost"])
    coupons = []
    for n in range(3):
        redeemed = await api.data("RedeemReward", {"rewardId": cheapest["id"], "idempotencyKey": f"walk-c{n}"},
                                  token=owner_token, now=MON)
        coupons.append(redeemed["redeemReward"]["redemption"]["coupon"]["id"])
    await add_staff(database, "walk-staff", "SUPPORT_AGENT")
    walk = Walk(api, database, owner, coupons, await staff_token(api, database, "walk-admin", "ADMIN"))
    shown, hidden = {}, {}
    for field in PAYLOAD_ORDER:
        definition = mutation_type.fields[field]
        _, _, allowed = OPERATIONS[field]
        for kind in CALLERS:
            if kind not in allowed:
                continue
            headers = await callers(kind)
            variables = await walk.variables(field, kind, headers)
            argument = "(input: $input)" if variables else ""
            declared = f"($input: {definition.args['input'].type})" if variables else ""
            document = f"mutation{declared} {{ {field}{argument} {{ {selection(definition.type, 4)} }} }}"
            result = await api.execute(document, variables, now=MON, **headers)
            assert "errors" not in result, (field, kind, result)
            payload = result["data"][field]
            assert payload["userErrors"] == [], (field, kind, payload)
            viewer = {"token": payload["accessToken"]} if field in SIGN_INS else headers
            for found in objects(payload):
                node = await api.execute("query($id: ID!) { node(id: $id) { id } }", {"id": found["id"]}, **viewer)
                assert node["data"]["node"] is not None, (field, kind, found["__typename"], "payload shows more")
                shown.setdefault(found["__typename"], set()).add(kind)
            payload_type = get_named_type(definition.type)
            for name, value in payload.items():
                type_name = get_named_type(payload_type.fields[name].type).name if name != "__typename" else None
                if value is None and type_name in NODE_VISIBILITY:
                    assert kind not in NODE_VISIBILITY[type_name], (field, kind, name, "payload hides more")
                    hidden.setdefault(type_name, set()).add(kind)
        if field == "logout":
            callers.forget()
    assert hidden == {"Member": {"orders integration", "points integration", "coupons integration"}}
    assert shown["Order"] >= {"integration", "orders integration"} and shown["Coupon"] >= {"coupons integration"}
