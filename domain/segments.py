"""Lifecycle segments (RFM, seed 004 §十五): which segment a member is in, from three highs and lows.

Each measure is counted in whole local days back from today (days since = today − the local date):
- new: joined no more than `segments.new_days` days ago; decides alone, before the other three;
- R high: the last eligible order (`points.order.eligible_channels`, not fully refunded) paid no more than
  `segments.recent_days` days ago;
- F high: at least `segments.frequent_orders` such orders paid no more than 365 days ago;
- M high: their net spend (amount less refunds) in those 365 days is at least `segments.valuable_spend` fen.
A member with no order is low on all three: SLEEPING once no longer new.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.clock import LocalCalendar
from domain.vocabulary import Segment

YEAR_DAYS = 365

# (recency high, frequency high, monetary high) → segment; the only statement of the eight combinations
# (the segment job's SQL is generated from it).
BY_RFM: dict[tuple[bool, bool, bool], Segment] = {
    (True, True, True): Segment.HIGH_VALUE,
    (True, False, True): Segment.IMPORTANT_DEVELOP,
    (False, True, True): Segment.IMPORTANT_RETAIN,
    (False, False, True): Segment.IMPORTANT_LOST,
    (True, True, False): Segment.GENERAL_VALUE,
    (True, False, False): Segment.GENERAL_DEVELOP,
    (False, True, False): Segment.GENERAL_RETAIN,
    (False, False, False): Segment.SLEEPING,
}


def segment_for(new: bool, recent: bool, frequent: bool, valuable: bool) -> Segment:
    """NEW if `new`, else the combination of the three highs (True) and lows."""
    return Segment.NEW if new else BY_RFM[(recent, frequent, valuable)]


def since_start(calendar: LocalCalendar, today: date, days: int) -> datetime:
    """The first moment counted as "no more than `days` local days ago": the start of local day today − days."""
    return calendar.start_of_day(today - timedelta(days=days))
