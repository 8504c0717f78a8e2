"""Referral codes (`domain.referral_codes`) and the referral job's settling rule (`domain.jobs.referrals.settle`)."""
from __future__ import annotations

from pathlib import Path

import pytest

from domain.jobs.ports import DueReferral
from domain.jobs.referrals import settle
from domain.program import load_program
from domain.referral_codes import ALPHABET, ID_LIMIT, LENGTH, member_id_of, referral_code
from domain.referrals import REFEREE_CLOSED, REFERRER_CLOSED

PROGRAMS = Path(__file__).resolve().parents[2] / "programs"


def test_alphabet_has_no_ambiguous_characters():
    assert len(ALPHABET) == len(set(ALPHABET)) == 31
    assert not set("0O1IL") & set(ALPHABET)
    assert len(ALPHABET) ** LENGTH >= ID_LIMIT


def test_codes_round_trip_and_are_unique_over_a_range():
    ids = [*range(0, 50_000), *range(ID_LIMIT - 10_000, ID_LIMIT)]
    codes = [referral_code(i) for i in ids]
    assert len(set(codes)) == len(ids)
    assert all(len(code) == LENGTH and set(code) <= set(ALPHABET) for code in codes)
    assert [member_id_of(code) for code in codes] == ids


def test_codes_of_consecutive_members_look_unrelated():
    codes = [referral_code(i) for i in range(1, 101)]
    # a counter in disguise would keep its leading characters from one member to the next
    assert len({code[:4] for code in codes}) > 90
    assert codes != sorted(codes)


def test_decoding_forgives_case_and_spaces_and_refuses_what_is_no_code():
    code = referral_code(12345)
    assert member_id_of(f"  {code.lower()} ") == 12345
    assert member_id_of("") is None and member_id_of(None) is None
    assert member_id_of(code[:-1]) is None and member_id_of(code + "2") is None
    assert member_id_of("0" + code[1:]) is None     # 0, O, 1, I and L are not in any code
    assert member_id_of("ZZZZZZZ") is None          # beyond 2**32: no id has it


@pytest.mark.parametrize("member_id", [-1, ID_LIMIT])
def test_ids_outside_32_bits_have_no_code(member_id):
    with pytest.raises(ValueError):
        referral_code(member_id)


def due(referral_id: int, referrer_id: int, rewarded: int = 0, referrer_closed=False, referee_closed=False):
    return DueReferral(referral_id, referrer_id, 1000 + referral_id, referrer_closed, referee_closed, rewarded)


def test_settle_rewards_up_to_the_monthly_cap_and_voids_closed_members():
    rule = load_program(PROGRAMS / "standard.toml").referral
    assert rule.monthly_cap == 10
    batch = [due(n, referrer_id=1, rewarded=8) for n in range(1, 5)] + [
        due(5, referrer_id=2, referrer_closed=True), due(6, referrer_id=3, referee_closed=True),
        due(7, referrer_id=3), due(8, referrer_id=4, rewarded=10),
        due(9, referrer_id=4, rewarded=10, referee_closed=True)]
    rewarded, voided = settle(rule, batch)
    # referrer 1 had 8 this month: 2 more, the other 2 wait; referrer 4 is at the cap
    assert [r.id for r in rewarded] == [1, 2, 7]
    assert [(r.id, reason) for r, reason in voided] == [(5, REFERRER_CLOSED), (6, REFEREE_CLOSED), (9, REFEREE_CLOSED)]
