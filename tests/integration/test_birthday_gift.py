"""Birthday gift: on days 1 to 7 of their birthday month (local), members of the second tier and above
get the program's birthday coupon once a year, and a BIRTHDAY_GIFT notification. Both programs."""
import pytest

from domain.jobs import grant_birthday_gifts
from tests.conftest import BOTH_PROGRAMS
from tests.integration.jobs_harness import Killed, assert_ledgers_agree, killed_after, notices, run_job

pytestmark = BOTH_PROGRAMS


async def member(api, program, code: str, birthday: str, second_tier: bool = True, now="2026-06-01T10:00:00+08:00"):
    token, member_id = await api.login(code, now=now)
    updated = await api.data("UpdateProfile", {"input": {"birthday": birthday}}, token=token, now=now)
    assert updated["updateProfile"]["userErrors"] == []
    if second_tier:
        await reach_second_tier(api, program, member_id, code, now)
    return token


async def reach_second_tier(api, program, member_id, code, now):
    amount = program.tiers[1].growth_threshold * 100  # 1 growth per yuan
    result = await api.integration("RecordOrder", {"input": {"memberId": member_id, "externalId": f"{code}-tier",
                                                             "amount": amount, "channel": "STORE", "paidAt": now}},
                                   now=now)
    assert result["recordOrder"]["member"]["tier"]["code"] == program.tiers[1].code


async def birthday_coupons(api, token, now="2027-03-02T10:00:00+08:00") -> list[dict]:
    data = await api.data("MyCoupons", {"first": 50}, token=token, now=now)
    return [e["node"] for e in data["me"]["coupons"]["edges"] if e["node"]["source"] == "BIRTHDAY_GIFT"]


async def test_first_days_of_the_birthday_month_once_a_year(api, database, program):
    march = await member(api, program, "march", "1990-03-15")
    base_tier = await member(api, program, "base", "1991-03-20", second_tier=False)
    april = await member(api, program, "april", "1992-04-02")
    assert (await run_job(grant_birthday_gifts, database, program, "2027-02-28T15:59:59+00:00")).status == "not due"
    first = await run_job(grant_birthday_gifts, database, program, "2027-02-28T16:00:00+00:00")  # 1 March, local
    assert (first.period, first.processed) == ("2027-03-01", 1)
    gifts = await birthday_coupons(api, march)
    template = program.coupon_templates[program.birthday_gift.template]
    assert [(c["title"], c["minSpend"], c["discountAmount"], c["validUntil"], c["status"]) for c in gifts] == [
        (template.title, template.min_spend, template.discount_amount, "2027-03-31T23:59:59.000+08:00", "AVAILABLE")]
    told = await notices(api, march, "BIRTHDAY_GIFT")
    assert len(told) == 1 and template.title in told[0]["body"]
    assert await birthday_coupons(api, base_tier) == [] and await birthday_coupons(api, april) == []
    assert (await run_job(grant_birthday_gifts, database, program, "2027-03-01T20:00:00+08:00")).already_done
    assert (await run_job(grant_birthday_gifts, database, program, "2027-03-02T00:10:00+08:00")).processed == 0
    assert (await run_job(grant_birthday_gifts, database, program, "2027-03-08T00:10:00+08:00")).status == "not due"
    assert len(await birthday_coupons(api, march)) == 1
    next_year = await run_job(grant_birthday_gifts, database, program, "2028-03-01T00:10:00+08:00")
    assert next_year.processed == 1
    assert len(await birthday_coupons(api, march, now="2028-03-02T10:00:00+08:00")) == 2


async def test_29_february_birthdays_are_february_birthdays_in_common_years(api, database, program):
    leapling = await member(api, program, "leapling", "2000-02-29")
    assert (await run_job(grant_birthday_gifts, database, program, "2027-02-01T00:10:00+08:00")).processed == 1
    assert len(await birthday_coupons(api, leapling)) == 1


async def test_reaching_the_tier_within_the_window_still_counts_after_it_does_not(api, database, program):
    early = await member(api, program, "early", "1990-03-10", second_tier=False)
    late = await member(api, program, "late", "1990-03-11", second_tier=False)
    assert (await run_job(grant_birthday_gifts, database, program, "2027-03-01T00:10:00+08:00")).processed == 0
    await reach_second_tier(api, program, (await api.login("early"))[1], "early", "2027-03-03T12:00:00+08:00")
    assert (await run_job(grant_birthday_gifts, database, program, "2027-03-04T00:10:00+08:00")).processed == 1
    await reach_second_tier(api, program, (await api.login("late"))[1], "late", "2027-03-10T12:00:00+08:00")
    assert (await run_job(grant_birthday_gifts, database, program, "2027-03-11T00:10:00+08:00")).status == "not due"
    assert len(await birthday_coupons(api, early, now="2027-03-12T10:00:00+08:00")) == 1
    assert await birthday_coupons(api, late, now="2027-03-12T10:00:00+08:00") == []


async def test_a_run_killed_mid_batch_resumes_with_one_gift_each(api, database, program):
    tokens = [await member(api, program, f"crash-{n}", "1990-05-05") for n in range(3)]
    with pytest.raises(Killed):
        await run_job(grant_birthday_gifts, database, program, "2027-05-01T00:10:00+08:00", batch_size=1,
                      new_uow=killed_after(database, commits=1))
    assert sorted([len(await birthday_coupons(api, t)) for t in tokens]) == [0, 0, 1]
    assert (await run_job(grant_birthday_gifts, database, program, "2027-05-01T00:20:00+08:00",
                          batch_size=1)).processed == 2
    for t in tokens:
        assert len(await birthday_coupons(api, t)) == 1
        assert len(await notices(api, t, "BIRTHDAY_GIFT")) == 1
    await assert_ledgers_agree(database)
