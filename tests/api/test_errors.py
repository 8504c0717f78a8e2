"""Bad requests get clean answers: a GraphQL error (or HTTP 400 for a broken request), never a stack
trace, SQL or a hint at the schema's field names."""
from __future__ import annotations

import base64
from datetime import datetime, timezone

import httpx
import pytest

from api.core.auth import MEMBER_AUDIENCE, issue_access_token

MONDAY = "2026-03-02T12:00:00+08:00"
# Matched as written (SQL keywords in capitals: "selection" is a GraphQL word) ...
LEAKS = ["Traceback", "SELECT", "INSERT INTO", "UPDATE ", 'File "', "/work/"]
# ... and in any case.
LEAKS_ANY_CASE = ["traceback", "sqlalchemy", "asyncpg", "sqlite3", "aiosqlite", "psycopg"]


def global_id(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def assert_clean(response: httpx.Response) -> None:
    body = response.text
    for leak in LEAKS:
        assert leak not in body, f"{leak!r} in response: {body[:500]}"
    for leak in LEAKS_ANY_CASE:
        assert leak not in body.lower(), f"{leak!r} in response: {body[:500]}"


def graphql_error(response: httpx.Response, code: str | None = None) -> dict:
    """A clean HTTP 200 answer carrying top-level errors (with `code` in their extensions if given)."""
    assert response.status_code == 200, response.text
    assert_clean(response)
    result = response.json()
    assert result.get("errors"), result
    if code is not None:
        assert [e.get("extensions", {}).get("code") for e in result["errors"]] == [code], result
    return result


@pytest.fixture
async def member(api):
    token, member_id = await api.login("err-member", now=MONDAY)
    return {"token": token, "id": member_id}


# --- malformed documents ---------------------------------------------------------------------

PAID_AT = "2026-03-02T10:00:00+08:00"
MALFORMED = {
    "syntax error": ("query { me { id ", None, "member"),
    "only a comment": ("# nothing here", None, None),
    "unknown root field": ("query { mee { id } }", None, None),
    "unknown member field": ("query { me { id nicknam } }", None, "member"),
    "unknown argument": ("query { tiers(foo: 1) { id } }", None, None),
    "literal of wrong type": ('query { rewards(first: "ten") { edges { cursor } } }', None, None),
    "variable of wrong type": ("query Q($f: Int!) { rewards(first: $f) { edges { cursor } } }", {"f": "ten"}, None),
    "missing required variable": ("query Q($f: Int!) { rewards(first: $f) { edges { cursor } } }", {}, None),
    "null for non-null variable": ("query Q($f: Int!) { rewards(first: $f) { edges { cursor } } }", {"f": None}, None),
    "Int over 32 bits": ("query { rewards(first: 99999999999) { edges { cursor } } }", None, None),
    "wrong enum value": ("query Q($s: CouponStatus) { me { coupons(first: 5, status: $s) { totalCount } } }",
                         {"s": "GONE"}, "member"),
    "malformed Date": ("mutation M($i: UpdateProfileInput!) { updateProfile(input: $i) { pointsAwarded } }",
                       {"i": {"birthday": "1990-13-45"}}, "member"),
    "malformed DateTime": ("mutation M($i: RecordOrderInput!) { recordOrder(input: $i) { userErrors { code } } }",
                           {"i": {"memberId": global_id("Member:1"), "externalId": "e1", "amount": 100,
                                  "channel": "APP", "paidAt": "next tuesday"}}, "integration"),
    "wrong channel": ("mutation M($i: RecordOrderInput!) { recordOrder(input: $i) { userErrors { code } } }",
                      {"i": {"memberId": global_id("Member:1"), "externalId": "e1", "amount": 100,
                             "channel": "TELEPHONE", "paidAt": PAID_AT}}, "integration"),
    "selection on a scalar": ("query { tiers { id { x } } }", None, None),
    "object without selection": ("query { tiers }", None, None),
    "unknown input field": ('mutation { checkIn(input: {idempotencyKy: "k"}) { userErrors { code } } }', None, "member"),
    "subscription": ("subscription { tiers { id } }", None, None),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_documents_are_clean_graphql_errors(api, database, member, case):
    query, variables, auth = MALFORMED[case]
    kw = {"token": member["token"]} if auth == "member" else {"api_key": api.api_key} if auth == "integration" else {}
    before = (await api.data("MemberHome", token=member["token"], now=MONDAY))["me"]
    result = graphql_error(await api.post(query, variables, now=MONDAY, **kw))
    assert result.get("data") is None, result
    assert (await api.data("MemberHome", token=member["token"], now=MONDAY))["me"] == before


@pytest.mark.parametrize("body, content", [
    (None, b"{not json"),
    ({"variables": {}}, None),
    ({"query": 5}, None),
    ({"query": "{ tiers { id } }", "variables": "x"}, None),
    ({"query": "query A { tiers { id } }", "operationName": "B"}, None),
], ids=["not json", "no query", "query not a string", "variables not an object", "unknown operationName"])
async def test_broken_requests_are_clean_400s(api, body, content):
    if content is not None:
        response = await api.http.post("/graphql", content=content, headers={"Content-Type": "application/json"})
    else:
        response = await api.http.post("/graphql", json=body)
    assert response.status_code == 400, response.text
    assert_clean(response)


async def test_queries_over_get_run_and_mutations_over_get_are_refused_cleanly(api):
    response = await api.http.get("/graphql", params={"query": "{ tiers { id } }"})
    assert response.status_code == 200 and response.json()["data"]["tiers"]
    response = await api.http.get("/graphql", params={"query": 'mutation { checkIn(input: {idempotencyKey: "k"}) '
                                                               "{ userErrors { code } } }"})
    assert response.status_code == 405 and "checkIn" not in response.text
    assert_clean(response)


# --- field suggestions -------------------------------------------------------------------------

@pytest.mark.parametrize("query, needs_member", [
    ("query { me { pointsBalanse } }", True),
    ("query { me { coupons(first: 1) { edges { node { titel } } } } }", True),
    ("query { tier { id } }", False),
    ("query { tiers { benefit { id } } }", False),
    ("query { rewards(first: 1) { edges { node { pointCost } } } }", False),
    ('mutation { checkIn(input: {idempotencyKey: "k"}) { chekIn { date } } }', True),
])
async def test_unknown_fields_get_no_suggestions(api, member, query, needs_member):
    result = graphql_error(await api.post(query, token=member["token"] if needs_member else None))
    assert result["errors"][0]["message"].startswith("Cannot query field"), result
    assert "did you mean" not in str(result).lower(), result


@pytest.mark.parametrize("query, variables", [
    ("query { rewards(firs: 1) { edges { cursor } } }", None),
    ('query { node(id: "x") { ... on Membr { id } } }', None),
    ("query { tiers { ...F } } fragment F on Tiers { id }", None),
    ('mutation { checkIn(input: {idempotencyKy: "k"}) { userErrors { code } } }', None),
    ("query Q($s: CouponStatus) { me { coupons(first: 1, status: $s) { totalCount } } }", {"s": "AVAILABL"}),
], ids=["argument", "type condition", "fragment type", "input field", "enum value"])
async def test_no_suggestion_of_any_kind(api, member, query, variables):
    result = graphql_error(await api.post(query, variables, token=member["token"]))
    assert "did you mean" not in str(result).lower(), result


# --- node(id:) with malformed and unknown IDs ----------------------------------------------------

MALFORMED_IDS = {
    "empty": "",
    "not base64": "@@@",
    "base64 of garbage": global_id("garbage"),
    "no type": global_id(":1"),
    "non-numeric key": global_id("Member:abc"),
    "negative key": global_id("Member:-1"),
    "two keys": global_id("Member:1:2"),
    "space in key": global_id("Member: 1"),
    "key over 18 digits": global_id("Member:" + "9" * 19),
    "not UTF-8": base64.b64encode(b"\xff\xfe:1").decode(),
}


@pytest.mark.parametrize("label", list(MALFORMED_IDS))
async def test_node_with_a_malformed_id_is_bad_user_input(api, member, label):
    response = await api.post("query Q($id: ID!) { node(id: $id) { id } }", {"id": MALFORMED_IDS[label]},
                              token=member["token"])
    result = graphql_error(response, "BAD_USER_INPUT")
    assert result["data"] == {"node": None}


async def test_node_with_a_unicode_digit_key_is_bad_user_input(api, member):
    response = await api.post("query Q($id: ID!) { node(id: $id) { id } }", {"id": global_id("Member:²")},
                              token=member["token"])
    graphql_error(response, "BAD_USER_INPUT")


async def test_unicode_digit_keys_never_leak(api, member):
    """Whatever the answer to such an ID, it is clean (today: a masked internal error)."""
    for query, variables, kw in [
        ("query Q($id: ID!) { node(id: $id) { id } }", {"id": global_id("Member:²")}, {"token": member["token"]}),
        ('mutation M($id: ID!) { redeemReward(input: {rewardId: $id, idempotencyKey: "k"}) { userErrors { code } } }',
         {"id": global_id("Reward:²")}, {"token": member["token"]}),
    ]:
        response = await api.post(query, variables, now=MONDAY, **kw)
        assert response.status_code == 200
        assert_clean(response)


async def test_mutation_with_a_unicode_digit_id_is_invalid_input(api, member):
    data = await api.data("RedeemReward", {"rewardId": global_id("Reward:²"), "idempotencyKey": "k"},
                          token=member["token"], now=MONDAY)
    assert [e["code"] for e in data["redeemReward"]["userErrors"]] == ["INVALID_INPUT"]


@pytest.mark.parametrize("text", ["Foo:1", "Member:987654", "Tier:987654", "Member:999999999999999999"])
async def test_node_with_an_unknown_id_is_null(api, member, text):
    result = await api.execute("query Q($id: ID!) { node(id: $id) { id } }", {"id": global_id(text)},
                               token=member["token"])
    assert result["data"] == {"node": None} and "errors" not in result


async def test_malformed_ids_in_mutation_inputs_are_invalid_input(api, member):
    redeemed = await api.data("RedeemReward", {"rewardId": "garbage", "idempotencyKey": "k1"},
                              token=member["token"], now=MONDAY)
    assert [e["code"] for e in redeemed["redeemReward"]["userErrors"]] == ["INVALID_INPUT"]
    order = await api.integration("RecordOrder", {"input": {
        "memberId": "garbage", "externalId": "e-bad-id", "amount": 10000, "channel": "APP", "paidAt": PAID_AT}},
        now=MONDAY)
    assert [e["code"] for e in order["recordOrder"]["userErrors"]] == ["INVALID_INPUT"]
    used = await api.integration("UseCoupon", {"input": {
        "memberId": member["id"], "couponId": "%%%", "externalOrderId": "e-bad-coupon", "orderAmount": 5000}},
        now=MONDAY)
    assert [e["code"] for e in used["useCoupon"]["userErrors"]] == ["INVALID_INPUT"]
    # Nothing happened: sign-up points only, and the 新人礼券 still available.
    me = (await api.data("MyCoupons", {"first": 5}, token=member["token"], now=MONDAY))["me"]
    assert [e["node"]["status"] for e in me["coupons"]["edges"]] == ["AVAILABLE"]
    home = (await api.data("MemberHome", token=member["token"], now=MONDAY))["me"]
    assert home["pointsBalance"] == 100


# --- cursors and page sizes --------------------------------------------------------------------

CONNECTIONS = {
    "MyCoupons": ("query Q($first: Int!, $after: String) { me { coupons(first: $first, after: $after) "
                  "{ totalCount edges { cursor } } } }", ["me", "coupons"], 1),
    "PointHistory": ("query Q($first: Int!, $after: String) { me { pointHistory(first: $first, after: $after) "
                     "{ edges { cursor } } } }", ["me", "pointHistory"], 1),
    "RewardCatalog": ("query Q($first: Int!, $after: String) { rewards(first: $first, after: $after) "
                      "{ edges { cursor } } }", ["rewards"], 2),
}
BAD_CURSORS = {
    "garbage": "garbage",
    "not base64": "%%%",
    "empty": "",
    "base64 of text": cursor("abc"),
    "too many parts": cursor("1:2:3"),
}


@pytest.mark.parametrize("connection", list(CONNECTIONS))
@pytest.mark.parametrize("label", list(BAD_CURSORS))
async def test_bad_cursors_are_bad_user_input(api, member, connection, label):
    query, path, _ = CONNECTIONS[connection]
    response = await api.post(query, {"first": 5, "after": BAD_CURSORS[label]}, token=member["token"])
    result = graphql_error(response, "BAD_USER_INPUT")
    assert result["errors"][0]["path"] == path


async def test_a_cursor_of_another_list_is_bad_user_input(api, member):
    reward_cursor = (await api.data("RewardCatalog", {"first": 1}))["rewards"]["edges"][0]["cursor"]
    coupon_cursor = (await api.data("MyCoupons", {"first": 1}, token=member["token"]))["me"]["coupons"]["edges"][0]["cursor"]
    query, _, _ = CONNECTIONS["MyCoupons"]
    graphql_error(await api.post(query, {"first": 5, "after": reward_cursor}, token=member["token"]), "BAD_USER_INPUT")
    query, _, _ = CONNECTIONS["RewardCatalog"]
    graphql_error(await api.post(query, {"first": 5, "after": coupon_cursor}), "BAD_USER_INPUT")


def huge_cursor(parts: int) -> str:
    return cursor(":".join(["9" * 25] * parts))


@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_cursors_with_huge_numbers_never_leak(api, member, connection):
    query, _, parts = CONNECTIONS[connection]
    response = await api.post(query, {"first": 5, "after": huge_cursor(parts)}, token=member["token"])
    graphql_error(response)


@pytest.mark.parametrize("connection", list(CONNECTIONS))
async def test_cursors_with_huge_numbers_are_bad_user_input(api, member, connection):
    query, _, parts = CONNECTIONS[connection]
    response = await api.post(query, {"first": 5, "after": huge_cursor(parts)}, token=member["token"])
    graphql_error(response, "BAD_USER_INPUT")


@pytest.mark.parametrize("connection", list(CONNECTIONS))
@pytest.mark.parametrize("first", [101, -1, 1000])
async def test_first_out_of_range_is_bad_user_input(api, member, connection, first):
    query, path, _ = CONNECTIONS[connection]
    result = graphql_error(await api.post(query, {"first": first}, token=member["token"]), "BAD_USER_INPUT")
    assert result["errors"][0]["message"].startswith(f"{path[-1]}: first must be between 0 and 100")  # refused before it ran
    assert result["data"] is None


@pytest.mark.parametrize("connection", list(CONNECTIONS))
@pytest.mark.parametrize("first", [0, 100])
async def test_first_at_the_limits_is_accepted(api, member, connection, first):
    query, path, _ = CONNECTIONS[connection]
    result = await api.execute(query, {"first": first}, token=member["token"])
    assert "errors" not in result, result
    node = result["data"]
    for key in path:
        node = node[key]
    # The member has 1 coupon and 1 ledger entry; the catalog has 5 rewards.
    expected = {"MyCoupons": 1, "PointHistory": 1, "RewardCatalog": 5}[connection]
    assert len(node["edges"]) == min(first, expected)


# --- the test clock header ---------------------------------------------------------------------

@pytest.mark.parametrize("header", ["yesterday", "2026-03-02T10:00:00", "2026-03-02", "", "2026-13-01T00:00:00+08:00",
                                    "1772416800", "2026-03-02T10:00:00+08:00; DROP TABLE members"])
async def test_malformed_now_header_is_http_400_and_changes_nothing(api, member, header):
    response = await api.post('mutation { checkIn(input: {idempotencyKey: "clock"}) { userErrors { code } } }',
                              token=member["token"], now=header)
    assert response.status_code == 400, response.text
    assert_clean(response)
    home = (await api.data("MemberHome", token=member["token"], now=MONDAY))["me"]
    assert home["checkInStatus"]["checkedInToday"] is False and home["pointsBalance"] == 100


# --- internal errors are masked --------------------------------------------------------------------

async def test_token_of_a_member_that_does_not_exist_never_leaks(api, settings):
    token, _ = issue_access_token(settings.secret_key, MEMBER_AUDIENCE, "no-such-session", datetime.now(timezone.utc),
                                  3600)
    response = await api.post("query { me { id pointsBalance } }", token=token)
    result = graphql_error(response)
    assert result.get("data") is None


async def test_token_of_a_member_that_does_not_exist_is_unauthenticated(api, settings):
    token, _ = issue_access_token(settings.secret_key, MEMBER_AUDIENCE, "no-such-session", datetime.now(timezone.utc),
                                  3600)
    graphql_error(await api.post("query { me { id } }", token=token), "TOKEN_INVALID")


async def test_overlong_strings_are_refused_without_leaks(api, member):
    """Values longer than their columns are refused as input, never sent to the database to fail there."""
    checked_in = await api.data("CheckIn", {"idempotencyKey": "k" * 500}, token=member["token"], now=MONDAY)
    assert [e["code"] for e in checked_in["checkIn"]["userErrors"]] == ["INVALID_INPUT"]
    order = await api.integration("RecordOrder", {"input": {
        "memberId": member["id"], "externalId": "x" * 500, "amount": 10000, "channel": "APP", "paidAt": PAID_AT}},
        now=MONDAY)
    assert [e["code"] for e in order["recordOrder"]["userErrors"]] == ["INVALID_INPUT"]
    profile = await api.data("UpdateProfile", {"input": {"nickname": "名" * 5000}}, token=member["token"], now=MONDAY)
    assert [e["code"] for e in profile["updateProfile"]["userErrors"]] == ["INVALID_INPUT"]
    home = (await api.data("MemberHome", token=member["token"], now=MONDAY))["me"]
    assert home["pointsBalance"] == 100 and home["nickname"] is None


async def test_a_field_failing_beside_others_that_share_a_loader_is_answered(api, member):
    """graphql-core cancels the siblings of a failed field; the ones waiting elsewhere on the same loader
    (the tier ladder) must still get their answer, and the request its error (the fuzzer found a 500)."""
    query = '{ me { tier { code } pointHistory(first: 5, after: "bad") { edges { cursor } } } tiers { code } }'
    result = graphql_error(await api.post(query, token=member["token"], now=MONDAY), "BAD_USER_INPUT")
    assert result["data"] is None and result["errors"][0]["path"] == ["me", "pointHistory"]
