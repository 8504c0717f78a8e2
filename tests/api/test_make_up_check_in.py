"""Make-up check-ins (补签) through the MakeUpCheckIn operation (member-growth.graphql).

Standard program (`points.check_in.make_up`): a missed local day (Asia/Shanghai, UTC+8) of the last 7,
not today, not one to come, not before the local day the member joined; at most 2 made a local month
(counted by the month they are made in, whichever day they fill); 20 points each; the day itself awards
nothing and its streak is the day before's + 1; the days running on from it count the repaired run.
Fresh-grocery has none. Sign-up gives 100 points (standard), check-ins min(streak, 7) (+20 every 7th).
"""
import asyncio
from datetime import datetime

import pytest
from sqlalchemy import select

from api.core.ids import pk_of
from domain import commands
from persistence.tables import check_ins
from tests.conftest import BOTH_PROGRAMS, counting_statements, service_for

SIGNUP_POINTS = 100
COST = 20
MON, TUE, WED, THU, FRI, SAT, SUN = (f"2026-03-0{day}" for day in range(2, 9))  # 2 March 2026 is a Monday


def at(day: str, clock: str = "10:00:00") -> str:
    return f"{day}T{clock}+08:00"


async def make_up(api, token, day, key, now):
    data = await api.data("MakeUpCheckIn", {"date": day, "idempotencyKey": key}, token=token, now=now)
    return data["makeUpCheckIn"]


async def check_in(api, token, key, now):
    payload = (await api.data("CheckIn", {"idempotencyKey": key}, token=token, now=now))["checkIn"]
    assert payload["userErrors"] == [], payload
    return payload["checkIn"]


async def home(api, token, now):
    return (await api.data("MemberHome", token=token, now=now))["me"]


async def left(api, token, now) -> int:
    data = await api.execute("{ me { makeUpCheckInsLeft } }", token=token, now=now)
    return data["data"]["me"]["makeUpCheckInsLeft"]


async def history(api, token, now):
    data = await api.data("PointHistory", {"first": 100}, token=token, now=now)
    return [edge["node"] for edge in data["me"]["pointHistory"]["edges"]]


async def days(database, member) -> dict[str, tuple[int, int, bool]]:
    """The member's check-in rows: local day → (streak, points, made up)."""
    async with database.read_engine.connect() as conn:
        rows = (await conn.execute(select(check_ins).where(check_ins.c.member_id == pk_of(member, "Member")))).all()
    return {row.local_date.isoformat(): (row.streak_days, row.points_awarded, row.made_up) for row in rows}


async def state(api, database, token, member, now):
    """What a refusal must leave as it was: the balance, the ledger, the check-ins, what is left this month."""
    return (await home(api, token, now))["pointsBalance"], await history(api, token, now), \
        await days(database, member), await left(api, token, now)


async def adjust(database, program, member, points: int, now: str) -> None:
    """Points taken or given by staff (an ADJUSTMENT), to bring the balance where a test needs it."""
    await service_for(database, program).handle(
        commands.AdjustPoints(pk_of(member, "Member"), points, "test", f"adjust-{member}-{points}"),
        now=datetime.fromisoformat(now))


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def refused(api, database, token, member, day, key, now, code) -> dict:
    """A make-up refused with `code` that changes nothing."""
    before = await state(api, database, token, member, now)
    payload = await make_up(api, token, day, key, now)
    assert codes(payload) == [code], payload
    assert (payload["checkIn"], payload["pointsSpent"], payload["member"]) == (None, None, None)
    assert await state(api, database, token, member, now) == before
    return payload["userErrors"][0]


async def test_make_up_repairs_the_streak_and_the_next_check_in_counts_it(api, database):
    token, member = await api.login("mender", now=at(MON, "09:00:00"))
    await check_in(api, token, "mon", at(MON))
    assert (await check_in(api, token, "wed", at(WED)))["streakDays"] == 1       # Tuesday missed
    payload = await make_up(api, token, TUE, "tue", at(WED, "12:00:00"))
    assert payload["userErrors"] == []
    assert payload["checkIn"] == {"date": TUE, "streakDays": 2, "pointsAwarded": 0}
    assert payload["pointsSpent"] == COST
    balance = SIGNUP_POINTS + 1 + 1 - COST
    assert payload["member"] == {"id": member, "pointsBalance": balance, "makeUpCheckInsLeft": 1,
                                 "checkInStatus": {"checkedInToday": True, "streakDays": 3, "todayReward": 1}}
    # Wednesday's row counts the repaired run; its points stay as awarded
    assert await days(database, member) == {MON: (1, 1, False), TUE: (2, 0, True), WED: (3, 1, False)}
    [entry, *_] = await history(api, token, at(WED, "12:00:00"))
    assert (entry["kind"], entry["delta"], entry["balanceAfter"], entry["description"], entry["expiresAt"]) == \
        ("MAKE_UP", -COST, balance, f"补签：{TUE}", None)
    assert (await home(api, token, at(THU)))["checkInStatus"] == \
        {"checkedInToday": False, "streakDays": 3, "todayReward": 4}
    assert await check_in(api, token, "thu", at(THU)) == {"date": THU, "streakDays": 4, "pointsAwarded": 4}
    assert (await home(api, token, at(THU)))["pointsBalance"] == balance + 4


async def test_every_day_running_on_is_repaired_and_the_seventh_pays_the_bonus(api, database):
    token, member = await api.login("long-run", now=at(MON, "09:00:00"))
    for day in (MON, WED, THU, FRI):
        await check_in(api, token, day, at(day))
    assert (await make_up(api, token, TUE, "tue", at(FRI, "20:00:00")))["userErrors"] == []
    assert await days(database, member) == {MON: (1, 1, False), TUE: (2, 0, True), WED: (3, 1, False),
                                            THU: (4, 2, False), FRI: (5, 3, False)}
    assert await check_in(api, token, "sat", at(SAT)) == {"date": SAT, "streakDays": 6, "pointsAwarded": 6}
    assert await check_in(api, token, "sun", at(SUN)) == {"date": SUN, "streakDays": 7, "pointsAwarded": 27}


async def test_making_up_yesterday_keeps_the_streak_alive_for_today(api, database):
    token, _ = await api.login("yesterday", now=at(MON, "09:00:00"))
    await check_in(api, token, "mon", at(MON))
    assert (await home(api, token, at(WED)))["checkInStatus"] == \
        {"checkedInToday": False, "streakDays": 0, "todayReward": 1}
    payload = await make_up(api, token, TUE, "tue", at(WED))
    assert payload["checkIn"] == {"date": TUE, "streakDays": 2, "pointsAwarded": 0}
    assert payload["member"]["checkInStatus"] == {"checkedInToday": False, "streakDays": 2, "todayReward": 3}
    assert await check_in(api, token, "wed", at(WED, "11:00:00")) == {"date": WED, "streakDays": 3, "pointsAwarded": 3}


async def test_seven_days_back_can_be_made_up_eight_cannot(api, database):
    token, member = await api.login("window", now=at(MON, "09:00:00"))   # joined Monday 2 March
    # Tuesday 10 March from its first local second (9 March 16:00Z, when Monday is 7 UTC days back)
    error = await refused(api, database, token, member, MON, "eight", at("2026-03-10", "00:00:00"), "NOT_CLAIMABLE")
    assert error["field"] == ["input", "date"] and "7 days" in error["message"]
    payload = await make_up(api, token, TUE, "seven", at("2026-03-10", "23:59:59"))   # to its last
    assert payload["userErrors"] == [] and payload["checkIn"]["date"] == TUE


async def test_not_today_not_a_day_to_come_not_before_joining(api, database):
    # joined at 00:30 local on Thursday 5 March, still the 4th in UTC
    token, member = await api.login("late-joiner", now="2026-03-04T16:30:00Z")
    now = at(SAT)
    for day in (SAT, SUN, "2027-03-07", WED):   # today, tomorrow, a year on, the day before joining
        error = await refused(api, database, token, member, day, f"k-{day}", now, "NOT_CLAIMABLE")
        assert error["field"] == ["input", "date"]
    payload = await make_up(api, token, THU, "joining-day", now)    # the local day of joining is a missed day
    assert payload["userErrors"] == []
    assert payload["checkIn"] == {"date": THU, "streakDays": 1, "pointsAwarded": 0}


async def test_a_day_checked_in_or_made_up_already_is_refused(api, database):
    token, member = await api.login("twice", now=at(MON, "09:00:00"))
    await check_in(api, token, "mon", at(MON))
    error = await refused(api, database, token, member, MON, "mon", at(WED), "ALREADY_CHECKED_IN")
    assert error["field"] == ["input", "date"]
    assert (await make_up(api, token, TUE, "tue", at(WED)))["userErrors"] == []
    await refused(api, database, token, member, TUE, "tue-again", at(WED), "ALREADY_CHECKED_IN")


async def test_two_a_local_month_counted_by_the_month_they_are_made_in(api, database):
    token, member = await api.login("monthly", now=at("2026-03-20"))
    now = at("2026-03-28")
    assert await left(api, token, now) == 2
    first = await make_up(api, token, "2026-03-21", "a", now)
    assert (first["userErrors"], first["member"]["makeUpCheckInsLeft"]) == ([], 1)
    second = await make_up(api, token, "2026-03-22", "b", now)
    assert (second["userErrors"], second["member"]["makeUpCheckInsLeft"]) == ([], 0)
    await refused(api, database, token, member, "2026-03-23", "c", now, "LIMIT_REACHED")
    await refused(api, database, token, member, "2026-03-30", "d", at("2026-03-31", "23:59:59"), "LIMIT_REACHED")
    # April begins at 00:00 local (31 March 16:00Z): a March day made up in April counts in April
    april = "2026-03-31T16:00:00Z"
    assert await left(api, token, april) == 2
    third = await make_up(api, token, "2026-03-30", "e", april)
    assert (third["userErrors"], third["checkIn"]["date"], third["member"]["makeUpCheckInsLeft"]) == \
        ([], "2026-03-30", 1)
    assert await left(api, token, at("2026-03-31", "23:00:00")) == 0     # read back in March: still used up
    assert (await home(api, token, april))["pointsBalance"] == SIGNUP_POINTS - 3 * COST


async def test_exactly_the_cost_is_enough_one_point_less_is_not(api, database, program):
    token, member = await api.login("just-enough", now=at(MON, "09:00:00"))
    await adjust(database, program, member, COST - SIGNUP_POINTS, at(MON))
    payload = await make_up(api, token, TUE, "tue", at(WED))
    assert (payload["userErrors"], payload["pointsSpent"], payload["member"]["pointsBalance"]) == ([], COST, 0)
    token, member = await api.login("one-short", now=at(MON, "09:00:00"))
    await adjust(database, program, member, COST - 1 - SIGNUP_POINTS, at(MON))
    await refused(api, database, token, member, TUE, "tue", at(WED), "INSUFFICIENT_POINTS")
    assert await left(api, token, at(WED)) == 2


async def test_the_first_failure_answers(api, database, program):
    token, member = await api.login("order", now=at(MON, "09:00:00"))
    await check_in(api, token, "mon", at(MON))
    for day in (TUE, WED):
        assert (await make_up(api, token, day, day, at(SAT)))["userErrors"] == []
    await adjust(database, program, member, -(SIGNUP_POINTS + 1 - 2 * COST), at(SAT))     # 0 points, none left
    now = at(SAT)
    await refused(api, database, token, member, SUN, "", now, "INVALID_INPUT")                # and to come
    await refused(api, database, token, member, "2026-02-28", "k1", now, "NOT_CLAIMABLE")    # and the rest
    await refused(api, database, token, member, MON, "k2", now, "ALREADY_CHECKED_IN")       # and the rest
    await refused(api, database, token, member, THU, "k3", now, "LIMIT_REACHED")            # and no points


async def test_same_key_replays_another_date_is_refused(api, database):
    token, member = await api.login("retrier", now=at(MON, "09:00:00"))
    for key in ("", "   ", "k" * 129):
        await refused(api, database, token, member, TUE, key, at(WED), "INVALID_INPUT")
    first = await make_up(api, token, TUE, "retry-me", at(WED))
    assert first["userErrors"] == []
    again = await make_up(api, token, TUE, "retry-me", at(WED, "10:00:05"))
    assert again == first
    assert [e["kind"] for e in await history(api, token, at(WED))] == ["MAKE_UP", "SIGNUP"]
    await refused(api, database, token, member, MON, "retry-me", at(WED), "IDEMPOTENCY_KEY_REUSED")
    late = await make_up(api, token, TUE, "retry-me", at(THU))    # the next day: still the first answer, nothing more
    assert (late["userErrors"], late["checkIn"], late["pointsSpent"]) == ([], first["checkIn"], COST)
    assert (late["member"]["pointsBalance"], late["member"]["makeUpCheckInsLeft"]) == (SIGNUP_POINTS - COST, 1)
    assert await days(database, member) == {TUE: (1, 0, True)}


async def test_racing_make_ups_take_the_allowance_and_the_points_once(api, database):
    token, member = await api.login("racer", now=at(MON, "09:00:00"))
    assert (await make_up(api, token, MON, "first", at(FRI)))["userErrors"] == []      # one left
    answers = await asyncio.gather(*(make_up(api, token, day, f"race-{day}", at(FRI)) for day in (TUE, WED, THU)))
    assert sorted(codes(answer) for answer in answers) == [[], ["LIMIT_REACHED"], ["LIMIT_REACHED"]]
    assert (await home(api, token, at(FRI)))["pointsBalance"] == SIGNUP_POINTS - 2 * COST
    assert [e["kind"] for e in await history(api, token, at(FRI))] == ["MAKE_UP", "MAKE_UP", "SIGNUP"]
    assert len(await days(database, member)) == 2


@BOTH_PROGRAMS
async def test_only_programs_with_make_ups_offer_them(api, database, program):
    token, member = await api.login("either", now=at(MON, "09:00:00"))
    await adjust(database, program, member, 50, at(MON))   # fresh-grocery gives no coins on joining
    if program.make_up is None:
        assert await left(api, token, at(WED)) == 0
        error = await refused(api, database, token, member, TUE, "tue", at(WED), "NOT_CLAIMABLE")
        assert "no make-up" in error["message"]
    else:
        assert await left(api, token, at(WED)) == program.make_up.per_month == 2
        payload = await make_up(api, token, TUE, "tue", at(WED))
        assert (payload["userErrors"], payload["pointsSpent"]) == ([], program.make_up.cost_points)


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_has_none(api, database):
    token, member = await api.login("fresh", now=at(MON, "09:00:00"))
    await check_in(api, token, "mon", at(MON))
    error = await refused(api, database, token, member, TUE, "tue", at(WED), "NOT_CLAIMABLE")
    assert error == {"field": None, "message": "This program has no make-up check-ins.", "code": "NOT_CLAIMABLE"}


async def test_member_home_stays_one_statement_and_the_allowance_is_one_for_many_members(api, database):
    token, member = await api.login("counted", now=at(MON, "09:00:00"))
    await home(api, token, at(WED))    # the process now holds the tier catalog
    with counting_statements(database) as before:
        await home(api, token, at(WED))
    assert (await make_up(api, token, MON, "mon", at(WED)))["userErrors"] == []
    with counting_statements(database) as after:
        await home(api, token, at(WED))
    assert before.count == after.count == 1   # as tests/api/test_statement_counts.py bounds it
    members = [member] + [(await api.login(f"counted-{n}", now=at(MON)))[1] for n in range(4)]

    async def statements(ids: list[str]) -> int:
        aliases = " ".join(f'm{n}: node(id: "{i}") {{ ... on Member {{ makeUpCheckInsLeft }} }}'
                           for n, i in enumerate(ids))
        with counting_statements(database) as counter:
            data = await api.execute(f"{{ {aliases} }}", api_key=api.api_key, now=at(WED))
        assert [value["makeUpCheckInsLeft"] for value in data["data"].values()] == [1] + [2] * (len(ids) - 1)
        return counter.count

    one, five = await statements(members[:1]), await statements(members)
    print(f"\nmakeUpCheckInsLeft: {one} statements for 1 member, {five} for 5")
    assert one == five


async def test_make_up_requires_a_member(api):
    variables = {"date": MON, "idempotencyKey": "x"}
    assert (await api.op("MakeUpCheckIn", variables))["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    result = await api.op("MakeUpCheckIn", variables, api_key=api.api_key)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
