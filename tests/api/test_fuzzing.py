"""Fuzzing: hypothesis-graphql writes queries and mutations from the schema (valid ones, with arguments
from the whole range of each type, and invalid ones), sent to the app as a member and as an integration
key with every scope. No answer is a 5xx, no error is an unmasked or internal one, and the books agree
afterwards (the `database` fixture runs `loyalty verify` when the test ends). A bounded number of
examples per run; each run draws new ones."""
from __future__ import annotations

from datetime import timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, mutations, nodes, queries

from api.schema import schema
from tests.api.test_errors import assert_clean

EXAMPLES = 120
MON = "2026-03-02T10:00:00+08:00"
ZONES = st.sampled_from([timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=23, minutes=59)),
                         timezone(timedelta(hours=-23, minutes=-59))])
SCALARS = {
    "DateTime": st.one_of(st.datetimes(timezones=ZONES).map(lambda moment: moment.isoformat()),
                          st.datetimes().map(lambda moment: moment.isoformat()), st.text(max_size=40)).map(nodes.String),
    "Date": st.one_of(st.dates().map(str), st.text(max_size=20)).map(nodes.String),
}
# What an answer's errors may say: refusals and expected errors, never an internal one.
EXPECTED = {"BAD_USER_INPUT", "GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED", "UNAUTHENTICATED", "TOKEN_INVALID",
            "FORBIDDEN", "QUERY_TOO_COMPLEX", None}


def drawn(strategy, count: int) -> list[str]:
    """`count` documents drawn from `strategy` (hypothesis generates; the event loop sends them)."""
    found: list[str] = []

    @settings(max_examples=count, database=None, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(document):
        found.append(document)

    collect()
    return found


def check(answer, document: str) -> None:
    assert answer.status_code < 500, (answer.status_code, document, answer.text[:500])
    assert_clean(answer)
    if answer.status_code == 200:
        for item in answer.json() if isinstance(answer.json(), list) else [answer.json()]:
            codes = {error.get("extensions", {}).get("code") for error in item.get("errors", [])}
            assert codes <= EXPECTED, (codes, document, item)


@pytest.mark.parametrize("caller", ["member", "integration"])
async def test_generated_documents_never_fail_the_service(api, caller):
    token, _ = await api.login("fuzzed", now=MON)
    credentials = {"token": token} if caller == "member" else {"api_key": api.api_key}
    graphql_schema = schema._schema
    documents = (drawn(queries(graphql_schema, custom_scalars=SCALARS), EXAMPLES)
                 + drawn(mutations(graphql_schema, custom_scalars=SCALARS), EXAMPLES)
                 + drawn(queries(graphql_schema, custom_scalars=SCALARS, mode=Mode.NEGATIVE), EXAMPLES // 2))
    for document in documents:
        check(await api.post(document, now=MON, **credentials), document)
