"""Registered operations run by their compiled plans (`api.core.plans`) answer exactly as graphql-core
answers them: every query operation of `operations/`, for each kind of caller that may send it and for
one that may not (errors, and nulls carried up to the nearest nullable field), compared byte for byte
with the same document run through graphql-core (sent with a trailing comment, so that it is not the
registered text). The rest of the suite sends every operation as its registered document, so every
mutation's payload goes through its plan there.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from api.core.documents import operation_documents
from api.schema import build_schema
from tests.api.staff_helpers import staff_token
from tests.conftest import OPERATIONS

DAY = date(2026, 3, 2)


def at(day: date, clock: str = "12:00:00") -> str:
    return f"{day.isoformat()}T{clock}+08:00"


QUERIES = {name: text for path in sorted(OPERATIONS.glob("*.graphql"))
           for name, text in operation_documents(path.read_text(encoding="utf-8")).items()
           if text.lstrip().startswith("query")}


async def both_ways(api, name: str, variables: dict, **kw) -> dict:
    text = QUERIES[name]
    planned = await api.post(text, variables, operation_name=name, **kw)
    unplanned = await api.post(text + "\n# not the registered text: graphql-core runs it", variables,
                               operation_name=name, **kw)
    assert planned.status_code == unplanned.status_code
    left, right = planned.json(), unplanned.json()
    for answer in (left, right):  # each error names its own request
        for error in answer.get("errors", []):
            error.get("extensions", {}).pop("requestId", None)
    if name == "AuditLog" and left.get("data"):  # staff reads are audited: each call adds its own entry
        for answer in (left, right):
            edges = answer["data"]["auditLog"]["edges"]
            edges[:] = [edge for edge in edges if edge["node"]["actorKind"] != "STAFF"]
    assert left == right, name
    return left


def test_every_registered_operation_but_node_has_a_plan(api, settings):
    # `api` built the app, which registered the plans on its schema.
    planned = {plan.operation.name.value for plan in build_schema(settings.limits, False).plans.values()}
    every = {name for path in OPERATIONS.glob("*.graphql") for name in operation_documents(path.read_text())}
    assert every - planned == {"Node", "MemberAccount"}  # `node` returns an interface: graphql-core runs them


async def test_queries_answer_the_same_planned_or_not(api, database):
    token, member_id = await api.login("plans", now=at(DAY, "09:00:00"))
    order = await api.integration("RecordOrder", {"input": {
        "memberId": member_id, "externalId": "plans-order", "amount": 250000, "channel": "STORE",
        "paidAt": at(DAY, "10:00:00")}}, now=at(DAY, "10:00:05"))
    assert order["recordOrder"]["userErrors"] == []
    for n in range(3):
        await api.data("CheckIn", {"idempotencyKey": f"plans-{n}"}, token=token,
                       now=at(DAY + timedelta(days=n), "08:00:00"))
    now = at(DAY + timedelta(days=2), "12:00:00")
    admin = await staff_token(api, database, "plans-admin", "ADMIN")
    home = await both_ways(api, "MemberHome", {}, token=token, now=now)
    assert home["data"]["me"]["tier"]["code"] == "gold" and home["data"]["me"]["checkInStatus"]["streakDays"] == 3
    member_no = home["data"]["me"]["memberNo"]

    cases = [
        ("MemberHome", {}, {"token": token}),
        ("MyCoupons", {"first": 20}, {"token": token}),
        ("MyCoupons", {"first": 2, "status": "AVAILABLE"}, {"token": token}),
        ("PointHistory", {"first": 20}, {"token": token}),
        ("PointHistory", {"first": 2}, {"token": token}),
        ("MyNotifications", {"first": 20}, {"token": token}),
        ("Tiers", {}, {}),
        ("RewardCatalog", {"first": 20}, {}),
        ("StaffAccount", {}, {"token": admin}),
        ("FindMember", {"memberNo": member_no}, {"token": admin}),
        ("MemberAccount", {"id": member_id, "first": 20}, {"token": admin}),
        ("AuditLog", {"first": 20}, {"token": admin}),
        ("ApiKeys", {"first": 20}, {"token": admin}),
        # Refusals: errors, and null carried up from a non-null field.
        ("MemberHome", {}, {}),
        ("MemberHome", {}, {"token": "not-a-token"}),
        ("MyCoupons", {"first": 20}, {"token": admin}),
        ("MyCoupons", {"first": 0}, {"token": token}),
        ("MyCoupons", {"first": 20, "after": "not a cursor"}, {"token": token}),
        ("MyCoupons", {"first": "twenty"}, {"token": token}),
        ("MyCoupons", {}, {"token": token}),
        ("StaffAccount", {}, {"token": token}),
        ("MemberAccount", {"id": "not-an-id", "first": 20}, {"token": admin}),
        ("AuditLog", {"first": 20}, {}),
    ]
    answers = [await both_ways(api, name, variables, now=now, **kw) for name, variables, kw in cases]
    signed_out = answers[cases.index(("MemberHome", {}, {}))]
    assert signed_out["data"] is None  # `me` is non-null: its error nulls the whole answer
    assert [e["extensions"]["code"] for e in signed_out["errors"]] == ["UNAUTHENTICATED"]
    assert answers[cases.index(("MyCoupons", {}, {"token": token}))]["errors"]  # a variable missing
    assert len(answers[cases.index(("PointHistory", {"first": 2}, {"token": token}))]["data"]["me"]["pointHistory"]
               ["edges"]) == 2


@pytest.mark.parametrize("name", sorted(QUERIES))
async def test_each_query_without_a_caller(api, name):
    variables = {"first": 5, "id": "TWVtYmVyOjE=", "memberNo": "1"}
    await both_ways(api, name, {k: v for k, v in variables.items() if f"${k}" in QUERIES[name]})
