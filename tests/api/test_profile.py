"""Profile tasks through UpdateProfile: each task pays once; refused changes change nothing.

Standard program `points.profile`: birthday 5, gender 5 (FEMALE/MALE only), household size 5.
Fresh-grocery: birthday 5, household size 5, gender 0; no sign-up coins.
"""
import pytest

NOW = "2026-03-10T10:00:00+08:00"

PROFILE_QUERY = """
query Profile { me { id nickname birthday gender householdSize pointsBalance } }
"""


async def update(api, token, profile_input, now=NOW):
    return (await api.data("UpdateProfile", {"input": profile_input}, token=token, now=now))["updateProfile"]


async def profile(api, token, now=NOW):
    result = await api.execute(PROFILE_QUERY, token=token, now=now)
    assert "errors" not in result, result
    return result["data"]["me"]


async def history(api, token, now=NOW):
    data = await api.data("PointHistory", {"first": 100}, token=token, now=now)
    return [edge["node"] for edge in data["me"]["pointHistory"]["edges"]]


def codes(payload) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def test_each_task_pays_once(api):
    token, member_id = await api.login("tasks", now=NOW)
    payload = await update(api, token, {"birthday": "1990-05-17"})
    assert payload["userErrors"] == []
    assert payload["pointsAwarded"] == 5
    assert payload["member"] == {"id": member_id, "nickname": None, "birthday": "1990-05-17"}
    payload = await update(api, token, {"gender": "FEMALE"})
    assert payload["pointsAwarded"] == 5
    payload = await update(api, token, {"householdSize": 3})
    assert payload["pointsAwarded"] == 5
    # 100 sign-up + 3 × 5
    assert (await profile(api, token))["pointsBalance"] == 115
    # again: the same birthday is accepted without points, gender and household size change without points
    payload = await update(api, token, {"birthday": "1990-05-17", "gender": "MALE", "householdSize": 4})
    assert payload["userErrors"] == []
    assert payload["pointsAwarded"] == 0
    me = await profile(api, token)
    assert me["pointsBalance"] == 115
    assert (me["birthday"], me["gender"], me["householdSize"]) == ("1990-05-17", "MALE", 4)
    tasks = [e for e in await history(api, token) if e["kind"] == "TASK"]
    assert sorted(e["delta"] for e in tasks) == [5, 5, 5]
    assert all(e["expiresAt"] is not None for e in tasks)


async def test_all_tasks_in_one_update(api):
    token, _ = await api.login("all-at-once", now=NOW)
    payload = await update(api, token, {"nickname": "小明", "birthday": "1988-01-02", "gender": "MALE",
                                        "householdSize": 2})
    assert payload["userErrors"] == []
    assert payload["pointsAwarded"] == 15  # 5 + 5 + 5
    assert payload["member"]["nickname"] == "小明"
    entries = await history(api, token)
    # newest first: three TASK entries on top of the 100 sign-up, balanceAfter chaining up to 115
    assert [e["kind"] for e in entries] == ["TASK", "TASK", "TASK", "SIGNUP"]
    assert [e["balanceAfter"] for e in entries] == [115, 110, 105, 100]


async def test_nickname_pays_nothing(api):
    token, _ = await api.login("nick", now=NOW)
    payload = await update(api, token, {"nickname": "  阿花  "})
    assert payload["userErrors"] == []
    assert payload["pointsAwarded"] == 0
    assert payload["member"]["nickname"] == "阿花"  # trimmed
    assert (await profile(api, token))["pointsBalance"] == 100


async def test_undisclosed_gender_pays_nothing_until_disclosed(api):
    token, _ = await api.login("private", now=NOW)
    payload = await update(api, token, {"gender": "UNDISCLOSED"})
    assert payload["userErrors"] == []
    assert payload["pointsAwarded"] == 0
    me = await profile(api, token)
    assert me["gender"] == "UNDISCLOSED" and me["pointsBalance"] == 100
    assert [e["kind"] for e in await history(api, token)] == ["SIGNUP"]
    # disclosing later completes the gender task once
    assert (await update(api, token, {"gender": "FEMALE"}))["pointsAwarded"] == 5
    assert (await update(api, token, {"gender": "UNDISCLOSED"}))["pointsAwarded"] == 0
    assert (await update(api, token, {"gender": "MALE"}))["pointsAwarded"] == 0
    assert (await profile(api, token))["pointsBalance"] == 105


async def test_second_different_birthday_is_refused_and_changes_nothing(api):
    token, _ = await api.login("birthday-once", now=NOW)
    assert (await update(api, token, {"birthday": "1990-05-17"}))["pointsAwarded"] == 5
    before = await profile(api, token)
    before_history = await history(api, token)
    # the refusal also keeps the household size that came with it, and pays nothing for it
    payload = await update(api, token, {"birthday": "1991-06-18", "householdSize": 3, "nickname": "new"})
    assert codes(payload) == ["INVALID_INPUT"]
    assert payload["userErrors"][0]["field"][-1] == "birthday"
    assert payload["member"] is None and payload["pointsAwarded"] == 0
    assert await profile(api, token) == before
    assert before["birthday"] == "1990-05-17" and before["householdSize"] is None
    assert await history(api, token) == before_history


@pytest.mark.parametrize("bad_input, field", [
    ({"nickname": ""}, "nickname"),
    ({"nickname": "   "}, "nickname"),
    ({"nickname": "x" * 33}, "nickname"),
    ({"householdSize": 0}, "householdSize"),
    ({"householdSize": 21}, "householdSize"),
    ({"householdSize": -1}, "householdSize"),
    # NOW is 2026-03-10 local: tomorrow is in the future
    ({"birthday": "2026-03-11"}, "birthday"),
    ({"birthday": "1899-12-31"}, "birthday"),
])
async def test_invalid_values_are_refused_and_change_nothing(api, bad_input, field):
    token, _ = await api.login("validation", now=NOW)
    assert (await update(api, token, {"nickname": "before"}))["userErrors"] == []
    before = await profile(api, token)
    before_history = await history(api, token)
    # valid values for the other tasks in the same request are not applied either
    other = {"gender": "FEMALE", "householdSize": 2}
    other.pop(field, None)
    payload = await update(api, token, {**other, **bad_input})
    assert codes(payload) == ["INVALID_INPUT"]
    assert payload["userErrors"][0]["field"][-1] == field
    assert payload["member"] is None and payload["pointsAwarded"] == 0
    assert await profile(api, token) == before
    assert await history(api, token) == before_history


async def test_boundary_values_are_accepted(api):
    token, _ = await api.login("boundaries", now=NOW)
    payload = await update(api, token, {"nickname": "y" * 32, "householdSize": 20, "birthday": "1900-01-01"})
    assert payload["userErrors"] == []
    assert payload["pointsAwarded"] == 10  # household size 5 + birthday 5
    assert (await update(api, token, {"householdSize": 1, "nickname": "z"}))["userErrors"] == []
    me = await profile(api, token)
    assert (me["nickname"], me["householdSize"], me["birthday"]) == ("z", 1, "1900-01-01")


async def test_birthday_today_is_the_local_today(api):
    # 2026-03-09T16:30Z is 2026-03-10T00:30 local: local today is already 2026-03-10
    now = "2026-03-09T16:30:00Z"
    token, _ = await api.login("born-today", now=now)
    refused = await update(api, token, {"birthday": "2026-03-11"}, now=now)
    assert codes(refused) == ["INVALID_INPUT"]
    payload = await update(api, token, {"birthday": "2026-03-10"}, now=now)
    assert payload["userErrors"] == []
    assert payload["member"]["birthday"] == "2026-03-10"


@pytest.mark.parametrize("birthday", ["2026-13-01", "not-a-date", "1990/05/17", "1990-02-30"])
async def test_malformed_birthday_is_a_top_level_error(api, birthday):
    token, _ = await api.login("malformed", now=NOW)
    before = await profile(api, token)
    result = await api.op("UpdateProfile", {"input": {"birthday": birthday, "householdSize": 2}}, token=token, now=NOW)
    assert result.get("errors"), result
    assert not result.get("data")
    assert await profile(api, token) == before


async def test_wrong_gender_value_is_a_top_level_error(api):
    token, _ = await api.login("bad-enum", now=NOW)
    result = await api.op("UpdateProfile", {"input": {"gender": "OTHER"}}, token=token, now=NOW)
    assert result.get("errors") and not result.get("data")
    assert (await profile(api, token))["pointsBalance"] == 100


async def test_update_profile_requires_a_member(api):
    result = await api.op("UpdateProfile", {"input": {"nickname": "x"}})
    assert result["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.program("fresh-grocery")
async def test_fresh_grocery_pays_nothing_for_gender(api):
    token, _ = await api.login("fresh-profile", now=NOW)
    assert (await profile(api, token))["pointsBalance"] == 0  # fresh-grocery sign-up gives no coins
    payload = await update(api, token, {"gender": "FEMALE"})
    assert payload["userErrors"] == []
    assert payload["pointsAwarded"] == 0
    assert await history(api, token) == []
    payload = await update(api, token, {"birthday": "1995-08-08", "householdSize": 4, "gender": "MALE"})
    assert payload["pointsAwarded"] == 10  # birthday 5 + household size 5, gender 0
    assert (await profile(api, token))["pointsBalance"] == 10
    assert sorted(e["delta"] for e in await history(api, token)) == [5, 5]
