"""`domain.clock.is_still_valid` in SQL, for the set-based reads and jobs: a lot or a coupon is valid
through the last whole second of its end. tests/integration/test_sql_twins.py checks that the two agree."""
from __future__ import annotations

from datetime import datetime

from domain.clock import validity_cutoff


def still_valid(end_column, now):
    """`end_column` (an expires_at or valid_until) has not passed at `now`: a datetime, or in a built-once
    statement (`persistence.database.Query`) a bind parameter given `validity_cutoff(now)`."""
    return end_column >= _cutoff(now)


def lapsed(end_column, now):
    """`end_column` has passed at `now`: the complement of `still_valid`."""
    return end_column < _cutoff(now)


def _cutoff(now):
    return validity_cutoff(now) if isinstance(now, datetime) else now
