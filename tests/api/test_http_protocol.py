"""GraphQL over HTTP as the graphql-over-http spec has it, through the app: GET for queries (never
mutations), application/graphql-response+json with the spec's status codes when the client accepts it,
application/json with a 200 otherwise, credentials refusals a client can act on, every transport refusal a
GraphQL-shaped JSON error with a code and the request id, CORS by an allow-list, DateTime to the
millisecond."""
from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from api.core.auth import MEMBER_AUDIENCE, issue_access_token
from server.settings import Settings, SettingsError

GRAPHQL_RESPONSE = "application/graphql-response+json"
MILLISECONDS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d$")


def accept(kind: str) -> dict:
    return {"accept": kind}


async def test_get_runs_queries_with_url_encoded_variables_and_never_mutations(api):
    token, _ = await api.login("get-queries")
    response = await api.http.get("/graphql", params={
        "query": "query Page($first: Int!) { me { pointHistory(first: $first) { edges { node { kind } } } } }",
        "variables": json.dumps({"first": 5})}, headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json()["data"]["me"]["pointHistory"]["edges"][0]["node"]["kind"] == "SIGNUP"
    assert response.headers["cache-control"] == "private, no-store"   # a member's data: never in a shared cache

    mutation = await api.http.get("/graphql", params={"query": 'mutation { checkIn(input: {idempotencyKey: "g"}) '
                                                               "{ userErrors { code } } }"},
                                  headers={"authorization": f"Bearer {token}"})
    assert mutation.status_code == 405 and "POST" in mutation.headers["allow"]
    assert mutation.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    home = await api.http.post("/graphql", json={"query": "{ me { checkInStatus { checkedInToday } } }"},
                               headers={"authorization": f"Bearer {token}"})
    assert home.json()["data"]["me"]["checkInStatus"]["checkedInToday"] is False  # the GET changed nothing


async def test_a_registered_public_query_by_get_may_be_cached_by_a_cdn(api):
    text = next(text for text in api.documents.values() if text.startswith("query Tiers"))
    document_id = "sha256:" + hashlib.sha256(text.encode()).hexdigest()
    response = await api.http.get("/graphql", params={"documentId": document_id})
    assert response.status_code == 200 and response.json()["data"]["tiers"]
    assert response.headers["cache-control"].startswith("public, max-age=")
    assert "Accept" in response.headers["vary"]


@pytest.mark.parametrize("query, variables", [
    ("{ me { memberNo ", None),                                  # does not parse
    ("{ me { noSuchField } }", None),                            # does not validate
    ("query($n: Int!) { rewards(first: $n) { edges { cursor } } }", {"n": "ten"}),  # variables do not fit
])
async def test_a_request_that_cannot_run_is_a_400_without_data_under_graphql_response_json(api, query, variables):
    body = {"query": query, "variables": variables}
    spec = await api.http.post("/graphql", json=body, headers=accept(GRAPHQL_RESPONSE))
    assert spec.status_code == 400
    assert spec.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert "data" not in spec.json() and spec.json()["errors"][0]["extensions"]["code"]
    legacy = await api.http.post("/graphql", json=body, headers=accept("application/json"))
    assert legacy.status_code == 200 and legacy.headers["content-type"].startswith("application/json")
    assert legacy.json()["errors"]


@pytest.mark.parametrize("header", [None, "*/*", "application/json",
                                    "application/json, application/graphql-response+json;q=0.9"])
async def test_clients_that_do_not_ask_for_graphql_response_json_get_application_json(api, header):
    response = await api.http.post("/graphql", json={"query": "{ me { memberNo } }"},
                                   headers={} if header is None else accept(header))
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/json")
    assert response.json()["data"] is None
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_credentials_refusals_have_their_own_codes_and_a_401(api):
    token, _ = await api.login("auth-codes")
    query = {"query": "{ me { memberNo } }"}

    async def refusal(headers):
        response = await api.http.post("/graphql", json=query, headers={**accept(GRAPHQL_RESPONSE), **headers})
        assert response.status_code == 401, response.text
        assert "data" not in response.json()
        return response.json()["errors"][0]["extensions"]["code"], response.headers["www-authenticate"]

    assert (await refusal({}))[0] == "UNAUTHENTICATED"
    assert (await refusal({"authorization": "Bearer not-a-token"}))[0] == "TOKEN_INVALID"
    assert (await refusal({"authorization": "Basic abc"}))[0] == "TOKEN_INVALID"
    assert (await refusal({"x-api-key": "lk_unknown"}))[0] == "API_KEY_INVALID"
    ok = await api.http.post("/graphql", json=query, headers={**accept(GRAPHQL_RESPONSE),
                                                              "authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and ok.json()["data"]["me"]["memberNo"]
    await api.execute("mutation { logout { userErrors { code } } }", token=token)
    code, challenge = await refusal({"authorization": f"Bearer {token}"})
    assert code == "TOKEN_INVALID" and 'error="invalid_token"' in challenge


async def test_an_expired_token_says_refresh(api, settings):
    session = await api.sign_in("expired")
    sid = jwt.decode(session["accessToken"], options={"verify_signature": False})["sid"]
    token = issue_access_token(settings.secret_key, MEMBER_AUDIENCE, sid,
                               datetime.now(timezone.utc) - timedelta(minutes=16), 900)[0]
    response = await api.http.post("/graphql", json={"query": "{ me { memberNo } }"},
                                   headers={**accept(GRAPHQL_RESPONSE), "authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"
    assert "expired" in response.headers["www-authenticate"]
    legacy = await api.http.post("/graphql", json={"query": "{ me { memberNo } }"},
                                 headers={"authorization": f"Bearer {token}"})
    assert legacy.status_code == 200 and legacy.json()["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


@pytest.mark.parametrize("request_kwargs, status", [
    ({"method": "PUT", "json": {"query": "{ tiers { code } }"}}, 405),
    ({"method": "POST", "content": b"query=%7B%7D", "headers": {"content-type": "text/plain"}}, 415),
    ({"method": "POST", "content": b"{not json", "headers": {"content-type": "application/json"}}, 400),
    ({"method": "POST", "content": b"[" + b'{"query": "{ tiers { code } }"},' * 11 + b"{}]",
      "headers": {"content-type": "application/json"}}, 400),
])
async def test_transport_refusals_are_graphql_shaped_json_with_a_code_and_the_request_id(api, request_kwargs, status):
    kwargs = dict(request_kwargs)
    method = kwargs.pop("method")
    headers = {**kwargs.pop("headers", {}), "accept": GRAPHQL_RESPONSE, "x-request-id": "client-chosen-id-1"}
    response = await api.http.request(method, "/graphql", headers=headers, **kwargs)
    assert response.status_code == status
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    error = response.json()["errors"][0]
    assert error["message"] and error["extensions"]["code"]
    assert error["extensions"]["requestId"] == "client-chosen-id-1" == response.headers["x-request-id"]


async def test_a_query_string_is_held_to_the_body_limit(api_with):
    async with api_with(LOYALTY_MAX_BODY_BYTES="2048") as api:
        response = await api.http.get("/graphql", params={"query": "{ tiers { code } }",
                                                          "variables": json.dumps({"x": "y" * 3000})},
                                      headers={"accept": GRAPHQL_RESPONSE})
        assert response.status_code == 414 and response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
        assert response.json()["errors"][0]["extensions"]["code"] == "URI_TOO_LONG"
        assert (await api.http.get("/graphql", params={"query": "{ tiers { code } }"})).status_code == 200


async def test_a_batch_of_ten_runs(api):
    batch = [{"query": "query T($n: Int!) { rewards(first: $n) { edges { cursor } } }", "variables": {"n": n}}
             for n in range(1, 11)]
    response = await api.http.post("/graphql", json=batch)
    assert response.status_code == 200
    assert [len(item["data"]["rewards"]["edges"]) <= n for item, n in zip(response.json(), range(1, 11))] == [True] * 10


async def test_date_times_are_written_to_the_millisecond_and_read_in_any_precision(api):
    token, member_id = await api.login("datetimes")
    history = (await api.op("PointHistory", {"first": 5}, token=token))["data"]["me"]["pointHistory"]["edges"]
    for edge in history:
        assert MILLISECONDS.match(edge["node"]["occurredAt"]), edge
        datetime.fromisoformat(edge["node"]["occurredAt"])
    for paid_at in ("2026-11-30T10:00:00Z", "2026-11-30T18:00:00.123456789+08:00", "2026-11-30T18:00+08:00",
                    "2026-11-30T18:00:00.5+08:00"):
        result = await api.op("RecordOrder", {"input": {"memberId": member_id, "externalId": f"dt-{paid_at}",
                                                        "amount": 1000, "channel": "APP", "paidAt": paid_at}},
                              api_key=api.api_key)
        assert result["data"]["recordOrder"]["userErrors"] == [], (paid_at, result)
    no_offset = await api.op("RecordOrder", {"input": {"memberId": member_id, "externalId": "dt-naive",
                                                       "amount": 1000, "channel": "APP",
                                                       "paidAt": "2026-11-30T10:00:00"}}, api_key=api.api_key)
    refused = no_offset["data"]["recordOrder"]["userErrors"]
    assert [error["code"] for error in refused] == ["INVALID_INPUT"] and "offset" in refused[0]["message"]


def test_cors_origins_setting():
    assert Settings.from_env({"LOYALTY_CORS_ORIGINS": "https://console.example.com, http://localhost:5173"}) \
        .cors_origins == ("https://console.example.com", "http://localhost:5173")
    assert Settings.from_env({}).cors_origins == ()
    with pytest.raises(SettingsError, match="not an origin"):
        Settings.from_env({"LOYALTY_CORS_ORIGINS": "https://console.example.com/path"})
    production = {"LOYALTY_ENV": "production", "LOYALTY_CORS_ORIGINS": "*"}
    with pytest.raises(SettingsError, match="LOYALTY_CORS_ORIGINS must list origins"):
        Settings.from_env(production)


async def test_cors_preflight_and_answers_follow_the_allow_list(api_with):
    async with api_with(LOYALTY_CORS_ORIGINS="https://console.example.com") as api:
        await cors_follows_the_allow_list(api)


async def cors_follows_the_allow_list(api):
    preflight = await api.http.options("/graphql", headers={
        "origin": "https://console.example.com", "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, x-request-id"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "https://console.example.com"
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    answer = await api.http.post("/graphql", json={"query": "{ tiers { code } }"},
                                 headers={"origin": "https://console.example.com"})
    assert answer.headers["access-control-allow-origin"] == "https://console.example.com"
    assert "x-request-id" in answer.headers["access-control-expose-headers"].lower()
    for origin, headers in (("https://evil.example.com", "content-type"),
                            ("https://console.example.com", "x-api-key")):  # integration keys stay on servers
        refused = await api.http.options("/graphql", headers={"origin": origin, "access-control-request-method": "POST",
                                                              "access-control-request-headers": headers})
        assert refused.status_code == 403 and "access-control-allow-origin" not in refused.headers
        assert refused.json()["errors"][0]["extensions"]["code"] == "CORS_REFUSED"
    other = await api.http.post("/graphql", json={"query": "{ tiers { code } }"},
                                headers={"origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers
