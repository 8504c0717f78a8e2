"""Abuse limits, each attacked: depth, aliases, tokens and cost are refused before anything runs
(no SQL beyond identifying the caller), every response reports its cost, connections are capped,
batches are short and run in order, bodies are small, requests are cut off in time, and production
answers no introspection and suggests no names."""
import asyncio
import uuid

import pytest

from server.wechat import DevelopmentWeChat
from tests.conftest import OPERATIONS, counting_statements, production_env

NOW = "2026-03-02T12:00:00+08:00"


def codes(result: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in result.get("errors", [])]


def messages(result: dict) -> str:
    return " | ".join(e["message"] for e in result.get("errors", []))


async def test_every_response_reports_its_cost_and_contract_queries_cost_little(api):
    token, _ = await api.login("costly", now=NOW)
    costs = {}
    for name, variables in [("MemberHome", {}), ("MyCoupons", {"first": 50}), ("PointHistory", {"first": 50}),
                            ("Tiers", {}), ("RewardCatalog", {"first": 50})]:
        result = await api.op(name, variables, token=token, now=NOW)
        costs[name] = result["extensions"]["cost"]["requestedQueryCost"]
        assert result["extensions"]["cost"]["maximumAvailable"] == 1000
    print(f"\ncontract query costs: {costs}")
    assert costs == {"MemberHome": 6, "MyCoupons": 104, "PointHistory": 104, "Tiers": 2, "RewardCatalog": 103}
    refused = await api.execute("{ nope }")
    assert refused["extensions"]["cost"] == {"requestedQueryCost": 0, "maximumAvailable": 1000}


async def test_a_query_over_the_cost_limit_is_refused_before_it_runs(api, database):
    token, _ = await api.login("greedy", now=NOW)
    greedy = "query { me { " + " ".join(
        f"c{n}: coupons(first: 100) {{ edges {{ node {{ id }} }} }}" for n in range(5)) + " } }"
    with counting_statements(database) as statements:
        result = await api.execute(greedy, token=token, now=NOW)
    assert codes(result) == ["QUERY_TOO_COMPLEX"] and result.get("data") is None
    assert result["extensions"]["cost"] == {"requestedQueryCost": 5 * (2 + 100 * 2) + 1, "maximumAvailable": 1000}
    assert statements.count <= 2  # the caller's session (+ SQLite's BEGIN): nothing of the query ran


@pytest.mark.parametrize("first", [101, -1, 10_000])
async def test_connections_ask_for_at_most_100(api, first):
    token, _ = await api.login("pager", now=NOW)
    result = await api.execute("query($n: Int!) { me { pointHistory(first: $n) { edges { cursor } } } }",
                               {"n": first}, token=token)
    assert codes(result) == ["BAD_USER_INPUT"] and result.get("data") is None


async def test_a_connection_without_first_is_refused(api):
    token, _ = await api.login("no-first", now=NOW)
    result = await api.execute("{ me { coupons { edges { cursor } } } }", token=token)
    assert "first" in result["errors"][0]["message"] and result.get("data") is None


async def test_depth_is_limited(api_with):
    """The schema has no cycles, so its deepest query has depth 4 (me → coupons → edges → node → id, the
    root fields at 0): the default limit (8) leaves room to grow; a lower one shows it bites."""
    five = "{ me { coupons(first: 1) { edges { node { id } } } } }"
    async with api_with(LOYALTY_MAX_QUERY_DEPTH="3") as shallow:
        token, _ = await shallow.login("deep", now=NOW)
        too_deep = await shallow.execute(five, token=token)
        assert too_deep.get("data") is None and "exceeds maximum operation depth of 3" in messages(too_deep)
        assert "errors" not in await shallow.execute("{ me { coupons(first: 1) { totalCount } } }", token=token)
    async with api_with() as default:
        token, _ = await default.login("deep", now=NOW)
        assert "errors" not in await default.execute(five, token=token)


async def test_aliases_and_tokens_are_limited(api):
    assert "errors" not in await api.execute("{ " + " ".join(f"t{n}: tiers {{ id }}" for n in range(15)) + " }")
    aliases = await api.execute("{ " + " ".join(f"t{n}: tiers {{ id }}" for n in range(16)) + " }")
    assert aliases.get("data") is None and "16 aliases found" in messages(aliases)
    tokens = await api.execute("{ tiers { " + " ".join(["id"] * 2100) + " } }")
    assert tokens.get("data") is None and "more than 2000 tokens" in messages(tokens)


async def test_the_whole_contract_document_fits_the_limits(api):
    document = "\n".join(p.read_text() for p in sorted(OPERATIONS.glob("*.graphql")))
    result = await api.execute(document, operation_name="Tiers")
    assert "errors" not in result


async def test_batches_run_in_order_and_are_short(api):
    token, _ = await api.login("batcher", now=NOW)
    check_in = {"query": 'mutation { checkIn(input: {idempotencyKey: "b1"}) { member { pointsBalance } } }'}
    home = {"query": "{ me { pointsBalance checkInStatus { checkedInToday } } }"}
    headers = {"Authorization": f"Bearer {token}", "X-Loyalty-Now": NOW}
    answers = (await api.http.post("/graphql", json=[home, check_in, home], headers=headers)).json()
    assert [a["data"] for a in answers] == [
        {"me": {"pointsBalance": 100, "checkInStatus": {"checkedInToday": False}}},
        {"checkIn": {"member": {"pointsBalance": 101}}},
        {"me": {"pointsBalance": 101, "checkInStatus": {"checkedInToday": True}}}]
    too_many = await api.http.post("/graphql", json=[home] * 11, headers=headers)
    assert too_many.status_code == 400 and "Too many operations" in too_many.text


async def test_bodies_over_the_limit_are_refused(api):
    padding = "x" * (64 * 1024)
    response = await api.http.post("/graphql", json={"query": "{ tiers { id } }", "variables": {"pad": padding}})
    assert response.status_code == 413 and response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"

    async def chunks():  # no Content-Length: counted as it arrives
        for _ in range(70):
            yield b" " * 1024

    streamed = await api.http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json"})
    assert streamed.status_code == 413


class SlowWeChat(DevelopmentWeChat):
    async def code_to_session(self, code: str):
        await asyncio.sleep(5)
        return await super().code_to_session(code)


async def test_a_request_is_cut_off_at_the_time_limit(api_with):
    async with api_with(wechat=SlowWeChat(), LOYALTY_REQUEST_TIMEOUT="1") as slow:
        response = await slow.post('mutation { loginWithWeChat(input: {code: "slow"}) { accessToken } }',
                                   headers={"X-Request-ID": "slow-request-1"})
    assert response.status_code == 504
    assert response.json()["errors"][0]["extensions"] == {"code": "TIMEOUT", "requestId": "slow-request-1"}
    assert response.headers["x-request-id"] == "slow-request-1"


async def test_request_ids_are_echoed_or_made(api):
    given = await api.post("{ tiers { id } }", headers={"X-Request-ID": "abc-12345"})
    made = await api.post("{ tiers { id } }", headers={"X-Request-ID": "bad id\nwith newline"})
    assert given.headers["x-request-id"] == "abc-12345"
    assert uuid.UUID(made.headers["x-request-id"])  # a header we cannot trust is replaced


async def test_production_answers_no_introspection_and_no_suggestions(api_with):
    async with api_with(**production_env()) as production:
        introspection = await production.execute("{ __schema { types { name } } }")
        assert introspection.get("data") is None and "introspection" in introspection["errors"][0]["message"].lower()
        typename = await production.execute("{ __typename }")
        assert typename["data"] == {"__typename": "Query"}
        typo = await production.execute("{ tier { id } }")
        assert "Did you mean" not in str(typo) and typo.get("data") is None
    async with api_with() as development:
        assert "errors" not in await development.execute("{ __schema { types { name } } }")
