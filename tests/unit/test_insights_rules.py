"""The reports' rules (domain/insights.py): the range of local days, the totals made from the ledger's sums,
breakage, the fen value of points and the programs' segment targets."""
from datetime import date, datetime

import pytest

from domain.insights import breakage_rate, point_totals, report_range, segment_target, share, value_fen


def test_the_range_is_local_days_inclusive(programs):
    span = report_range(programs["standard"].calendar, date(2026, 3, 2), date(2026, 3, 5))
    assert span.start == datetime.fromisoformat("2026-03-02T00:00:00+08:00")
    assert span.end == datetime.fromisoformat("2026-03-06T00:00:00+08:00")
    with pytest.raises(ValueError):
        report_range(programs["standard"].calendar, date(2026, 3, 5), date(2026, 3, 4))
    with pytest.raises(ValueError):
        report_range(programs["standard"].calendar, date(2025, 1, 1), date(2026, 1, 2))  # 367 days: 366 is the most


def test_totals_breakage_and_value():
    totals = point_totals({"ORDER": (300, 0), "REDEMPTION": (0, -200), "ORDER_OFFSET": (0, -100),
                           "MAKE_UP": (0, -10), "REFUND": (0, -30), "EXPIRY": (0, -45), "ADJUSTMENT": (5, -7)})
    assert (totals.issued, totals.spent, totals.expired) == (305, 310, 45)
    assert dict(totals.by_kind) == {"ORDER": 300, "REDEMPTION": -200, "ORDER_OFFSET": -100, "MAKE_UP": -10,
                                    "REFUND": -30, "EXPIRY": -45, "ADJUSTMENT": -2}
    assert breakage_rate(45, 300) == 0.15 and breakage_rate(10, 0) == 0.0
    assert share(1, 4) == 0.25 and share(0, 0) == 0.0


def test_fen_value_rounds_down(programs):
    assert value_fen(199, programs["standard"]) == 199 * 100 // programs["standard"].offset.points_per_yuan


def test_segment_targets(programs):
    fresh, standard = programs["fresh-grocery"], programs["standard"]
    important = ">= 20% (HIGH_VALUE + IMPORTANT_DEVELOP + IMPORTANT_RETAIN + IMPORTANT_LOST)"
    assert segment_target(fresh, "HIGH_VALUE") == important
    assert segment_target(fresh, "IMPORTANT_LOST") == important + "; <= 5% (IMPORTANT_LOST)"
    assert segment_target(fresh, "SLEEPING") is None and segment_target(fresh, "NEW") is None
    assert segment_target(standard, "HIGH_VALUE") is None
