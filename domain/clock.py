"""The one clock, and the local calendar the program's business days are counted in."""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware datetime."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


@dataclass(frozen=True)
class FixedClock:
    """A clock set to one moment: tests, and `X-Loyalty-Now` outside production."""

    at: datetime

    def now(self) -> datetime:
        return self.at


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (29 February → 28 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class LocalCalendar:
    """Business days, weeks and months in the program's time zone."""

    zone: ZoneInfo

    def localize(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def start_of_day(self, day: date) -> datetime:
        return datetime.combine(day, time.min, self.zone)

    def end_of_day(self, day: date) -> datetime:
        """The last second of a local day: the moment up to which something dated that day is valid."""
        return datetime.combine(day, time(23, 59, 59), self.zone)

    def end_of_month(self, day: date) -> datetime:
        return self.end_of_day(day.replace(day=calendar.monthrange(day.year, day.month)[1]))

    def months_later(self, moment: datetime, months: int) -> datetime:
        """The same local wall time `months` later."""
        local = moment.astimezone(self.zone)
        return datetime.combine(add_months(local.date(), months), local.timetz().replace(tzinfo=None), self.zone)

    def days_later_end(self, moment: datetime, days: int) -> datetime:
        """The end of the local day `days` after `moment`'s: "within N days", "valid N days"."""
        return self.end_of_day(self.local_date(moment) + timedelta(days=days))


EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2200, 1, 1, tzinfo=timezone.utc)


def within_service_range(moment: datetime) -> bool:
    """Instants the service takes from outside (an order's payment time, a test clock): 1970 to 2199.
    Nothing real lies outside, and near year 1 or 9999 a UTC offset or a year of validity overflows."""
    return moment.tzinfo is not None and EARLIEST <= moment < LATEST


def validity_cutoff(now: datetime) -> datetime:
    """What a validity's end (`valid_until`, `expires_at`: the last whole second it covers, as
    `LocalCalendar.end_of_day` gives) is compared with: `now` to the whole second, since validity ends
    only after that second. `persistence.validity` restates it in SQL."""
    return now.replace(microsecond=0)


def is_still_valid(valid_until: datetime, now: datetime) -> bool:
    """Valid through the last whole second of `valid_until`."""
    return validity_cutoff(now) <= valid_until
