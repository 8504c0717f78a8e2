"""Lifecycle segments through the daily job: every segment, every boundary, segment_since, and who sees it."""
from datetime import date, datetime, timedelta

from sqlalchemy import select

from api.core.ids import pk_of, to_global_id
from domain.jobs import assign_segments
from domain.vocabulary import Segment
from persistence.tables import members
from persistence.unit_of_work import SqlUnitOfWork
from tests.api.staff_helpers import staff_token
from tests.conftest import BOTH_PROGRAMS

D = date(2026, 6, 15)                 # the job runs at 00:30 local on D
RUN = "2026-06-15T00:30:00+08:00"
JOINED = "2025-05-01T09:00:00+08:00"  # long before the 365 days: not new
S = Segment


def first_second(day: date) -> str:
    """The first second of a local day (the day before in UTC)."""
    return f"{day.isoformat()}T00:00:01+08:00"


def last_second(day: date) -> str:
    return f"{day.isoformat()}T23:59:59+08:00"


def days_back(days: int) -> date:
    return D - timedelta(days=days)


class Shop:
    def __init__(self, api):
        self.api, self.n = api, 0

    async def member(self, code: str, joined: str = JOINED) -> tuple[str, int]:
        token, member = await self.api.login(code, now=joined)
        return token, pk_of(member, "Member")

    async def order(self, member_pk: int, amount: int, paid_at: str, channel: str = "APP", refund: int = 0) -> None:
        self.n += 1
        external = f"seg-{self.n}"
        await self.api.integration("RecordOrder", {"input": {
            "memberId": to_global_id("Member", member_pk), "externalId": external, "amount": amount,
            "channel": channel, "paidAt": paid_at}}, now=paid_at)
        if refund:
            await self.api.integration("RefundOrder", {"input": {
                "externalId": external, "externalRefundId": f"{external}-r", "amount": refund}}, now=paid_at)

    async def orders(self, member_pk: int, count: int, total: int, last_day: date) -> None:
        """`count` eligible orders adding up to `total`, the last one on `last_day`, the others a day apart
        before it (all within the 365 days)."""
        each = total // count
        for i in range(count):
            amount = each if i < count - 1 else total - each * (count - 1)
            await self.order(member_pk, amount, first_second(last_day - timedelta(days=count - 1 - i)))


async def run(database, program, now: str = RUN, batch_size: int = 4):
    return await assign_segments(lambda: SqlUnitOfWork(database), program, datetime.fromisoformat(now), batch_size)


async def segments(database) -> dict[int, tuple[str | None, date | None]]:
    async with database.read_engine.connect() as conn:
        rows = await conn.execute(select(members.c.id, members.c.segment, members.c.segment_since))
        return {row.id: (row.segment, row.segment_since) for row in rows}


@BOTH_PROGRAMS
async def test_every_segment_and_every_boundary(api, database, program):
    rule = program.segments
    shop = Shop(api)
    expected: dict[int, Segment] = {}
    # The eight combinations, each measure exactly at its threshold (high) or one short of it (low).
    for r, f, m in [(r, f, m) for r in (True, False) for f in (True, False) for m in (True, False)]:
        _, pk = await shop.member(f"rfm-{int(r)}{int(f)}{int(m)}")
        last_day = days_back(rule.recent_days if r else rule.recent_days + 1)
        await shop.orders(pk, rule.frequent_orders if f else rule.frequent_orders - 1,
                          rule.valuable_spend if m else rule.valuable_spend - 1, last_day)
        expected[pk] = {(True, True, True): S.HIGH_VALUE, (True, False, True): S.IMPORTANT_DEVELOP,
                        (False, True, True): S.IMPORTANT_RETAIN, (False, False, True): S.IMPORTANT_LOST,
                        (True, True, False): S.GENERAL_VALUE, (True, False, False): S.GENERAL_DEVELOP,
                        (False, True, False): S.GENERAL_RETAIN, (False, False, False): S.SLEEPING}[(r, f, m)]
    # Recency at the last second of day D − recent_days vs the first of the day after D − recent_days − 1.
    _, pk = await shop.member("recent-last-second")
    await shop.order(pk, 100, last_second(days_back(rule.recent_days)))
    expected[pk] = S.GENERAL_DEVELOP
    _, pk = await shop.member("recent-a-day-late")
    await shop.order(pk, 100, last_second(days_back(rule.recent_days + 1)))
    expected[pk] = S.SLEEPING
    # The 365 days: an order on local day D − 365 counts, one on D − 366 does not.
    for code, day, segment in (("year-in", 365, S.IMPORTANT_RETAIN), ("year-out", 366, S.SLEEPING)):
        _, pk = await shop.member(code, joined="2025-01-01T09:00:00+08:00")
        await shop.order(pk, rule.valuable_spend, first_second(days_back(day)))
        await shop.orders(pk, rule.frequent_orders - 1, 100 * (rule.frequent_orders - 1),
                          days_back(rule.recent_days + 1))
        expected[pk] = segment
    # A fully refunded order counts for nothing (not recency, frequency nor spend); a partly refunded one
    # counts its net spend; an order outside the eligible channels counts for nothing.
    _, pk = await shop.member("refunded")
    await shop.orders(pk, rule.frequent_orders - 1, rule.valuable_spend, days_back(rule.recent_days + 2))
    await shop.order(pk, 5000, first_second(D - timedelta(days=1)), refund=5000)
    expected[pk] = S.IMPORTANT_LOST
    _, pk = await shop.member("partly-refunded")
    await shop.order(pk, rule.valuable_spend + 100, first_second(D - timedelta(days=1)), refund=101)
    expected[pk] = S.GENERAL_DEVELOP
    _, pk = await shop.member("third-party")
    await shop.order(pk, rule.valuable_spend, first_second(D - timedelta(days=1)), channel="THIRD_PARTY")
    expected[pk] = S.SLEEPING
    # New: joined on local day D − new_days (whatever they bought) vs the last second of the day before.
    _, pk = await shop.member("new-edge", joined=first_second(days_back(rule.new_days)))
    await shop.orders(pk, rule.frequent_orders, rule.valuable_spend, D - timedelta(days=1))
    expected[pk] = S.NEW
    _, pk = await shop.member("not-new", joined=last_second(days_back(rule.new_days + 1)))
    expected[pk] = S.SLEEPING

    result = await run(database, program)
    assert (result.period, result.processed) == (D.isoformat(), len(expected))
    found = await segments(database)
    assert {pk: found[pk] for pk in expected} == {pk: (s.value, D) for pk, s in expected.items()}
    assert set(Segment) <= {s for s in expected.values()}


@BOTH_PROGRAMS
async def test_segment_since_moves_only_on_a_change_and_a_rerun_changes_nothing(api, database, program):
    rule = program.segments
    shop = Shop(api)
    _, steady = await shop.member("steady")
    await shop.orders(steady, rule.frequent_orders, rule.valuable_spend, D)
    _, lapsing = await shop.member("lapsing")
    await shop.order(lapsing, 100, first_second(days_back(rule.recent_days)))
    _, sleeper = await shop.member("sleeper")

    assert (await run(database, program)).processed == 3
    first = await segments(database)
    assert first[steady] == (S.HIGH_VALUE.value, D)
    assert first[lapsing] == (S.GENERAL_DEVELOP.value, D)
    assert first[sleeper] == (S.SLEEPING.value, D)

    again = await run(database, program, "2026-06-15T23:59:00+08:00")
    assert again.already_done
    assert await segments(database) == first

    await shop.order(steady, 100, first_second(D + timedelta(days=1)))   # still HIGH_VALUE
    next_day = await run(database, program, "2026-06-16T00:30:00+08:00")
    assert (next_day.period, next_day.processed) == ((D + timedelta(days=1)).isoformat(), 3)
    second = await segments(database)
    assert second[steady] == (S.HIGH_VALUE.value, D)                          # kept: unchanged
    assert second[lapsing] == (S.SLEEPING.value, D + timedelta(days=1))       # moved: R now a day too old
    assert second[sleeper] == (S.SLEEPING.value, D)


async def test_staff_see_the_segment_and_members_never_do(api, database, program):
    shop = Shop(api)
    token, _ = await shop.member("private")
    home = await api.data("MemberHome", token=token)
    member_no = home["me"]["memberNo"]
    staff = await staff_token(api, database, "segment-viewer", "SUPPORT_AGENT")

    before = await api.data("MemberSegment", {"memberNo": member_no}, token=staff)
    assert before["findMember"]["segment"] is None                     # the job has not run yet
    await run(database, program)
    after = await api.data("MemberSegment", {"memberNo": member_no}, token=staff)
    assert after["findMember"]["segment"] == "SLEEPING"

    mine = await api.execute("{ me { id segment } }", token=token)
    assert mine.get("errors") is None and mine["data"]["me"]["segment"] is None
    node = await api.execute('query($id: ID!) { node(id: $id) { ... on Member { segment } } }',
                             {"id": home["me"]["id"]}, token=token)
    assert node["data"]["node"]["segment"] is None
    by_key = await api.execute('query($id: ID!) { node(id: $id) { ... on Member { segment } } }',
                               {"id": home["me"]["id"]}, api_key=api.api_key)
    assert (by_key.get("data") or {}).get("node") in (None, {"segment": None})
