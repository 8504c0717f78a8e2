"""Every malformed request gets a 4xx with a JSON body, a clear message and its X-Request-ID, changes
nothing, and is logged as one line, never a traceback. Out-of-range times in inputs are INVALID_INPUT."""
from __future__ import annotations

import json
import logging

import pytest

from tests.api.test_errors import assert_clean

MON = "2026-03-02T10:00:00+08:00"
QUERY = {"query": "{ tiers { id } }"}
JSON = {"Content-Type": "application/json"}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


# label → (method, path, body bytes or None, headers, status)
CASES = {
    "a body of null": ("POST", "/graphql", b"null", JSON, 400),
    "a body that is a number": ("POST", "/graphql", b"5", JSON, 400),
    "a body that is a string": ("POST", "/graphql", b'"query"', JSON, 400),
    "a body of true": ("POST", "/graphql", b"true", JSON, 400),
    "an empty batch": ("POST", "/graphql", b"[]", JSON, 400),
    "a batch inside a batch": ("POST", "/graphql", json.dumps([[QUERY]]).encode(), JSON, 400),
    "a batch holding a number and null": ("POST", "/graphql", json.dumps([QUERY, 5, None]).encode(), JSON, 400),
    "a batch holding a bad query": ("POST", "/graphql", json.dumps([QUERY, {"query": 5}]).encode(), JSON, 400),
    "a batch of eleven": ("POST", "/graphql", json.dumps([QUERY] * 11).encode(), JSON, 400),
    "invalid UTF-8": ("POST", "/graphql", b'{"query": "{ tiers { id } }", "x": "\xff\xfe\xc3"}', JSON, 400),
    "UTF-16": ("POST", "/graphql", json.dumps(QUERY).encode("utf-16"), JSON, 400),
    "JSON nested 20,000 deep": ("POST", "/graphql", nested(20_000), JSON, 400),
    "variables nested 20,000 deep": ("POST", "/graphql", b'{"query": "{ tiers { id } }", "variables": {"v": '
                                     + nested(20_000) + b"}}", JSON, 400),
    "a 50,000-digit integer": ("POST", "/graphql", b'{"query": "{ tiers { id } }", "variables": {"n": '
                               + b"9" * 50_000 + b"}}", JSON, 400),
    "not JSON": ("POST", "/graphql", b'{"query": ', JSON, 400),
    "an empty body": ("POST", "/graphql", b"", JSON, 400),
    "no query": ("POST", "/graphql", b"{}", JSON, 400),
    "operationName not a string": ("POST", "/graphql", b'{"query": "{ tiers { id } }", "operationName": 5}', JSON,
                                   400),
    "variables a list": ("POST", "/graphql", b'{"query": "{ tiers { id } }", "variables": []}', JSON, 400),
    "extensions a string": ("POST", "/graphql", b'{"query": "{ tiers { id } }", "extensions": "x"}', JSON, 400),
    "text/plain": ("POST", "/graphql", json.dumps(QUERY).encode(), {"Content-Type": "text/plain"}, 415),
    "no content type": ("POST", "/graphql", json.dumps(QUERY).encode(), {}, 415),
    "multipart": ("POST", "/graphql", b"--x\r\n\r\n--x--", {"Content-Type": "multipart/form-data; boundary=x"}, 415),
    "a content type that cannot be parsed": ("POST", "/graphql", b"{}", {"Content-Type": ";;;=\x01"}, 415),
    "GET with variables that are not JSON": ("GET", "/graphql?query=%7Btiers%7Bid%7D%7D&variables=%7B", None, {}, 400),
    "GET with variables nested deep": ("GET", "/graphql?query=%7Btiers%7Bid%7D%7D&variables=" + "%5B" * 5000
                                       + "%5D" * 5000, None, {}, 400),
    "PUT": ("PUT", "/graphql", json.dumps(QUERY).encode(), JSON, 405),
    "DELETE": ("DELETE", "/graphql", None, {}, 405),
    "an unknown path": ("GET", "/nope", None, {}, 404),
    "a body over the limit": ("POST", "/graphql", b'{"query": "' + b" " * 70_000 + b'{ tiers { id } }"}', JSON, 413),
    "a Content-Length that is not a number": ("POST", "/graphql", b"{}", {**JSON, "Content-Length": "lots"}, 413),
    "X-Loyalty-Now at year 1 with +23:59": ("POST", "/graphql", json.dumps(QUERY).encode(),
                                            {**JSON, "X-Loyalty-Now": "0001-01-01T00:00:00+23:59"}, 400),
    "X-Loyalty-Now at year 9999 with -23:59": ("POST", "/graphql", json.dumps(QUERY).encode(),
                                               {**JSON, "X-Loyalty-Now": "9999-12-31T23:59:59-23:59"}, 400),
    "X-Loyalty-Now without an offset": ("POST", "/graphql", json.dumps(QUERY).encode(),
                                        {**JSON, "X-Loyalty-Now": "2026-03-02T10:00:00"}, 400),
    "X-Loyalty-Now in 1900": ("POST", "/graphql", json.dumps(QUERY).encode(),
                              {**JSON, "X-Loyalty-Now": "1900-01-01T00:00:00+08:00"}, 400),
}


@pytest.mark.parametrize("label", list(CASES))
async def test_every_malformed_request_is_a_4xx_in_json_logged_in_one_line(api, label, caplog):
    method, path, body, headers, status = CASES[label]
    with caplog.at_level(logging.DEBUG):
        response = await api.http.request(method, path, content=body,
                                          headers={**headers, "X-Request-ID": "malformed-request-1"})
    assert response.status_code == status, (label, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["x-request-id"] == "malformed-request-1"
    [error] = response.json()["errors"]
    assert error["extensions"]["requestId"] == "malformed-request-1" and error["extensions"]["code"]
    assert len(error["message"]) > 10
    assert_clean(response)
    ours = [r for r in caplog.records if r.name.startswith("loyalty")]
    assert len(ours) == 1 and "malformed-request-1" in ours[0].getMessage(), [r.getMessage() for r in ours]
    assert not any(r.exc_info or r.exc_text for r in caplog.records)


@pytest.mark.parametrize("paid_at", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59",
                                     "1969-12-31T23:59:59+00:00", "2200-01-01T00:00:00+00:00"])
async def test_an_order_paid_out_of_range_is_invalid_input_and_records_nothing(api, paid_at):
    token, member = await api.login("far-off", now=MON)
    answer = await api.integration("RecordOrder", {"input": {"memberId": member, "externalId": f"far-{paid_at}",
                                                             "amount": 10000, "channel": "APP", "paidAt": paid_at}},
                                   now=MON)
    assert [(e["code"], e["field"]) for e in answer["recordOrder"]["userErrors"]] == [("INVALID_INPUT",
                                                                                       ["input", "paidAt"])]
    home = (await api.data("MemberHome", token=token, now=MON))["me"]
    assert home["pointsBalance"] == 100 and home["growthValue"] == 0


async def test_a_batch_stays_whole_and_runs_when_every_operation_is_sound(api):
    answers = await api.http.post("/graphql", json=[QUERY, QUERY])
    assert answers.status_code == 200 and [len(a["data"]["tiers"]) > 0 for a in answers.json()] == [True, True]
