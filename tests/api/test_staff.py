"""Staff, attacked: passwords hashed with Argon2id; one answer for a wrong user and a wrong password;
disabled accounts and logged-out sessions stop at once; each operation needs its permission; every
staff action and integration write lands in the audit log with before and after, which nothing in
the API can change."""
from datetime import datetime, timezone

from sqlalchemy import select, update

from api.core.ids import from_global_id
from api.schema import Mutation
from persistence.tables import audit_log, staff
from tests.api.member_views import MON, MemberViews
from tests.api.staff_helpers import PASSWORD, add_staff, staff_login, staff_token
from tests.conftest import add_api_key

views = MemberViews(MON)
ADJUST = """
mutation Adjust($input: AdjustPointsInput!) {
  adjustPoints(input: $input) { entry { kind delta description } member { pointsBalance } userErrors { code } }
}
"""
FIND = "query($no: String, $phone: String) { findMember(memberNo: $no, phone: $phone) { id memberNo phoneMasked } }"
AUDIT = """
query($subject: String) { auditLog(first: 50, subject: $subject) { edges { node {
  requestId actorKind actorName action subject outcome input before after } } } }
"""
WHO = "{ staffAccount { username role permissions } }"


def code(result: dict) -> str | None:
    return result["errors"][0]["extensions"]["code"] if "errors" in result else None


async def audit_entries(api, token: str, subject: str | None = None) -> list[dict]:
    result = await api.execute(AUDIT, {"subject": subject}, token=token)
    assert "errors" not in result, result
    return [e["node"] for e in result["data"]["auditLog"]["edges"]]


async def test_passwords_are_argon2id_and_wrong_ones_say_nothing_more(api, database):
    await add_staff(database, "alice", "SUPPORT_AGENT")
    async with database.transaction() as conn:
        stored = (await conn.execute(select(staff.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    wrong_password = await staff_login(api, "alice", "not the password at all")
    unknown_user = await staff_login(api, "mallory", "not the password at all")
    assert wrong_password == unknown_user == {"accessToken": None, "expiresAt": None, "userErrors": [
        {"field": None, "message": "Wrong username or password.", "code": "INVALID_CREDENTIALS", "retryAfter": None}]}
    ok = await staff_login(api, "ALICE ")  # usernames are matched as created, case-insensitively
    assert ok["userErrors"] == [] and ok["accessToken"]
    me = await api.execute(WHO, token=ok["accessToken"])
    assert me["data"]["staffAccount"] == {"username": "alice", "role": "SUPPORT_AGENT", "permissions": ["VIEW_MEMBERS"]}


async def test_a_disabled_account_or_a_logged_out_session_stops_at_once(api, database):
    token = await staff_token(api, database, "bobby", "ADMIN")
    other = (await staff_login(api, "bobby"))["accessToken"]
    assert (await api.execute("mutation { logout { userErrors { code } } }", token=token))["data"]
    assert code(await api.execute(WHO, token=token)) == "TOKEN_INVALID"
    assert code(await api.execute(WHO, token=other)) is None
    async with database.transaction() as conn:
        await conn.execute(update(staff).values(disabled_at=datetime.now(timezone.utc)))
    assert code(await api.execute(WHO, token=other)) == "TOKEN_INVALID"
    assert [e["code"] for e in (await staff_login(api, "bobby"))["userErrors"]] == ["INVALID_CREDENTIALS"]


async def test_staff_and_members_cannot_wear_each_others_tokens(api, database):
    staff_access = await staff_token(api, database, "carol", "ADMIN")
    member_access, _ = await api.login("member", now=MON)
    assert code(await api.execute("{ me { id } }", token=staff_access)) == "FORBIDDEN"
    assert code(await api.execute(WHO, token=member_access)) == "FORBIDDEN"
    assert code(await api.execute(WHO, api_key=api.api_key)) == "FORBIDDEN"


async def test_adjusting_points_is_audited_with_before_and_after(api, database):
    member_token, member = await api.login("adjusted", now=MON)
    supervisor = await staff_token(api, database, "dora", "SUPPORT_SUPERVISOR")
    agent = await staff_token(api, database, "eddie", "SUPPORT_AGENT")
    manager = await staff_token(api, database, "faye", "OPERATIONS_MANAGER")
    variables = {"input": {"memberId": member, "points": 250, "reason": "补偿：配送延误", "idempotencyKey": "comp-1"}}
    assert code(await api.execute(ADJUST, variables, token=agent, now=MON)) == "FORBIDDEN"
    adjusted = (await api.execute(ADJUST, variables, token=supervisor, now=MON,
                                  headers={"X-Request-ID": "ticket-4711-a"}))["data"]["adjustPoints"]
    assert adjusted == {"entry": {"kind": "ADJUSTMENT", "delta": 250, "description": "人工调整：补偿：配送延误"},
                        "member": {"pointsBalance": 350}, "userErrors": []}
    replay = (await api.execute(ADJUST, variables, token=supervisor, now=MON))["data"]["adjustPoints"]
    assert replay["member"]["pointsBalance"] == 350  # the same key: once
    too_much = {"input": {"memberId": member, "points": -1000, "reason": "扣回", "idempotencyKey": "take-1"}}
    assert (await api.execute(ADJUST, too_much, token=supervisor, now=MON))["data"]["adjustPoints"]["userErrors"] == [
        {"code": "INSUFFICIENT_POINTS"}]
    assert (await views.home(api, member_token))["pointsBalance"] == 350
    assert code(await api.execute(AUDIT, {"subject": None}, token=supervisor)) == "FORBIDDEN"
    subject = f"Member:{member_id(member)}"
    entries = await audit_entries(api, manager, subject)
    assert [(e["action"], e["outcome"], e["actorName"]) for e in entries] == [
        ("adjustPoints", "INSUFFICIENT_POINTS", "dora"), ("adjustPoints", "OK", "dora")]
    done = entries[1]
    assert (done["requestId"], done["actorKind"]) == ("ticket-4711-a", "STAFF")
    assert (done["before"]["pointsBalance"], done["after"]["pointsBalance"]) == (100, 350)
    assert done["input"] == variables["input"]


async def test_integration_writes_are_audited(api, database):
    _, member = await api.login("shopper", now=MON)
    order = {"memberId": member, "externalId": "audited-1", "amount": 12000, "channel": "APP", "paidAt": MON}
    await api.integration("RecordOrder", {"input": order}, now=MON)
    await api.integration("RecordOrder", {"input": {**order, "amount": 1}}, now=MON)  # the key reused: refused
    manager = await staff_token(api, database, "gustav", "OPERATIONS_MANAGER")
    entries = await audit_entries(api, manager, f"Member:{member_id(member)}")
    assert [(e["action"], e["outcome"], e["actorKind"], e["actorName"]) for e in entries] == [
        ("recordOrder", "IDEMPOTENCY_KEY_REUSED", "INTEGRATION", "tests"),
        ("recordOrder", "OK", "INTEGRATION", "tests")]
    assert (entries[1]["before"]["pointsBalance"], entries[1]["after"]["pointsBalance"]) == (100, 220)
    assert entries[1]["after"]["growthValue"] == 120


async def test_staff_sign_ins_are_audited_and_the_log_cannot_be_changed(api, database):
    await add_staff(database, "hank", "ADMIN")
    await staff_login(api, "hank", "wrong password here")
    token = (await staff_login(api, "hank"))["accessToken"]
    assert [(e["action"], e["outcome"], e["actorName"]) for e in await audit_entries(api, token)] == [
        ("staffLogin", "OK", "hank"), ("staffLogin", "INVALID_CREDENTIALS", "hank")]
    assert [e["action"] for e in await audit_entries(api, token)][0] == "auditLog"  # reading it is recorded too
    assert not [name for name in Mutation.__strawberry_definition__.fields if "audit" in name.name.lower()]
    async with database.transaction() as conn:
        assert "password" not in str((await conn.execute(select(audit_log.c.input))).all())


async def test_find_member_by_number_or_phone_is_audited(api, database):
    token, member = await api.login("findable", now=MON)
    await api.execute('mutation { bindPhoneNumber(input: {code: "13700137000"}) { userErrors { code } } }',
                      token=token, now=MON)
    number = (await views.home(api, token))["memberNo"]
    agent = await staff_token(api, database, "ivy1", "SUPPORT_AGENT")
    by_number = (await api.execute(FIND, {"no": number}, token=agent))["data"]["findMember"]
    by_phone = (await api.execute(FIND, {"phone": "13700137000"}, token=agent))["data"]["findMember"]
    assert by_number == by_phone == {"id": member, "memberNo": number, "phoneMasked": "137****7000"}
    assert (await api.execute(FIND, {"phone": "13700137001"}, token=agent))["data"]["findMember"] is None
    assert code(await api.execute(FIND, {"no": number}, token=token)) == "FORBIDDEN"
    admin = await staff_token(api, database, "jayden", "ADMIN")
    reads = await audit_entries(api, admin, f"Member:{member_id(member)}")
    assert [(e["action"], e["actorName"], e["input"]) for e in reads] == [
        ("findMember", "ivy1", {"memberNo": None, "phone": "137****7000"}),
        ("findMember", "ivy1", {"memberNo": number, "phone": None})]


async def test_api_keys_carry_scopes_and_admins_manage_them(api, database):
    _, member = await api.login("scoped", now=MON)
    orders_only = await add_api_key(database, "pos", ["orders:write"])
    order = {"memberId": member, "externalId": "scoped-1", "amount": 1000, "channel": "STORE", "paidAt": MON}
    coupon_use = {"memberId": member, "couponId": "Q291cG9uOjE=", "externalOrderId": "x", "orderAmount": 5000}
    offset = {"memberId": member, "externalOrderId": "y", "points": 100, "orderAmount": 10000}
    assert "errors" not in await api.op("RecordOrder", {"input": order}, api_key=orders_only, now=MON)
    assert code(await api.op("UseCoupon", {"input": coupon_use}, api_key=orders_only, now=MON)) == "FORBIDDEN"
    assert code(await api.op("RedeemPointsForOrder", {"input": offset}, api_key=orders_only, now=MON)) == "FORBIDDEN"
    hidden = await api.execute("query($id: ID!) { node(id: $id) { id } }", {"id": member}, api_key=orders_only)
    assert hidden["data"] == {"node": None}  # members:read is not one of its scopes
    admin = await staff_token(api, database, "kimi", "ADMIN")
    create = ("mutation($s: [String!]!) { createApiKey(input: {name: \"crm\", scopes: $s}) "
              "{ apiKey { id scopes } key userErrors { code } } }")
    bad = (await api.execute(create, {"s": ["orders:write", "root"]}, token=admin))["data"]["createApiKey"]
    assert bad["userErrors"] == [{"code": "INVALID_INPUT"}] and bad["key"] is None
    made = (await api.execute(create, {"s": ["members:read"]}, token=admin))["data"]["createApiKey"]
    assert made["apiKey"]["scopes"] == ["members:read"] and made["key"].startswith("lk_")
    seen = await api.execute("query($id: ID!) { node(id: $id) { id } }", {"id": member}, api_key=made["key"])
    assert seen["data"] == {"node": {"id": member}}
    revoke = "mutation($id: ID!) { revokeApiKey(input: {id: $id}) { apiKey { revokedAt } userErrors { code } } }"
    revoked = (await api.execute(revoke, {"id": made["apiKey"]["id"]}, token=admin))["data"]["revokeApiKey"]
    assert revoked["userErrors"] == [] and revoked["apiKey"]["revokedAt"]
    gone = await api.execute("query($id: ID!) { node(id: $id) { id } }", {"id": member}, api_key=made["key"])
    assert gone["data"] == {"node": None}
    again = (await api.execute(revoke, {"id": made["apiKey"]["id"]}, token=admin))["data"]["revokeApiKey"]
    assert again["userErrors"] == [{"code": "NOT_FOUND"}]
    manager = await staff_token(api, database, "leon", "OPERATIONS_MANAGER")
    assert code(await api.execute(create, {"s": ["members:read"]}, token=manager)) == "FORBIDDEN"


def member_id(global_id: str) -> int:
    return from_global_id(global_id)[1]
