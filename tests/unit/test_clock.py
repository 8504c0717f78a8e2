"""The clock and the local calendar (domain/clock.py): business days are Asia/Shanghai days (UTC+8)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from domain.clock import FixedClock, LocalCalendar, SystemClock, add_months, is_still_valid

SHANGHAI = ZoneInfo("Asia/Shanghai")
CAL = LocalCalendar(SHANGHAI)
UTC = timezone.utc


# ---------------------------------------------------------------- add_months

@pytest.mark.parametrize("day, months, expected", [
    (date(2024, 1, 31), 1, date(2024, 2, 29)),    # leap year: clamped to 29 Feb
    (date(2023, 1, 31), 1, date(2023, 2, 28)),    # common year: 28 Feb
    (date(2024, 2, 29), 12, date(2025, 2, 28)),   # 29 Feb → 28 Feb a year later
    (date(2024, 2, 29), 48, date(2028, 2, 29)),   # ... and back to 29 Feb four years later
    (date(2024, 3, 31), 1, date(2024, 4, 30)),    # 30-day month
    (date(2024, 3, 15), 12, date(2025, 3, 15)),
    (date(2024, 12, 15), 1, date(2025, 1, 15)),   # over the year end
    (date(2024, 11, 30), 3, date(2025, 2, 28)),
    (date(2024, 1, 31), 0, date(2024, 1, 31)),
    (date(2024, 3, 31), -1, date(2024, 2, 29)),   # backwards, clamped
    (date(2024, 1, 15), -1, date(2023, 12, 15)),  # backwards over the year start
    (date(2024, 5, 31), 25, date(2026, 6, 30)),
])
def test_add_months(day, months, expected):
    assert add_months(day, months) == expected


# ---------------------------------------------------------------- local days

def test_local_date_changes_at_shanghai_midnight():
    # 15:59:59Z is 23:59:59 in Shanghai (UTC+8, no DST); 16:00:00Z is already the next day there.
    assert CAL.local_date(datetime(2024, 3, 4, 15, 59, 59, tzinfo=UTC)) == date(2024, 3, 4)
    assert CAL.local_date(datetime(2024, 3, 4, 16, 0, 0, tzinfo=UTC)) == date(2024, 3, 5)
    # a moment given in another zone means the same instant
    new_york = ZoneInfo("America/New_York")
    assert CAL.local_date(datetime(2024, 3, 4, 11, 0, tzinfo=new_york)) == date(2024, 3, 5)  # 16:00Z
    # the last moment of the year
    assert CAL.local_date(datetime(2024, 12, 31, 16, 0, tzinfo=UTC)) == date(2025, 1, 1)


def test_localize_keeps_the_instant():
    moment = datetime(2024, 3, 4, 16, 30, tzinfo=UTC)
    local = CAL.localize(moment)
    assert local == moment
    assert (local.date(), local.hour, local.minute) == (date(2024, 3, 5), 0, 30)


def test_start_and_end_of_day():
    start = CAL.start_of_day(date(2024, 3, 5))
    end = CAL.end_of_day(date(2024, 3, 5))
    assert start == datetime(2024, 3, 4, 16, 0, 0, tzinfo=UTC)      # 00:00 Shanghai
    assert end == datetime(2024, 3, 5, 15, 59, 59, tzinfo=UTC)      # 23:59:59 Shanghai
    assert end - start == timedelta(hours=23, minutes=59, seconds=59)
    assert CAL.local_date(start) == CAL.local_date(end) == date(2024, 3, 5)


@pytest.mark.parametrize("day, last", [
    (date(2024, 2, 1), date(2024, 2, 29)),
    (date(2023, 2, 28), date(2023, 2, 28)),
    (date(2024, 4, 10), date(2024, 4, 30)),
    (date(2024, 12, 31), date(2024, 12, 31)),
    (date(2100, 2, 5), date(2100, 2, 28)),   # 2100 is not a leap year
])
def test_end_of_month(day, last):
    assert CAL.end_of_month(day) == datetime(last.year, last.month, last.day, 23, 59, 59, tzinfo=SHANGHAI)


def test_months_later_keeps_the_local_wall_time():
    # gold reached 2026-03-01 10:30 local → valid to 2027-03-01 10:30 local (the standard program's example)
    reached = datetime(2026, 3, 1, 2, 30, tzinfo=UTC)
    later = CAL.months_later(reached, 12)
    assert later == datetime(2027, 3, 1, 10, 30, tzinfo=SHANGHAI)
    # 29 Feb 2024 at 08:15:07 local → 28 Feb 2025 08:15:07 local
    assert CAL.months_later(datetime(2024, 2, 29, 8, 15, 7, tzinfo=SHANGHAI), 12) == \
        datetime(2025, 2, 28, 8, 15, 7, tzinfo=SHANGHAI)
    # 2024-01-31 16:30Z is 1 Feb 00:30 local: one month later is 1 March 00:30 local (2024-02-29 16:30Z),
    # not 29 Feb (which counting in UTC from 31 January would give).
    assert CAL.months_later(datetime(2024, 1, 31, 16, 30, tzinfo=UTC), 1) == datetime(2024, 2, 29, 16, 30, tzinfo=UTC)


def test_days_later_end():
    # 2024-03-04 23:30 local + 30 days → end of 2024-04-03 local
    assert CAL.days_later_end(datetime(2024, 3, 4, 15, 30, tzinfo=UTC), 30) == \
        datetime(2024, 4, 3, 23, 59, 59, tzinfo=SHANGHAI)
    # 16:30Z is already the 5th locally → end of 2024-04-04
    assert CAL.days_later_end(datetime(2024, 3, 4, 16, 30, tzinfo=UTC), 30) == \
        datetime(2024, 4, 4, 23, 59, 59, tzinfo=SHANGHAI)


# ---------------------------------------------------------------- validity

def test_still_valid_up_to_the_end_of_the_last_second():
    valid_until = CAL.end_of_day(date(2024, 3, 5))          # 23:59:59 local
    assert is_still_valid(valid_until, valid_until - timedelta(days=3))
    assert is_still_valid(valid_until, valid_until)
    assert is_still_valid(valid_until, valid_until + timedelta(microseconds=999_999))  # still within :59
    assert not is_still_valid(valid_until, valid_until + timedelta(seconds=1))          # 00:00:00 next day
    assert not is_still_valid(valid_until, valid_until + timedelta(days=1))
    # the same instants given in UTC
    assert is_still_valid(valid_until, datetime(2024, 3, 5, 15, 59, 59, 500_000, tzinfo=UTC))
    assert not is_still_valid(valid_until, datetime(2024, 3, 5, 16, 0, 0, tzinfo=UTC))


# ---------------------------------------------------------------- clocks

def test_fixed_clock_returns_its_moment():
    at = datetime(2024, 3, 5, 1, 2, 3, tzinfo=UTC)
    assert FixedClock(at).now() == at


def test_system_clock_is_aware_and_current():
    before = datetime.now(UTC)
    now = SystemClock().now()
    after = datetime.now(UTC)
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= after
