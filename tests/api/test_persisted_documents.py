"""Persisted queries and trusted documents (`api.core.documents`), as Apollo Client, urql and a client
built from `operations/` send them: by hash alone, the server holding the text."""
from __future__ import annotations

import hashlib
import json

from graphql import parse, print_ast

from api.core.documents import operation_documents
from tests.conftest import OPERATIONS

MEMBER_APP = operation_documents((OPERATIONS / "member-app.graphql").read_text(encoding="utf-8"))
TIERS = MEMBER_APP["Tiers"]
AD_HOC = "query Ladder { tiers { code level } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def post(api, body: dict, **headers) -> tuple[int, dict]:
    response = await api.http.post("/graphql", content=json.dumps(body),
                                   headers={"content-type": "application/json", **headers})
    return response.status_code, response.json()


def codes(answer: dict) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors", [])]


async def test_a_registered_operation_by_its_hash_alone(api):
    status, by_text = await post(api, {"query": TIERS})
    assert status == 200 and by_text["data"]["tiers"][0]["code"] == "regular"
    # The hash of the text as written in operations/, and of graphql-js's print of it (what Apollo hashes).
    for digest in (sha(TIERS), sha(print_ast(parse(TIERS)))):
        status, answer = await post(api, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}})
        assert (status, answer["data"]) == (200, by_text["data"])
        status, answer = await post(api, {"documentId": f"sha256:{digest}"})
        assert (status, answer["data"]) == (200, by_text["data"])
    # With variables and a member's token, as the app sends MemberHome's neighbours.
    token, _ = await api.login("persisted")
    status, answer = await post(api, {"extensions": {"persistedQuery": {"version": 1,
                                                                       "sha256Hash": sha(MEMBER_APP["PointHistory"])}},
                                      "operationName": "PointHistory", "variables": {"first": 5}},
                                authorization=f"Bearer {token}")
    assert status == 200 and [e["node"]["kind"] for e in answer["data"]["me"]["pointHistory"]["edges"]] == ["SIGNUP"]


async def test_apq_unknown_hash_then_the_query_then_the_hash_alone(api):
    digest = sha(AD_HOC)
    status, answer = await post(api, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}})
    assert status == 200 and answer["errors"][0]["message"] == "PersistedQueryNotFound"
    assert codes(answer) == ["PERSISTED_QUERY_NOT_FOUND"] and "data" not in answer
    # The client falls back: the query with its hash, which the server keeps.
    status, answer = await post(api, {"query": AD_HOC,
                                      "extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}})
    assert status == 200 and answer["data"]["tiers"][0] == {"code": "regular", "level": 1}
    status, again = await post(api, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}})
    assert (status, again) == (200, answer)


async def test_persisted_requests_that_cannot_run(api):
    wrong = {"query": AD_HOC, "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(TIERS)}}}
    status, answer = await post(api, wrong)
    assert status == 400 and answer["errors"][0]["message"] == "provided sha does not match query"
    for persisted in ({"version": 2, "sha256Hash": sha(TIERS)}, {"version": 1}, "abc",
                      {"version": 1, "sha256Hash": 7}):
        status, answer = await post(api, {"extensions": {"persistedQuery": persisted}})
        assert status == 400 and codes(answer) == ["BAD_REQUEST"], persisted
    status, answer = await post(api, {"documentId": "sha256:" + "0" * 64})
    assert status == 200 and codes(answer) == ["PERSISTED_QUERY_NOT_FOUND"]
    status, answer = await post(api, {"documentId": f"sha256:{sha(TIERS)}", "query": TIERS})
    assert status == 400 and codes(answer) == ["BAD_REQUEST"]
    status, answer = await post(api, {"documentId": 12})
    assert status == 400 and codes(answer) == ["BAD_REQUEST"] and answer["errors"][0]["extensions"]["requestId"]


async def test_trusted_documents_only(api_with):
    async with api_with(LOYALTY_TRUSTED_DOCUMENTS_ONLY="true") as api:
        status, answer = await post(api, {"query": TIERS})
        assert status == 200 and answer["data"]["tiers"]
        status, answer = await post(api, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(TIERS)}}})
        assert status == 200 and answer["data"]["tiers"]
        # Anything else is refused, and APQ registers nothing.
        status, answer = await post(api, {"query": AD_HOC})
        assert status == 400 and codes(answer) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        status, answer = await post(api, {"query": AD_HOC,
                                          "extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(AD_HOC)}}})
        assert status == 400 and codes(answer) == ["PERSISTED_QUERY_NOT_IN_LIST"]
        status, answer = await post(api, {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": sha(AD_HOC)}}})
        assert status == 200 and codes(answer) == ["PERSISTED_QUERY_NOT_FOUND"]
        status, answer = await post(api, [{"query": TIERS}, {"query": AD_HOC}])
        assert status == 400 and codes(answer) == ["PERSISTED_QUERY_NOT_IN_LIST"]


def test_the_setting_is_a_boolean():
    from server.settings import Settings, SettingsError
    from tests.conftest import TEST_ENV
    assert Settings.from_env({**TEST_ENV, "LOYALTY_TRUSTED_DOCUMENTS_ONLY": "true"}).trusted_documents_only
    assert not Settings.from_env(TEST_ENV).trusted_documents_only
    try:
        Settings.from_env({**TEST_ENV, "LOYALTY_TRUSTED_DOCUMENTS_ONLY": "maybe"})
    except SettingsError as error:
        assert "LOYALTY_TRUSTED_DOCUMENTS_ONLY" in str(error)
    else:
        raise AssertionError("an unreadable boolean must stop the start")
