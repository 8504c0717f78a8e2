"""Daily check-in through the member-app operations (CheckIn, MemberHome, PointHistory).

Standard program: once per LOCAL day (Asia/Shanghai, UTC+8), min(streakDays, 7) points plus 20
when streakDays is a multiple of 7; a missed day restarts the streak at 1. Sign-up gives 100.
"""
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
SIGNUP_POINTS = 100


def expected_check_in_points(streak: int) -> int:
    # standard program: min(streak, daily_cap 7) + 20 when streak % 7 == 0
    return min(streak, 7) + (20 if streak % 7 == 0 else 0)


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def check_in(api, token, key, now):
    payload = (await api.data("CheckIn", {"idempotencyKey": key}, token=token, now=now))["checkIn"]
    return payload


async def home(api, token, now):
    return (await api.data("MemberHome", token=token, now=now))["me"]


async def history(api, token, now):
    data = await api.data("PointHistory", {"first": 100}, token=token, now=now)
    return [edge["node"] for edge in data["me"]["pointHistory"]["edges"]]


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def test_streak_pays_by_local_day_with_weekly_bonus(api):
    """14 consecutive local days: 1,2,3,4,5,6,27,7,7,7,7,7,7,27."""
    token, _ = await api.login("streaker", now="2026-03-01T09:00:00+08:00")
    # Day 1 at 23:59 local (15:59Z), day 2 at 00:01 local the next day (16:01Z, same UTC date):
    # two minutes apart and the same UTC day, but two local days.
    moments = ["2026-03-01T15:59:00Z", "2026-03-01T16:01:00Z"]
    moments += [f"2026-03-{day:02d}T12:00:00+08:00" for day in range(3, 15)]
    balance = SIGNUP_POINTS
    awarded = []
    for streak, now in enumerate(moments, start=1):
        local_day = f"2026-03-{streak:02d}"
        if streak in (7, 14):
            before = (await home(api, token, now))["checkInStatus"]
            # not yet checked in today; the live streak is yesterday's, today's reward includes the bonus
            assert before == {"checkedInToday": False, "streakDays": streak - 1,
                              "todayReward": expected_check_in_points(streak)}
        payload = await check_in(api, token, f"day-{streak}", now)
        assert payload["userErrors"] == []
        points = expected_check_in_points(streak)
        balance += points
        assert payload["checkIn"] == {"date": local_day, "streakDays": streak, "pointsAwarded": points}
        assert payload["member"]["pointsBalance"] == balance
        awarded.append(payload["checkIn"]["pointsAwarded"])
        status = (await home(api, token, now))["checkInStatus"]
        assert status == {"checkedInToday": True, "streakDays": streak, "todayReward": points}
    assert awarded == [1, 2, 3, 4, 5, 6, 27, 7, 7, 7, 7, 7, 7, 27]
    # 100 + (1+2+3+4+5+6+27) + (7*6+27) = 100 + 48 + 69
    assert balance == 217
    entries = await history(api, token, "2026-03-14T12:00:00+08:00")
    check_in_entries = [e for e in entries if e["kind"] == "CHECK_IN"]
    assert [e["delta"] for e in check_in_entries] == list(reversed(awarded))  # newest first
    assert entries[0]["balanceAfter"] == 217
    # the day-1 lot (local date 2026-03-01) expires at the end of 2027-03-01 local
    oldest_check_in = check_in_entries[-1]
    assert instant(oldest_check_in["expiresAt"]) == datetime(2027, 3, 1, 23, 59, 59, tzinfo=CST)
    # the day-2 check-in happened on local 2026-03-02, so its lot expires at the end of 2027-03-02 local
    assert instant(check_in_entries[-2]["expiresAt"]) == datetime(2027, 3, 2, 23, 59, 59, tzinfo=CST)


async def test_same_local_day_across_utc_midnight_is_already_checked_in(api):
    token, _ = await api.login("utc-midnight", now="2026-03-01T09:00:00+08:00")
    # 2026-03-02T00:01 local (= 2026-03-01T16:01Z) and 2026-03-02T23:59 local (= 2026-03-02T15:59Z)
    # are on two different UTC dates but the same local day.
    first = await check_in(api, token, "a", "2026-03-01T16:01:00Z")
    assert first["userErrors"] == [] and first["checkIn"]["date"] == "2026-03-02"
    second = await check_in(api, token, "b", "2026-03-02T15:59:00Z")
    assert codes(second) == ["ALREADY_CHECKED_IN"]
    assert second["checkIn"] is None
    # nothing changed: 100 + 1 from the only check-in
    me = await home(api, token, "2026-03-02T15:59:00Z")
    assert me["pointsBalance"] == 101
    assert me["checkInStatus"] == {"checkedInToday": True, "streakDays": 1, "todayReward": 1}
    assert len(await history(api, token, "2026-03-02T15:59:00Z")) == 2  # SIGNUP + one CHECK_IN
    # the next local day starts at 16:00Z
    third = await check_in(api, token, "c", "2026-03-02T16:00:00Z")
    assert third["userErrors"] == []
    assert third["checkIn"] == {"date": "2026-03-03", "streakDays": 2, "pointsAwarded": 2}


async def test_missed_day_restarts_the_streak(api):
    token, _ = await api.login("misser", now="2026-03-01T09:00:00+08:00")
    for day in (1, 2, 3):
        payload = await check_in(api, token, f"k{day}", f"2026-03-0{day}T08:00:00+08:00")
        assert payload["checkIn"]["streakDays"] == day
    # 2026-03-04: not checked in yet; yesterday's streak of 3 is still alive, today would pay 4
    status = (await home(api, token, "2026-03-04T20:00:00+08:00"))["checkInStatus"]
    assert status == {"checkedInToday": False, "streakDays": 3, "todayReward": 4}
    # 2026-03-04 is skipped. On 2026-03-05 the streak is gone: today pays 1.
    status = (await home(api, token, "2026-03-05T08:00:00+08:00"))["checkInStatus"]
    assert status == {"checkedInToday": False, "streakDays": 0, "todayReward": 1}
    payload = await check_in(api, token, "k5", "2026-03-05T08:00:00+08:00")
    assert payload["userErrors"] == []
    assert payload["checkIn"] == {"date": "2026-03-05", "streakDays": 1, "pointsAwarded": 1}
    # 100 + 1 + 2 + 3 + 1
    assert payload["member"]["pointsBalance"] == 107
    payload = await check_in(api, token, "k6", "2026-03-06T08:00:00+08:00")
    assert payload["checkIn"] == {"date": "2026-03-06", "streakDays": 2, "pointsAwarded": 2}


async def test_new_member_status_before_any_check_in(api):
    token, _ = await api.login("newbie", now="2026-03-01T09:00:00+08:00")
    status = (await home(api, token, "2026-03-01T09:00:00+08:00"))["checkInStatus"]
    assert status == {"checkedInToday": False, "streakDays": 0, "todayReward": 1}


async def test_second_check_in_with_new_key_changes_nothing(api):
    token, _ = await api.login("twice", now="2026-03-01T09:00:00+08:00")
    now = "2026-03-01T10:00:00+08:00"
    assert (await check_in(api, token, "morning", now))["userErrors"] == []
    before_history = await history(api, token, now)
    refused = await check_in(api, token, "evening", "2026-03-01T22:00:00+08:00")
    assert codes(refused) == ["ALREADY_CHECKED_IN"]
    assert refused["checkIn"] is None
    assert (await home(api, token, now))["pointsBalance"] == 101
    assert await history(api, token, now) == before_history


async def test_same_key_replays_the_first_answer(api):
    token, _ = await api.login("retrier", now="2026-03-01T09:00:00+08:00")
    first = await check_in(api, token, "retry-me", "2026-03-01T10:00:00+08:00")
    assert first["userErrors"] == []
    assert first["checkIn"] == {"date": "2026-03-01", "streakDays": 1, "pointsAwarded": 1}
    assert first["member"]["pointsBalance"] == 101
    again = await check_in(api, token, "retry-me", "2026-03-01T10:00:05+08:00")
    assert again == first
    assert len(await history(api, token, "2026-03-01T11:00:00+08:00")) == 2  # SIGNUP + one CHECK_IN
    # Retried the next day, the key still answers the first check-in and pays nothing...
    late = await check_in(api, token, "retry-me", "2026-03-02T10:00:00+08:00")
    assert late["userErrors"] == []
    assert late["checkIn"] == first["checkIn"]
    assert late["member"]["pointsBalance"] == 101
    status = (await home(api, token, "2026-03-02T10:00:00+08:00"))["checkInStatus"]
    assert status == {"checkedInToday": False, "streakDays": 1, "todayReward": 2}
    # ...while a new key checks in for the new day
    fresh = await check_in(api, token, "day-2", "2026-03-02T10:00:00+08:00")
    assert fresh["checkIn"] == {"date": "2026-03-02", "streakDays": 2, "pointsAwarded": 2}
    assert fresh["member"]["pointsBalance"] == 103


async def test_idempotency_keys_are_per_member(api):
    token_a, _ = await api.login("key-a", now="2026-03-01T09:00:00+08:00")
    token_b, _ = await api.login("key-b", now="2026-03-01T09:00:00+08:00")
    now = "2026-03-01T10:00:00+08:00"
    a = await check_in(api, token_a, "shared-key", now)
    b = await check_in(api, token_b, "shared-key", now)
    assert a["userErrors"] == [] and b["userErrors"] == []
    assert a["member"]["id"] != b["member"]["id"]
    assert b["checkIn"]["pointsAwarded"] == 1 and b["member"]["pointsBalance"] == 101


async def test_blank_key_is_invalid_input_and_changes_nothing(api):
    token, _ = await api.login("blank-key", now="2026-03-01T09:00:00+08:00")
    for key in ("", "   ", "k" * 129):
        payload = await check_in(api, token, key, "2026-03-01T10:00:00+08:00")
        assert codes(payload) == ["INVALID_INPUT"]
        assert payload["checkIn"] is None
    me = await home(api, token, "2026-03-01T10:00:00+08:00")
    assert me["pointsBalance"] == 100
    assert me["checkInStatus"]["checkedInToday"] is False
    assert (await check_in(api, token, "k" * 128, "2026-03-01T10:00:00+08:00"))["userErrors"] == []


async def test_check_in_requires_a_member(api):
    result = await api.op("CheckIn", {"idempotencyKey": "x"})
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    result = await api.op("CheckIn", {"idempotencyKey": "x"}, api_key=api.api_key)
    assert result["errors"][0]["extensions"]["code"] == "FORBIDDEN"
