"""Watching the service: /metrics in Prometheus's format, /readyz, and one log line a request (JSON in
production) that never holds a token, a key or a phone number."""
from __future__ import annotations

import io
import json
import logging
from datetime import datetime

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from server.app import create_app
from server.logs import configure_logging
from server.services import Services
from server.settings import Settings
from server.wechat import DevelopmentWeChat
from server.worker import run_jobs_once
from tests.conftest import TEST_ENV

MON = "2026-03-02T10:00:00+08:00"


def samples(page: str) -> dict[tuple[str, tuple], float]:
    found = {}
    for family in text_string_to_metric_families(page):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(page: dict, name: str, **labels) -> float:
    return page.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_metrics_count_operations_by_name_and_outcome(api, database, program):
    before = samples((await api.http.get("/metrics")).text)
    token, _ = await api.login("watched", now=MON)
    await api.data("MemberHome", token=token, now=MON)
    await api.data("CheckIn", {"idempotencyKey": "w1"}, token=token, now=MON)
    again = await api.data("CheckIn", {"idempotencyKey": "w2"}, token=token, now=MON)
    assert again["checkIn"]["userErrors"][0]["code"] == "ALREADY_CHECKED_IN"
    await api.execute("query Invented { tiers { code } }")
    await api.execute("{ me { id } }")
    await api.http.post("/graphql", content=b"null", headers={"Content-Type": "application/json"})
    await run_jobs_once(database, program, datetime.fromisoformat("2027-06-01T00:00:00+08:00"))
    response = await api.http.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = samples(response.text)

    def grew(name, **labels) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("loyalty_operations_total", operation="MemberHome", outcome="ok") == 1
    assert grew("loyalty_operations_total", operation="CheckIn", outcome="ok") == 1
    assert grew("loyalty_operations_total", operation="CheckIn", outcome="user_error") == 1
    assert grew("loyalty_operations_total", operation="other", outcome="ok") == 1      # a name of the caller's own
    assert grew("loyalty_operations_total", operation="anonymous", outcome="rejected") == 1
    assert grew("loyalty_user_errors_total", code="ALREADY_CHECKED_IN") == 1
    assert grew("loyalty_http_refusals_total", status="400") == 1
    assert grew("loyalty_operation_duration_seconds_count", operation="MemberHome") == 1
    assert grew("loyalty_sql_statements_per_request_count") >= 7
    assert grew("loyalty_job_runs_total", job="points_expiry", result="done") == 1
    assert value(after, "loyalty_job_last_completed_timestamp_seconds", job="points_expiry") > 0
    assert ("loyalty_db_connections_in_use", ()) in after


async def test_rate_limit_refusals_are_counted(api_with):
    async with api_with(LOYALTY_RATE_LIMITS="login_code=1/300") as limited:
        before = samples((await limited.http.get("/metrics")).text)
        for _ in range(2):
            await limited.execute('mutation { loginWithWeChat(input: {code: "once"}) { userErrors { code } } }')
        after = samples((await limited.http.get("/metrics")).text)
    assert value(after, "loyalty_rate_limited_total", limit="login_code") - \
        value(before, "loyalty_rate_limited_total", limit="login_code") == 1


async def test_metrics_can_be_kept_behind_a_token(api_with):
    async with api_with(LOYALTY_METRICS_TOKEN="scrape-me-please") as guarded:
        assert (await guarded.http.get("/metrics")).status_code == 401
        wrong = await guarded.http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await guarded.http.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
    assert wrong.status_code == 401 and right.status_code == 200 and "loyalty_operations_total" in right.text


async def test_readyz_answers_ready_only_on_a_migrated_database(api, empty_database, program):
    ready = await api.http.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    app = create_app(services=Services(Settings.from_env(TEST_ENV), program, empty_database, DevelopmentWeChat()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://loyalty.test") as http:
        not_ready = await http.get("/readyz")
        alive = await http.get("/healthz")
    assert not_ready.status_code == 503 and "loyalty db upgrade" in not_ready.json()["problems"][0]
    assert alive.status_code == 200


@pytest.fixture
def log_lines():
    """What the service logs, as production's handler writes it (one JSON object a line)."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(production=True, stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers[:], root.level = saved


async def test_production_logs_one_json_line_a_request_with_no_secret(api, log_lines):
    session = await api.sign_in("logged", now=MON)
    await api.data("BindPhoneNumber", {"code": "13912345678"}, token=session["accessToken"], now=MON,
                   headers={"X-Request-ID": "logged-request-1"})
    await api.integration("RecordOrder", {"input": {"memberId": session["member"]["id"], "externalId": "logged-1",
                                                    "amount": 100, "channel": "APP", "paidAt": MON}}, now=MON)
    lines = log_lines()
    access = [line for line in lines if line["logger"] == "loyalty.access"]
    assert len(access) == 3
    bound = next(line for line in access if line["request_id"] == "logged-request-1")
    assert bound["operation"] == "BindPhoneNumber" and bound["caller"] == "member" and bound["status"] == 200
    assert bound["duration_ms"] > 0 and bound["statements"] >= 1 and {"time", "level", "message"} <= set(bound)
    assert access[-1]["caller"] == "integration" and access[-1]["operation"] == "RecordOrder"
    everything = "\n".join(json.dumps(line) for line in lines)
    for secret in (session["accessToken"], session["refreshToken"], api.api_key, "13912345678"):
        assert secret not in everything
