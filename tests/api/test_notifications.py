"""me.notifications and markNotificationsRead: a member reads and marks only their own notifications;
a refused request marks nothing; the statement count does not grow with the page."""
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert, select

from api.core.ids import from_global_id, to_global_id
from persistence.tables import notifications
from tests.conftest import counting_statements
from tests.integration.jobs_harness import MARK_NOTIFICATIONS_READ, MY_NOTIFICATIONS

NOW = "2026-03-02T12:00:00+08:00"
SHOWN_NOW = "2026-03-02T12:00:00.000+08:00"  # as the API writes it: to the millisecond


async def add_notifications(database, member_global_id: str, count: int) -> None:
    member_id = from_global_id(member_global_id)[1]
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    async with database.transaction() as conn:
        await conn.execute(insert(notifications), [
            {"member_id": member_id, "kind": "BONUS", "title": f"t{n}", "body": f"b{n}",
             "created_at": start + timedelta(minutes=n)} for n in range(count)])


async def page(api, token, first=100, after=None):
    result = await api.execute(MY_NOTIFICATIONS, {"first": first, "after": after}, token=token, now=NOW)
    assert "errors" not in result, result
    return result["data"]["me"]["notifications"]


async def mark(api, token, ids):
    result = await api.execute(MARK_NOTIFICATIONS_READ, {"ids": ids}, token=token, now=NOW)
    assert "errors" not in result, result
    return result["data"]["markNotificationsRead"]


async def read_state(database) -> list:
    async with database.transaction() as conn:
        return [tuple(r) for r in await conn.execute(select(notifications.c.id, notifications.c.read_at)
                                                      .order_by(notifications.c.id))]


async def test_paged_newest_first_with_counts(api, database):
    token, member = await api.login("reader", now=NOW)
    await add_notifications(database, member, 5)
    first = await page(api, token, first=2)
    assert (first["totalCount"], first["unreadCount"]) == (5, 5)
    assert [e["node"]["title"] for e in first["edges"]] == ["t4", "t3"]
    assert first["pageInfo"]["hasNextPage"]
    rest = await page(api, token, first=10, after=first["pageInfo"]["endCursor"])
    assert [e["node"]["title"] for e in rest["edges"]] == ["t2", "t1", "t0"]
    assert not rest["pageInfo"]["hasNextPage"]
    node = first["edges"][0]["node"]
    assert (node["kind"], node["body"], node["createdAt"], node["readAt"]) == ("BONUS", "b4", "2026-03-01T08:04:00.000+08:00",
                                                                              None)


async def test_marking_read_counts_down_and_keeps_the_first_read_time(api, database):
    token, member = await api.login("marker", now=NOW)
    await add_notifications(database, member, 3)
    ids = [e["node"]["id"] for e in (await page(api, token))["edges"]]
    assert await mark(api, token, ids[:2]) == {"unreadCount": 1, "userErrors": []}
    later = await api.execute(MARK_NOTIFICATIONS_READ, {"ids": ids[:1]}, token=token, now="2026-03-05T12:00:00+08:00")
    assert later["data"]["markNotificationsRead"]["unreadCount"] == 1
    listed = await page(api, token)
    assert listed["unreadCount"] == 1
    assert [e["node"]["readAt"] for e in listed["edges"]] == [SHOWN_NOW, SHOWN_NOW, None]


async def test_refusals_mark_nothing(api, database):
    token, member = await api.login("owner", now=NOW)
    other_token, other = await api.login("other", now=NOW)
    await add_notifications(database, member, 1)
    await add_notifications(database, other, 1)
    mine = (await page(api, token))["edges"][0]["node"]["id"]
    theirs = (await page(api, other_token))["edges"][0]["node"]["id"]
    before = await read_state(database)
    cases = [
        ([mine, theirs], "NOT_FOUND"),                     # all or nothing
        ([to_global_id("Notification", 999999)], "NOT_FOUND"),
        ([to_global_id("Coupon", 1)], "NOT_FOUND"),
        (["not-an-id"], "INVALID_INPUT"),
        ([], "INVALID_INPUT"),
        ([mine] * 101, "INVALID_INPUT"),
    ]
    for ids, code in cases:
        payload = await mark(api, token, ids)
        assert payload["unreadCount"] is None and [e["code"] for e in payload["userErrors"]] == [code], (ids, payload)
    assert await read_state(database) == before
    anonymous = await api.execute(MARK_NOTIFICATIONS_READ, {"ids": [mine]}, now=NOW)
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await read_state(database) == before


async def test_node_shows_a_notification_to_its_member_only(api, database):
    token, member = await api.login("node-owner", now=NOW)
    other_token, _ = await api.login("node-other", now=NOW)
    await add_notifications(database, member, 1)
    notification_id = (await page(api, token))["edges"][0]["node"]["id"]
    query = "query($id: ID!) { node(id: $id) { __typename ... on Notification { title } } }"
    assert (await api.execute(query, {"id": notification_id}, token=token))["data"]["node"] == {
        "__typename": "Notification", "title": "t0"}
    assert (await api.execute(query, {"id": notification_id}, token=other_token))["data"]["node"] is None
    assert (await api.execute(query, {"id": notification_id}))["data"]["node"] is None


async def test_statements_do_not_grow_with_the_page(api, database):
    counts = {}
    for n in (1, 50):
        token, member = await api.login(f"count-{n}", now=NOW)
        await add_notifications(database, member, n)
        with counting_statements(database) as counter:
            listed = await page(api, token, first=50)
        assert len(listed["edges"]) == n and listed["totalCount"] == n
        counts[n] = counter.count
    print(f"\nMyNotifications: {counts[1]} statements with 1 item, {counts[50]} with 50")
    assert counts[1] == counts[50] <= 5  # session, member, page, counts (+ SQLite's BEGIN)
